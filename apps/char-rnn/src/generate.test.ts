// The committed checkpoint generates PyTorch's text character for character, with PyTorch's logits, on
// the TypeScript CPU backend, the WebAssembly SIMD one, the default one and WebGPU.
import { readFileSync, statSync } from 'node:fs';
import { type Backend, cpuBackend, createCpuBackend, defaultBackend, ready } from '@recurrent/nn';
import { readSafetensorsFile } from '@recurrent/nn/node';
import { createWebGPUBackend, type WebGPUBackend } from '@recurrent/nn/webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CharCheckpoint, loadCharModel } from './char-model.js';
import { encode, generate } from './generate.js';

/** model/generation.json, written by train.py. */
interface TorchGeneration {
  torch: string;
  vocab: string[];
  prompt: string;
  steps: number;
  tokens: number[];
  text: string;
  /** The first steps' logits, `(steps, vocab)`, row-major. */
  logits: { shape: [number, number]; data: number[] };
}

const CHECKPOINT = new URL('../model/char_lstm.safetensors', import.meta.url);
const torch = JSON.parse(
  readFileSync(new URL('../model/generation.json', import.meta.url), 'utf8'),
) as TorchGeneration;
const [logitSteps, vocabSize] = torch.logits.shape;

const load = async (): Promise<CharCheckpoint> => loadCharModel(await readSafetensorsFile(CHECKPOINT));

/** The worst element of |got − want| − (1e-5 + 1e-4·|want|) over the steps' logits (≤ 0: within tolerance). */
function worstExcess(got: Float32Array[]): { excess: number; step: number; index: number } {
  let worst = { excess: Number.NEGATIVE_INFINITY, step: -1, index: -1 };
  got.forEach((row, step) => {
    row.forEach((g, index) => {
      const want = torch.logits.data[step * vocabSize + index] as number;
      const excess = Math.abs(g - want) - (1e-5 + 1e-4 * Math.abs(want));
      if (!(excess <= worst.excess)) worst = { excess, step, index };
    });
  });
  return worst;
}

// WebGPU (SwiftShader where there is no GPU) must run under CI; elsewhere it is skipped, saying why.
async function probeWebGPU(): Promise<string | null> {
  try {
    (await createWebGPUBackend()).dispose();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
const gpuReason = await probeWebGPU();
const webgpuUnavailable = gpuReason && process.env.CI !== 'true' ? gpuReason : null;

async function createGpu(): Promise<WebGPUBackend> {
  try {
    return await createWebGPUBackend();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const ci = process.env.CI === 'true' ? ' (CI=true: the WebGPU tests must run, not skip)' : '';
    throw new Error(`no WebGPU backend${ci}: ${reason}`);
  }
}

const backends: { name: string; create: () => Promise<Backend | null> }[] = [
  { name: 'cpu (TypeScript)', create: async () => cpuBackend },
  { name: 'cpu (WebAssembly SIMD, createCpuBackend)', create: () => createCpuBackend() },
  // null: the model never moved, so it runs on defaultBackend() (WebAssembly SIMD in Node)
  { name: 'the default backend', create: async () => null },
];

describe('the committed checkpoint', () => {
  it('is under 1 MB and rebuilds Embedding → LSTM (2 layers) → Linear from its metadata', async () => {
    expect(statSync(CHECKPOINT).size).toBeLessThan(1_000_000);
    const { model, vocab } = await load();
    expect(vocab).toEqual(torch.vocab);
    expect(vocab.length).toBe(vocabSize);
    expect([model.embed.numEmbeddings, model.rnn.numLayers, model.head.outFeatures]).toEqual([
      vocabSize,
      2,
      vocabSize,
    ]);
    expect(model.training).toBe(false);
    expect(Object.keys(model.stateDict())).toEqual([
      'embed.weight',
      'rnn.weight_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.bias_hh_l0',
      'rnn.weight_ih_l1',
      'rnn.weight_hh_l1',
      'rnn.bias_ih_l1',
      'rnn.bias_hh_l1',
      'head.weight',
      'head.bias',
    ]);
  });

  it('holds a generation of at least 200 characters that is not one character repeated', () => {
    expect(torch.steps).toBeGreaterThanOrEqual(200);
    expect(torch.text).toHaveLength(torch.steps);
    expect(new Set(torch.text).size).toBeGreaterThan(10);
    expect(torch.tokens.map((t) => torch.vocab[t]).join('')).toBe(torch.text);
  });
});

describe.each(backends)('greedy generation on $name', ({ name, create }) => {
  let backend: Backend | null = null;
  beforeAll(async () => {
    await ready();
    backend = await create();
  });
  afterAll(() => {
    if (backend !== cpuBackend) backend?.dispose();
  });

  it("equals PyTorch's text character for character, and its first steps' logits", async () => {
    const { model, vocab } = await load();
    if (backend) model.to(backend);
    else expect(model.backend).toBe(defaultBackend());
    const got = await generate(model, vocab, torch.prompt, torch.steps, { logitSteps });
    expect(got.text).toBe(torch.text);
    expect(got.tokens).toEqual(torch.tokens);
    expect(got.logits).toHaveLength(logitSteps);
    const worst = worstExcess(got.logits);
    expect(worst.excess, `${name}: logits of step ${worst.step}, index ${worst.index}`).toBeLessThanOrEqual(
      0,
    );
  });
});

// One run, as generation on a software adapter (SwiftShader) takes ~150 ms a step.
describe.skipIf(webgpuUnavailable)('greedy generation on WebGPU', () => {
  let gpu: WebGPUBackend;
  beforeAll(async () => {
    gpu = await createGpu();
  });
  afterAll(() => gpu?.dispose());

  it("equals PyTorch's text and logits, reading back one index per step (and the logits where asked)", {
    timeout: 600_000,
  }, async () => {
    const { model, vocab } = await load();
    model.to(gpu);
    const counts: number[] = [];
    const inUse: number[] = [];
    let last = gpu.stats().readbacks;
    const got = await generate(model, vocab, torch.prompt, torch.steps, {
      logitSteps,
      onStep: () => {
        const now = gpu.stats();
        counts.push(now.readbacks - last);
        inUse.push(now.buffersInUse);
        last = now.readbacks;
      },
    });
    expect(got.text).toBe(torch.text);
    expect(got.tokens).toEqual(torch.tokens);
    const worst = worstExcess(got.logits);
    expect(worst.excess, `webgpu: logits of step ${worst.step}, index ${worst.index}`).toBeLessThanOrEqual(0);
    expect(counts).toEqual([
      ...new Array(logitSteps).fill(2),
      ...new Array(torch.steps - logitSteps).fill(1),
    ]);
    // after the first step (the parameters' copies), every step releases what it takes
    expect(new Set(inUse.slice(1)).size).toBe(1);
  });
});
if (webgpuUnavailable) it.skip(`webgpu: skipped, ${webgpuUnavailable}`, () => {});

describe('bad input', () => {
  it('names a prompt character outside the vocabulary and its position', async () => {
    const { model, vocab } = await load();
    await expect(generate(model, vocab, 'MEN\u00e9', 5)).rejects.toThrow(
      new RangeError(
        `the character "\u00e9" at 3 is not in the model's vocabulary (${vocabSize} characters)`,
      ),
    );
    expect(() => encode(vocab, 'a~')).toThrow('the character "~" at 1');
  });

  it('refuses an empty prompt and a bad step count', async () => {
    const { model, vocab } = await load();
    await expect(generate(model, vocab, '', 5)).rejects.toThrow(
      'generate: the prompt must have at least one character',
    );
    await expect(generate(model, vocab, 'A', 1.5)).rejects.toThrow(
      'generate: steps must be a non-negative integer, received 1.5',
    );
  });
});

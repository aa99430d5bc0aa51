// A generation loop on WebGPU: Embedding → LSTM → Linear → argmax stays on the GPU; a step reads back
// only the chosen token.
import { manualSeed, mul, type Tensor, tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { LSTM } from '../lstm.js';
import { Module } from '../module.js';
import { webgpuUnavailable } from '../testing/backends.js';
import { cpuBackend } from './cpu.js';
import { createWebGPUBackend, type WebGPUBackend } from './webgpu.js';

const suite = webgpuUnavailable ? describe.skip : describe;
if (webgpuUnavailable) it.skip(`webgpu generation tests: skipped, ${webgpuUnavailable}`, () => {});

const VOCAB = 23;

class CharModel extends Module {
  embed = this.registerModule('embed', new Embedding({ numEmbeddings: VOCAB, embeddingDim: 8 }));
  rnn = this.registerModule('rnn', new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2 }));
  head = this.registerModule('head', new Linear({ inFeatures: 16, outFeatures: VOCAB }));

  /** One step: a `(1)` int32 token → the `(1)` int32 greedy next token and the new state, on the backend. */
  step(token: Tensor<'int32'>, state: [Tensor, Tensor] | null): [Tensor<'int32'>, [Tensor, Tensor]] {
    const x = this.embed.forward(token); // (1, 8): an unbatched sequence of one step
    const [out, next] = this.rnn.forward(x, state);
    const logits = this.head.forward(out); // (1, VOCAB)
    const chosen = this.backend.argmax({ input: logits, dim: -1 });
    for (const t of [x, out, logits, ...(state ?? [])]) if (t.device !== 'cpu') t.dispose();
    return [chosen, next];
  }
}

/** 20 greedy steps from token 3, each token fed back as the next input with the state carried. */
async function generate(model: CharModel, onStep?: (token: number) => void): Promise<number[]> {
  // the first token is uploaded; every later one is the backend's argmax itself
  let token = model.backend.fromCpu(tensor([3], undefined, { dtype: 'int32' })) as Tensor<'int32'>;
  let state: [Tensor, Tensor] | null = null;
  const tokens: number[] = [];
  for (let i = 0; i < 20; i++) {
    const [next, nextState] = model.step(token, state);
    if (token.device !== 'cpu') token.dispose();
    token = next;
    state = nextState;
    const id = (await token.data())[0] as number;
    tokens.push(id);
    onStep?.(id);
  }
  return tokens;
}

suite('generation on WebGPU', () => {
  let gpu: WebGPUBackend;
  beforeAll(async () => {
    gpu = await createWebGPUBackend();
  });
  afterAll(() => gpu?.dispose());

  it('Embedding → LSTM → Linear → argmax: one readback per step (the token), the CPU run’s tokens', async () => {
    manualSeed(42);
    const model = new CharModel().eval();
    // larger weights than the init's, so the greedy loop does not settle on one token at once
    const dict = model.stateDict();
    model.loadStateDict(Object.fromEntries(Object.keys(dict).map((k) => [k, mul(dict[k] as Tensor, 3)])));
    const want = await generate(model.to(cpuBackend));
    model.to(gpu);
    const counts: number[] = [];
    const inUse: number[] = [];
    let last = gpu.stats().readbacks;
    const got = await generate(model, () => {
      const now = gpu.stats();
      counts.push(now.readbacks - last);
      inUse.push(now.buffersInUse);
      last = now.readbacks;
    });
    expect(counts).toEqual(new Array(20).fill(1));
    // after the first step (the parameters' copies), every step releases what it takes
    expect(new Set(inUse.slice(1)).size).toBe(1);
    expect(got).toEqual(want);
    expect(new Set(got).size).toBeGreaterThan(1); // the loop does go somewhere
  });

  it('keeps argmax on the GPU as an int32 tensor that Embedding takes back', async () => {
    const model = new CharModel().eval().to(gpu);
    const [token, [h, c]] = model.step(
      gpu.fromCpu(tensor([1], undefined, { dtype: 'int32' })) as Tensor<'int32'>,
      null,
    );
    expect([token.device, token.dtype, token.shape, gpu.owns(token)]).toEqual(['webgpu', 'int32', [1], true]);
    const y = model.embed.forward(token);
    expect([y.device, y.shape]).toEqual(['webgpu', [1, 8]]);
    const copy = gpu.clone(token);
    expect(copy.dtype).toBe('int32');
    expect([...(await copy.data())]).toEqual([...(await token.data())]);
    for (const t of [token, h, c, y, copy]) t.dispose();
  });
});

// One suite, every backend: PyTorch's fixtures, the reference on random configurations, chaining.
import { rnnReference } from '@recurrent/reference';
import { cat, Generator, manualSeed, narrow, randn, Tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose, decode, decodeStateDict, rnnFixtures } from '../../../fixtures/load.js';
import type { Backend } from './backend/types.js';
import { RNN } from './rnn.js';
import { RNNCell } from './rnn-cell.js';
import { rnnOptions } from './testing/arbitraries.js';
import { backendsUnderTest, webgpuUnavailable } from './testing/backends.js';

if (webgpuUnavailable) it.skip(`webgpu backend: skipped, ${webgpuUnavailable}`, () => {});

/** A CPU copy of a tensor of any backend. */
async function toCpu(t: Tensor): Promise<Tensor> {
  return Tensor.fromArray(await t.data(), t.shape);
}

describe.each(backendsUnderTest)('$name backend', ({ name, create }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await create();
  });
  // worst |got − want| per fixture, printed at the end for the GPU backends
  const worst = new Map<string, number>();
  afterAll(() => {
    const lines = [...worst].map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
    if (lines.length && name.startsWith('webgpu'))
      console.log(`worst |got − want| on ${name}:\n${lines.join('\n')}`);
    (backend as { dispose?: () => void } | undefined)?.dispose?.();
  });

  describe('nn.RNN equals PyTorch 1.13 on every fixture', () => {
    it.each(rnnFixtures.rnn.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      // replay PyTorch's draws (init, input, h0) so training-mode dropout masks come out the same
      manualSeed(c.seed);
      const rnn = new RNN(c.config);
      randn(c.input.shape);
      if (c.h0) randn(c.h0.shape);
      rnn.loadStateDict(decodeStateDict(c.stateDict));
      rnn.train(c.train).to(backend);
      const [output, hN] = rnn.forward(decode(c.input), c.h0 ? decode(c.h0) : undefined);
      expect(output.device).toBe(backend.name);
      const errors = [
        await assertClose(output, c.output, `${c.name} output`),
        await assertClose(hN, c.hN, `${c.name} hN`),
      ];
      worst.set(`rnn/${c.name}`, Math.max(...errors));
      output.dispose();
      hN.dispose();
    });
  });

  describe('nn.RNNCell equals PyTorch 1.13 on every fixture', () => {
    it.each(rnnFixtures.cell.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const cell = new RNNCell(c.config);
      cell.loadStateDict(decodeStateDict(c.stateDict));
      cell.to(backend);
      const h = cell.forward(decode(c.input), c.hx ? decode(c.hx) : undefined);
      worst.set(`cell/${c.name}`, await assertClose(h, c.h, c.name));
      h.dispose();
    });
  });

  it('equals the hand-written reference on random configurations', async () => {
    const config = rnnOptions({ inputSize: 13, hiddenSize: 13, numLayers: 3 });
    const run = fc.record({
      config,
      batch: fc.integer({ min: 1, max: 5 }),
      steps: fc.integer({ min: 1, max: 9 }),
      unbatched: fc.boolean(),
      withH0: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ config, batch, steps, unbatched, withH0, seed }) => {
        const generator = new Generator(seed);
        const rnn = new RNN({ ...config, generator }).eval();
        const D = config.bidirectional ? 2 : 1;
        const inputShape = unbatched
          ? [steps, config.inputSize]
          : config.batchFirst
            ? [batch, steps, config.inputSize]
            : [steps, batch, config.inputSize];
        const input = randn(inputShape, { generator });
        const h0 = withH0
          ? randn(
              unbatched
                ? [D * config.numLayers, config.hiddenSize]
                : [D * config.numLayers, batch, config.hiddenSize],
              {
                generator,
              },
            )
          : undefined;
        const [wantOut, wantH] = rnnReference(input, rnn.stateDict(), config, h0);
        const [output, hN] = rnn.to(backend).forward(input, h0);
        await assertClose(output, wantOut, 'output');
        await assertClose(hN, wantH, 'hN');
      }),
      { numRuns: 60 },
    );
  });

  it('takes its own outputs as inputs without a round trip through the CPU', async () => {
    manualSeed(7);
    const first = new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true }).eval().to(backend);
    const second = new RNN({ inputSize: 8, hiddenSize: 5 }).eval().to(backend);
    const x = randn([6, 2, 3]);
    const [o1] = first.forward(x);
    const [o2, h2] = second.forward(o1);
    expect(o1.device).toBe(backend.name);
    const [ref1] = rnnReference(x, first.stateDict(), { bidirectional: true });
    const [ref2, refH2] = rnnReference(ref1, second.stateDict());
    await assertClose(o2, ref2, 'chained output');
    await assertClose(h2, refH2, 'chained hN');
  });

  it('gives the sequence in chunks the same answer when hN is fed back as h0', async () => {
    manualSeed(11);
    const rnn = new RNN({ inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true }).eval().to(backend);
    const x = randn([3, 10, 4]);
    const [whole, wholeH] = rnn.forward(x);
    const parts: Tensor[] = [];
    let h: Tensor | undefined;
    for (const [start, len] of [
      [0, 4],
      [4, 1],
      [5, 5],
    ] as const) {
      const chunk = narrow(x, 1, start, len);
      const [o, hN] = rnn.forward(chunk, h);
      parts.push(o);
      h = hN;
    }
    await assertClose(cat(await Promise.all(parts.map(toCpu)), 1), whole, 'chunked output');
    await assertClose(h as Tensor, wholeH, 'chunked hN');
  });
});

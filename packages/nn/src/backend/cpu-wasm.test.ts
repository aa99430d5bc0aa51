// The WASM CPU backend against the plain TypeScript one (the oracle) on shapes the PyTorch fixtures
// are too small for: the M = 1 row kernel (H ≥ 32), partial tiles, multi-block depths, both layouts.
import { createWasmPool, Generator, initWasm, randn, Tensor, type WasmPool } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose } from '../../../../fixtures/load.js';
import { RNN } from '../rnn.js';
import { rnnOptions } from '../testing/arbitraries.js';
import { cpuBackend } from './cpu.js';
import { wasmCpuBackend } from './cpu-wasm.js';
import type { Backend } from './types.js';

let pool: WasmPool | null = null;
afterAll(() => pool?.dispose());

const variants: { name: string; create: () => Promise<Backend> }[] = [
  {
    name: 'one thread',
    create: async () => {
      const kernels = await initWasm();
      if (!kernels) throw new Error('this Node has no WebAssembly SIMD');
      return wasmCpuBackend(kernels, { minFlops: 0 });
    },
  },
  {
    name: 'two threads',
    create: async () => {
      pool = await createWasmPool(2);
      if (!pool) throw new Error('this Node has no WebAssembly threads');
      return wasmCpuBackend(pool, { minFlops: 0 });
    },
  },
];

describe.each(variants)('wasmCpuBackend ($name) equals cpuBackend', ({ create }) => {
  let wasm: Backend;
  beforeAll(async () => {
    wasm = await create();
  });

  it('on random larger configurations', async () => {
    const run = fc.record({
      config: rnnOptions({ inputSize: 40, hiddenSize: 70, numLayers: 2 }),
      batch: fc.integer({ min: 1, max: 13 }),
      steps: fc.integer({ min: 1, max: 12 }),
      withH0: fc.boolean(),
      seed: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ batch, steps, withH0, seed, config }) => {
        const generator = new Generator(seed);
        const rnn = new RNN({ ...config, generator }).eval();
        const D = config.bidirectional ? 2 : 1;
        const shape = config.batchFirst ? [batch, steps, config.inputSize] : [steps, batch, config.inputSize];
        const x = randn(shape, { generator });
        const h0 = withH0
          ? randn([D * config.numLayers, batch, config.hiddenSize], { generator })
          : undefined;
        const [wantOut, wantH] = rnn.to(cpuBackend).forward(x, h0);
        const [out, hN] = rnn.to(wasm).forward(x, h0);
        await assertClose(out, wantOut, 'output');
        await assertClose(hN, wantH, 'hN');
      }),
      { numRuns: 80 },
    );
  });

  it('on a batch of one with a wide hidden state (the 1×32 row kernel) over a long sequence', async () => {
    const generator = new Generator(3);
    const rnn = new RNN({ inputSize: 20, hiddenSize: 100, generator }).eval();
    const x = randn([300, 1, 20], { generator });
    const [wantOut, wantH] = rnn.to(cpuBackend).forward(x);
    const [out, hN] = rnn.to(wasm).forward(x);
    await assertClose(out, wantOut, 'output');
    await assertClose(hN, wantH, 'hN');
  });

  it('with inputs wider than one packed depth block (K > 256) and NaN/Inf in the input', async () => {
    const generator = new Generator(4);
    const rnn = new RNN({ inputSize: 300, hiddenSize: 40, batchFirst: true, generator }).eval();
    const data = randn([5, 3, 300], { generator }).dataSync().slice();
    data[7] = Number.NaN;
    data[1200] = Number.POSITIVE_INFINITY;
    const x = Tensor.fromArray(data, [5, 3, 300]);
    const [wantOut, wantH] = rnn.to(cpuBackend).forward(x);
    const [out, hN] = rnn.to(wasm).forward(x);
    await assertClose(out, wantOut, 'output');
    await assertClose(hN, wantH, 'hN');
  });

  it('returns tensors that later forwards do not overwrite', async () => {
    const generator = new Generator(5);
    const rnn = new RNN({ inputSize: 8, hiddenSize: 16, generator }).eval().to(wasm);
    const [first] = rnn.forward(randn([10, 4, 8], { generator }));
    const copy = first.dataSync().slice();
    rnn.forward(randn([50, 4, 8], { generator }));
    expect(first.dataSync()).toEqual(copy);
    expect(first.device).toBe('cpu');
  });
});

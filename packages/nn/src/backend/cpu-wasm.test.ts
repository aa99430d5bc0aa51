// The WASM CPU backend against the plain TypeScript one (the oracle) on shapes the PyTorch fixtures
// are too small for: the row kernel (N = 1, H ≥ 32), partial tiles, multi-block depths, rows split over
// threads, every cell; then what it keeps between forwards and what dispose() does.
import { createWasmPool, initWasm, type Job, type WasmExecutor } from '@recurrent/kernels-wasm';
import { Generator, randn, Tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose } from '../../../../fixtures/load.js';
import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import { RNN } from '../rnn.js';
import { rnnOptions } from '../testing/arbitraries.js';
import { cpuBackend } from './cpu.js';
import { type WasmCpuBackend, wasmCpuBackend } from './cpu-wasm.js';

async function oneThread(): Promise<WasmExecutor> {
  const kernels = await initWasm();
  if (!kernels) throw new Error('this Node has no WebAssembly SIMD');
  return kernels;
}

async function twoThreads(): Promise<WasmExecutor> {
  const pool = await createWasmPool(2);
  if (!pool) throw new Error('this Node has no WebAssembly threads');
  return pool;
}

const variants = [
  { name: 'one thread', executor: oneThread },
  { name: 'two threads', executor: twoThreads },
];

/** An executor that counts the pack jobs it runs (the weights packed into the kernels' memory). */
class CountingExecutor implements WasmExecutor {
  packs = 0;
  readonly inner: WasmExecutor;
  constructor(inner: WasmExecutor) {
    this.inner = inner;
  }
  get threads() {
    return this.inner.threads;
  }
  get arena() {
    return this.inner.arena;
  }
  get disposed() {
    return this.inner.disposed;
  }
  run(jobs: readonly Job[]): void {
    this.packs += jobs.filter((j) => j.kernel === 'packBlocks' || j.kernel === 'packPanels').length;
    this.inner.run(jobs);
  }
  dispose(): void {
    this.inner.dispose();
  }
}

type Cell = 'RNN' | 'LSTM' | 'GRU';

/** One forward of a module of `cell` with its state (zeros when `withState` is false): output and states. */
function forward(m: RNN | LSTM | GRU, x: Tensor, withState: boolean, seed: number): Tensor[] {
  const g = new Generator(seed);
  const D = m.bidirectional ? 2 : 1;
  const batch = x.shape[m.batchFirst ? 0 : 1] as number;
  if (m instanceof LSTM) {
    const P = m.projSize || m.hiddenSize;
    const state = withState
      ? ([
          randn([D * m.numLayers, batch, P], { generator: g }),
          randn([D * m.numLayers, batch, m.hiddenSize], { generator: g }),
        ] as [Tensor, Tensor])
      : undefined;
    const [out, [h, c]] = m.forward(x, state);
    return [out, h, c];
  }
  const h0 = withState ? randn([D * m.numLayers, batch, m.hiddenSize], { generator: g }) : undefined;
  return m.forward(x, h0);
}

function build(cell: Cell, options: ConstructorParameters<typeof LSTM>[0], projSize = 0): RNN | LSTM | GRU {
  if (cell === 'LSTM') return new LSTM({ ...options, projSize });
  if (cell === 'GRU') return new GRU(options);
  return new RNN(options);
}

async function expectSame(m: RNN | LSTM | GRU, wasm: WasmCpuBackend, x: Tensor, withState = false) {
  const want = forward(m.to(cpuBackend), x, withState, 7);
  const got = forward(m.to(wasm), x, withState, 7);
  for (const [i, t] of got.entries())
    await assertClose(t, want[i] as Tensor, ['output', 'hN', 'cN'][i] as string);
}

describe.each(variants)('wasmCpuBackend ($name) equals cpuBackend', ({ executor }) => {
  let wasm: WasmCpuBackend;
  beforeAll(async () => {
    wasm = wasmCpuBackend(await executor(), { minFlops: 0 });
  });
  afterAll(() => wasm.dispose());

  it.each(['RNN', 'LSTM', 'GRU'] as const)('%s on random larger configurations', async (cell) => {
    const run = fc.record({
      config: rnnOptions({ inputSize: 40, hiddenSize: 70, numLayers: 2 }),
      batch: fc.integer({ min: 1, max: 13 }),
      steps: fc.integer({ min: 1, max: 12 }),
      projSize: fc.integer({ min: 0, max: 20 }),
      withState: fc.boolean(),
      seed: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ batch, steps, withState, seed, config, projSize }) => {
        const generator = new Generator(seed);
        const proj = projSize < config.hiddenSize ? projSize : 0;
        const { nonlinearity, ...rest } = config;
        const options = cell === 'RNN' ? { ...config, generator } : { ...rest, generator };
        const m = build(cell, options, proj).eval();
        const shape = config.batchFirst ? [batch, steps, config.inputSize] : [steps, batch, config.inputSize];
        await expectSame(m, wasm, randn(shape, { generator }), withState);
      }),
      { numRuns: cell === 'RNN' ? 60 : 40 },
    );
  });

  it.each(['RNN', 'LSTM', 'GRU'] as const)(
    '%s on a batch of one with a wide hidden state (the row kernel) over a long sequence',
    async (cell) => {
      const generator = new Generator(3);
      const m = build(cell, { inputSize: 20, hiddenSize: 100, generator }, 0).eval();
      await expectSame(m, wasm, randn([300, 1, 20], { generator }));
    },
  );

  it('LSTM with a projection, two layers, bidirectional, a batch split over threads', async () => {
    const generator = new Generator(8);
    const options = { inputSize: 24, hiddenSize: 67, numLayers: 2, bidirectional: true, generator };
    const m = build('LSTM', options, 13).eval();
    await expectSame(m, wasm, randn([30, 16, 24], { generator }), true);
    await expectSame(m, wasm, randn([30, 1, 24], { generator }), true);
  });

  it('with inputs wider than one packed depth block (K > 256) and NaN/Inf in the input', async () => {
    for (const cell of ['RNN', 'LSTM', 'GRU'] as const) {
      const generator = new Generator(4);
      const m = build(cell, { inputSize: 300, hiddenSize: 40, batchFirst: true, generator }).eval();
      const data = randn([5, 3, 300], { generator }).dataSync().slice();
      data[7] = Number.NaN;
      data[1200] = Number.POSITIVE_INFINITY;
      await expectSame(m, wasm, Tensor.fromArray(data, [5, 3, 300]));
    }
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

describe('wasmCpuBackend keeps prepared weights', () => {
  it('packs each parameter once, not per forward, and again only when it is reloaded', async () => {
    const ex = new CountingExecutor(await oneThread());
    const wasm = wasmCpuBackend(ex, { minFlops: 0 });
    const generator = new Generator(9);
    const lstm = new LSTM({ inputSize: 6, hiddenSize: 12, numLayers: 2, bidirectional: true, projSize: 5 });
    lstm.eval().to(wasm);
    const x = randn([7, 3, 6], { generator });
    lstm.forward(x);
    // per layer-direction: W_ihᵀ, W_hhᵀ, W_hrᵀ
    expect(ex.packs).toBe(2 * 2 * 3);
    const held = ex.arena.stats().blocks;
    lstm.forward(x);
    lstm.forward(randn([4, 3, 6], { generator }));
    expect(ex.packs).toBe(12);
    expect(ex.arena.stats().blocks).toBe(held); // each forward's scratch is released
    lstm.forward(randn([4, 1, 6], { generator })); // a batch of one reads W_hh and W_hr in row panels
    expect(ex.packs).toBe(12 + 2 * 2 * 2);
    lstm.loadStateDict(
      new LSTM({ inputSize: 6, hiddenSize: 12, numLayers: 2, bidirectional: true, projSize: 5 }).stateDict(),
    );
    lstm.forward(x);
    expect(ex.packs).toBe(20 + 12);
    wasm.dispose();
    expect(ex.arena.stats().blocks).toBe(0);
  });
});

describe.each(variants)('wasmCpuBackend ($name) contract', ({ executor }) => {
  it('names its device and threads, and owns CPU tensors', async () => {
    const ex = await executor();
    const wasm = wasmCpuBackend(ex);
    expect(wasm.device).toBe('cpu');
    expect(wasm.threads).toBe(ex.threads);
    expect(wasm.label).toBe(
      ex.threads === 1 ? 'cpu (WebAssembly SIMD, 1 thread)' : 'cpu (WebAssembly SIMD, 2 threads)',
    );
    expect(wasm.owns(randn([2]))).toBe(true);
    wasm.dispose();
  });

  it('throws at once on every forward after dispose(), whatever its size, and disposes once', async () => {
    const ex = await executor();
    const wasm = wasmCpuBackend(ex);
    const rnn = new RNN({ inputSize: 8, hiddenSize: 64, generator: new Generator(1) }).eval().to(wasm);
    const big = randn([40, 9, 8]);
    rnn.forward(big);
    expect(wasm.disposed).toBe(false);
    wasm.dispose();
    wasm.dispose();
    expect(wasm.disposed).toBe(true);
    expect(ex.disposed).toBe(true); // the pool's workers are stopped
    const message = 'wasmCpuBackend: backend disposed; create a new one (createCpuBackend) to run again';
    expect(() => rnn.forward(big)).toThrow(message);
    expect(() => rnn.forward(randn([1, 1, 8]))).toThrow(message); // below minFlops too
  });
});

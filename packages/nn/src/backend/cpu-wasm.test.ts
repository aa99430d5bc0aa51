// The WASM CPU backend against the plain TypeScript one (the oracle) on shapes the PyTorch fixtures
// are too small for: the row kernel (N = 1, H ≥ 32), partial tiles, multi-block depths, rows split over
// threads, every cell; then what it keeps between forwards and what dispose() does.
import { createWasmPool, initWasm, type Job, type WasmExecutor } from '@recurrent/kernels-wasm';
import { Generator, randn, Tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose } from '../../../../fixtures/load.js';
import { enableRelaxedSimd } from '../../../kernels-wasm/src/testing/relaxed-simd.js';
import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import { PackedSequence, packPaddedSequence, padPackedSequence } from '../packed-sequence.js';
import { RNN } from '../rnn.js';
import { rnnOptions } from '../testing/arbitraries.js';
import { cpuBackend } from './cpu.js';
import { type WasmCpuBackend, wasmCpuBackend } from './cpu-wasm.js';
import { splitRowsByWork } from './cpu-wasm-plan.js';

// the relaxed-SIMD build (fused multiply-adds) where this engine has it, and the plain one
enableRelaxedSimd();

async function oneThread(): Promise<WasmExecutor> {
  const kernels = await initWasm();
  if (!kernels) throw new Error('this Node has no WebAssembly SIMD');
  return kernels;
}

async function plainSimd(): Promise<WasmExecutor> {
  const kernels = await initWasm({ fma: false });
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
  { name: 'one thread, plain SIMD', executor: plainSimd },
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
  get fma() {
    return this.inner.fma;
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
  renew(): CountingExecutor {
    return new CountingExecutor(this.inner.renew());
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
    const kernels = ex.fma ? 'WebAssembly SIMD + FMA' : 'WebAssembly SIMD';
    expect(wasm.label).toBe(`cpu (${kernels}, ${ex.threads === 1 ? '1 thread' : '2 threads'})`);
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

describe.each(variants)('wasmCpuBackend ($name) in bounded memory', ({ executor }) => {
  type Options = ConstructorParameters<typeof LSTM>[0];
  const cases: { cell: Cell; options: Options; proj?: number; shape: number[] }[] = [
    {
      cell: 'RNN',
      options: { inputSize: 12, hiddenSize: 20, numLayers: 2, bidirectional: true },
      shape: [203, 3, 12],
    },
    {
      cell: 'LSTM',
      options: { inputSize: 9, hiddenSize: 24, numLayers: 2, batchFirst: true },
      shape: [2, 157, 9],
    },
    {
      cell: 'LSTM',
      options: { inputSize: 7, hiddenSize: 19, bidirectional: true, batchFirst: true },
      proj: 5,
      shape: [3, 130, 7],
    },
    {
      cell: 'GRU',
      options: { inputSize: 10, hiddenSize: 33, numLayers: 3, bidirectional: true },
      shape: [99, 2, 10],
    },
    { cell: 'GRU', options: { inputSize: 6, hiddenSize: 40 }, shape: [300, 1, 6] },
  ];

  it.each(cases)('$cell $shape in time chunks gives exactly the whole-sequence result', async (k) => {
    const whole = wasmCpuBackend(await executor(), { minFlops: 0 });
    // 24 KiB: a few steps per chunk, dozens of chunks per layer-direction
    const chunked = wasmCpuBackend(await executor(), { minFlops: 0, chunkBytes: 24 * 1024 });
    const generator = new Generator(11);
    const m = build(k.cell, { ...k.options, generator }, k.proj).eval();
    const x = randn(k.shape, { generator });
    const want = forward(m.to(whole), x, true, 3);
    const ex = chunked.executor;
    if (!ex) throw new Error('no executor');
    ex.arena.resetPeak();
    const got = forward(m.to(chunked), x, true, 3);
    for (const [i, t] of got.entries()) expect(t.dataSync()).toEqual((want[i] as Tensor).dataSync());
    // beyond the prepared parameters (what stays), never more than chunkBytes at once
    const { peakBytes, bytes } = ex.arena.stats();
    expect(peakBytes - bytes).toBeLessThanOrEqual(24 * 1024);
    whole.dispose();
    chunked.dispose();
  });

  it('runs a long sequence with the memory bounded by chunkBytes, not by its length', async () => {
    const wasm = wasmCpuBackend(await executor(), { chunkBytes: 1 << 20 });
    const generator = new Generator(12);
    const lstm = new LSTM({ inputSize: 16, hiddenSize: 64, generator }).eval().to(wasm);
    const x = randn([20_000, 1, 16], { generator }); // 20 MiB of gate inputs if run whole
    const ex = wasm.executor;
    if (!ex) throw new Error('no executor');
    ex.arena.resetPeak();
    const [out, [hN, cN]] = lstm.forward(x);
    expect(out.shape).toEqual([20_000, 1, 64]);
    const { peakBytes, bytes, capacity } = ex.arena.stats();
    expect(peakBytes - bytes).toBeLessThanOrEqual(1 << 20);
    expect(capacity).toBeLessThan(4 << 20);
    // the same numbers as the TypeScript backend, the last step included
    const [wantOut, [wantH, wantC]] = lstm.to(cpuBackend).forward(x);
    await assertClose(out, wantOut, 'output');
    await assertClose(hN, wantH, 'hN');
    await assertClose(cN, wantC, 'cN');
    wasm.dispose();
  });

  it('refuses at once a forward that cannot fit its memory limit even one step at a time', async () => {
    const wasm = wasmCpuBackend(await executor(), { minFlops: 0, memoryLimit: 1 << 20 });
    const ex = wasm.executor;
    if (!ex) throw new Error('no executor');
    const gru = new GRU({ inputSize: 30, hiddenSize: 50, generator: new Generator(1) }).eval().to(wasm);
    gru.forward(randn([4, 2, 30])); // fits
    const before = ex.arena.stats();
    // one step of 2000 batch rows: inputs, gate inputs and outputs of 2000 · (30 + 150 + 50) floats
    expect(() => gru.forward(randn([3, 2000, 30]))).toThrow(
      new RegExp(
        '^wasmCpuBackend: a forward of T=3 steps and N=2000 batch rows needs at least [\\d.]+ MiB ' +
          '\\([\\d,]+ bytes\\) of WebAssembly memory even one time step at a time \\(1\\.75 MiB ' +
          '\\(1,840,000 bytes\\) per step, .*\\), more than the 1\\.00 MiB \\(1,048,576 bytes\\) a ' +
          'wasm32 memory can hold; use cpuBackend or split the batch$',
      ),
    );
    expect(ex.arena.stats()).toEqual(before); // nothing allocated, the memory not grown
    gru.forward(randn([4, 2, 30])); // and it still works
    wasm.dispose();
  });

  it('gives the memory back after a forward that grew it past releaseBytes', async () => {
    const wasm = wasmCpuBackend(await executor(), { minFlops: 0, releaseBytes: 4 << 20 });
    const generator = new Generator(13);
    const rnn = new RNN({ inputSize: 32, hiddenSize: 48, numLayers: 2, generator }).eval().to(wasm);
    const small = randn([10, 2, 32], { generator });
    const [want] = rnn.to(cpuBackend).forward(small);
    rnn.to(wasm);
    await assertClose(rnn.forward(small)[0], want, 'output');
    const first = wasm.executor;
    if (!first) throw new Error('no executor');
    const kept = first.arena.stats().capacity;
    rnn.forward(randn([2000, 8, 32], { generator })); // about 10 MiB of buffers
    expect(first.arena.stats().capacity).toBeGreaterThan(kept + (4 << 20));
    expect(wasm.executor).toBeNull(); // dropped…
    expect(first.disposed).toBe(true); // …with a pool's workers
    await assertClose(rnn.forward(small)[0], want, 'output'); // a fresh executor, parameters prepared again
    const fresh = wasm.executor;
    expect(fresh).not.toBeNull();
    expect(fresh).not.toBe(first);
    expect(fresh?.threads).toBe(first.threads);
    expect(fresh?.arena.stats().capacity).toBeLessThanOrEqual(kept);
    rnn.forward(small);
    expect(wasm.executor).toBe(fresh); // small forwards keep it
    wasm.dispose();
    expect(fresh?.disposed).toBe(true);
    expect(wasm.executor).toBeNull();
  });
});

/** A packed forward of `m` over the first `lengths[b]` steps of each sequence b of `x` `(T, N, I)`. */
function packedForward(m: RNN | LSTM | GRU, x: Tensor, lengths: number[], withState: boolean, seed: number) {
  const packed = packPaddedSequence(x, lengths, { enforceSorted: false });
  const g = new Generator(seed);
  const D = m.bidirectional ? 2 : 1;
  const P = m instanceof LSTM ? m.projSize || m.hiddenSize : m.hiddenSize;
  const h0 = withState ? randn([D * m.numLayers, lengths.length, P], { generator: g }) : null;
  if (m instanceof LSTM) {
    const c0 = randn([D * m.numLayers, lengths.length, m.hiddenSize], { generator: g });
    const [out, [h, c]] = m.forward(packed, h0 ? [h0, c0] : undefined);
    return { out, h0, c0: h0 ? c0 : null, results: [out.data, h, c] };
  }
  const [out, h] = m.forward(packed, h0);
  return { out, h0, c0: null, results: [out.data, h] };
}

/** Rows [from, to) of dimension `dim` of a 3-d CPU tensor. */
function slice3(t: Tensor, dim: 0 | 1, from: number, to: number): Tensor {
  const [a, b, c] = t.shape as [number, number, number];
  const src = t.dataSync();
  const shape = dim === 0 ? [to - from, b, c] : [a, to - from, c];
  const out = new Float32Array((shape[0] as number) * (shape[1] as number) * c);
  let k = 0;
  for (let i = 0; i < (shape[0] as number); i++)
    for (let j = 0; j < (shape[1] as number); j++) {
      const at = ((dim === 0 ? i + from : i) * b + (dim === 1 ? j + from : j)) * c;
      out.set(src.subarray(at, at + c), k);
      k += c;
    }
  return Tensor.fromArray(out, shape);
}

const PACKED_CELLS = ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'] as const;
type PackedCell = (typeof PACKED_CELLS)[number];

function buildPacked(
  cell: PackedCell,
  options: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean },
  projSize: number,
  dropout: number,
  generator: Generator,
): RNN | LSTM | GRU {
  const { inputSize, hiddenSize, numLayers, bidirectional } = options;
  const o = { inputSize, hiddenSize, numLayers, bidirectional, dropout, generator };
  if (cell === 'LSTM') return new LSTM({ ...o, projSize: projSize < options.hiddenSize ? projSize : 0 });
  if (cell === 'GRU') return new GRU(o);
  return new RNN({ ...o, nonlinearity: cell === 'RNN_RELU' ? 'relu' : 'tanh' });
}

/** Lengths in [1, T] with T itself among them (so the padded input is all used), in no particular order. */
const lengthsOf = (T: number, batch: number) =>
  fc.array(fc.integer({ min: 1, max: T }), { minLength: batch, maxLength: batch }).map((l) => {
    l[l.length > 1 ? 1 : 0] = T;
    return l;
  });

describe.each(variants)('wasmCpuBackend ($name) on packed sequences', ({ executor }) => {
  let wasm: WasmCpuBackend;
  let chunked: WasmCpuBackend;
  beforeAll(async () => {
    wasm = wasmCpuBackend(await executor(), { minFlops: 0 });
    // 16 KiB: a few steps per chunk
    chunked = wasmCpuBackend(await executor(), { minFlops: 0, chunkBytes: 16 * 1024 });
  });
  afterAll(() => {
    wasm.dispose();
    chunked.dispose();
  });

  const run = fc
    .record({
      cell: fc.constantFrom(...PACKED_CELLS),
      inputSize: fc.integer({ min: 1, max: 24 }),
      hiddenSize: fc.integer({ min: 1, max: 40 }),
      numLayers: fc.integer({ min: 1, max: 3 }),
      bidirectional: fc.boolean(),
      projSize: fc.integer({ min: 0, max: 12 }),
      withState: fc.boolean(),
      dropout: fc.constantFrom(0, 0, 0.3),
      T: fc.integer({ min: 1, max: 14 }),
      batch: fc.integer({ min: 1, max: 11 }),
      seed: fc.nat(),
    })
    .chain((k) => lengthsOf(k.T, k.batch).map((lengths) => ({ ...k, lengths })));

  it('equals cpuBackend on random packed batches (every cell, 1–3 layers, both directions, dropout)', async () => {
    await fc.assert(
      fc.asyncProperty(run, async (k) => {
        const generator = new Generator(k.seed);
        const m = buildPacked(k.cell, k, k.projSize, k.dropout, generator);
        // training with dropout: the same seed draws the same masks on both backends
        m.train(k.dropout > 0);
        const x = randn([k.T, k.batch, k.inputSize], { generator });
        const forwardOn = (b: WasmCpuBackend | typeof cpuBackend) => {
          generator.manualSeed(k.seed + 1);
          return packedForward(m.to(b), x, k.lengths, k.withState, 5).results;
        };
        const want = forwardOn(cpuBackend);
        for (const backend of [wasm, chunked]) {
          const got = forwardOn(backend);
          for (const [i, t] of got.entries())
            await assertClose(t, want[i] as Tensor, ['output', 'hN', 'cN'][i] as string);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('equals running each sequence alone (rectangular), and chunks change no bit', async () => {
    await fc.assert(
      fc.asyncProperty(run, async (k) => {
        const generator = new Generator(k.seed);
        const m = buildPacked(k.cell, k, k.projSize, 0, generator).eval().to(wasm);
        const x = randn([k.T, k.batch, k.inputSize], { generator });
        const { out, h0, c0, results } = packedForward(m, x, k.lengths, true, 5);
        const [padded] = padPackedSequence(out);
        for (const [b, length] of k.lengths.entries()) {
          const xb = slice3(x, 1, b, b + 1);
          const alone = slice3(xb, 0, 0, length);
          const hb = slice3(h0 as Tensor, 1, b, b + 1);
          const [o, h, c] =
            m instanceof LSTM
              ? (([o, [h, c]]) => [o, h, c])(m.forward(alone, [hb, slice3(c0 as Tensor, 1, b, b + 1)]))
              : m.forward(alone, hb);
          await assertClose(slice3(slice3(padded, 1, b, b + 1), 0, 0, length), o as Tensor, `output ${b}`);
          await assertClose(slice3(results[1] as Tensor, 1, b, b + 1), h as Tensor, `hN ${b}`);
          if (c) await assertClose(slice3(results[2] as Tensor, 1, b, b + 1), c, `cN ${b}`);
        }
        // in time chunks: the very same numbers
        const again = packedForward(m.to(chunked), x, k.lengths, true, 5).results;
        for (const [i, t] of again.entries()) expect(t.dataSync()).toEqual((results[i] as Tensor).dataSync());
      }),
      { numRuns: 25 },
    );
  });

  it.each(PACKED_CELLS)('%s on a batch large enough to split over threads, in chunks too', async (cell) => {
    // one direction: its rows split over the threads; two: the directions side by side
    for (const bidirectional of [false, true]) {
      const generator = new Generator(21);
      const options = { inputSize: 32, hiddenSize: 64, numLayers: 2, bidirectional };
      const m = buildPacked(cell, options, 24, 0.25, generator).train();
      const lengths = Array.from({ length: 19 }, (_, b) => 8 + ((b * 7) % 33));
      const x = randn([40, 19, 32], { generator });
      const forwardOn = (b: WasmCpuBackend | typeof cpuBackend) => {
        generator.manualSeed(4);
        return packedForward(m.to(b), x, lengths, true, 6).results;
      };
      const want = forwardOn(cpuBackend);
      const got = forwardOn(wasm);
      const small = forwardOn(chunked);
      for (const [i, t] of got.entries()) {
        await assertClose(t, want[i] as Tensor, ['output', 'hN', 'cN'][i] as string);
        expect((small[i] as Tensor).dataSync()).toEqual(t.dataSync());
      }
    }
  });

  it('keeps the chunked memory within chunkBytes and the packed output a PackedSequence', async () => {
    const generator = new Generator(22);
    const lstm = new LSTM({ inputSize: 8, hiddenSize: 24, generator }).eval().to(chunked);
    const lengths = [300, 120, 299, 7];
    const x = randn([300, 4, 8], { generator });
    const ex = chunked.executor;
    if (!ex) throw new Error('no executor');
    ex.arena.resetPeak();
    const [out, [hN]] = lstm.forward(packPaddedSequence(x, lengths, { enforceSorted: false }));
    expect(out).toBeInstanceOf(PackedSequence);
    expect(out.data.shape).toEqual([726, 24]);
    const { peakBytes, bytes } = ex.arena.stats();
    expect(peakBytes - bytes).toBeLessThanOrEqual(16 * 1024);
    const [wantOut, [wantH]] = lstm
      .to(cpuBackend)
      .forward(packPaddedSequence(x, lengths, { enforceSorted: false }));
    await assertClose(out.data, wantOut.data, 'output');
    await assertClose(hN, wantH, 'hN');
  });
});

describe('splitRowsByWork', () => {
  it('gives the longest rows a smaller share, in whole tiles, covering every row once', () => {
    // all 16 rows run steps 0–3, rows 0–7 steps 4–7, rows 0–3 steps 8–15: rows 0–3 hold half the work
    const sizes = Int32Array.from([...Array(4).fill(16), ...Array(4).fill(8), ...Array(8).fill(4)]);
    expect(splitRowsByWork(sizes, 0, 16, 2)).toEqual([
      [0, 4],
      [4, 16],
    ]);
    // the last 8 steps alone: only rows 0–3 run them, one share
    expect(splitRowsByWork(sizes, 8, 8, 2)).toEqual([[0, 16]]);
    expect(splitRowsByWork(sizes, 0, 16, 1)).toEqual([[0, 16]]);
    expect(splitRowsByWork(Int32Array.from([12, 12, 12]), 0, 3, 3)).toEqual([
      [0, 4],
      [4, 8],
      [8, 12],
    ]);
  });
});

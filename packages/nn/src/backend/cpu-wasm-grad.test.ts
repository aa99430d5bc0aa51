// The WASM backend's training forward and backpropagation through time against cpuBackend's
// (cpu-grad.ts, the oracle): every gradient and the forward's results, on a grid of configurations.
import { createWasmPool, initWasm, type WasmExecutor } from '@recurrent/kernels-wasm';
import { cpuData, Generator, randn, type Tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableRelaxedSimd } from '../../../kernels-wasm/src/testing/relaxed-simd.js';
import { cellSpec, type RnnMode } from '../cell.js';
import { cpuBackend } from './cpu.js';
import { type WasmCpuBackend, wasmCpuBackend } from './cpu-wasm.js';
import type { RnnArgs, RnnDirectionWeights, RnnGradOutputs, RnnGrads } from './types.js';

enableRelaxedSimd();

const variants = [
  { name: 'one thread', executor: () => initWasm() },
  { name: 'two threads', executor: () => createWasmPool(2) },
];

interface Config {
  mode: RnnMode;
  T: number;
  N: number;
  I: number;
  H: number;
  proj?: number;
  L?: number;
  D?: 1 | 2;
  batchFirst?: boolean;
  bias?: boolean;
  /** Packed: each sequence's length (non-increasing, the first T). */
  lengths?: number[];
  dropout?: number;
  state?: boolean;
  /** Which results get a gradient (default all). */
  grads?: { output?: boolean; hN?: boolean; cN?: boolean };
}

function argsOf(k: Config, seed: number): { args: RnnArgs; grads: RnnGradOutputs } {
  const gen = new Generator(seed);
  const r = (shape: number[], scale = 1) => {
    const t = randn(shape, { generator: gen });
    const d = cpuData(t);
    for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) * scale;
    return t;
  };
  const { mode, T, N, I, H } = k;
  const cell = cellSpec(mode, H, k.proj ?? 0);
  const P = cell.stateSize;
  const L = k.L ?? 1;
  const D = k.D ?? 1;
  const GH = cell.gates * H;
  const s = 1 / Math.sqrt(H);
  const layers: RnnDirectionWeights[][] = Array.from({ length: L }, (_, layer) =>
    Array.from({ length: D }, () => ({
      weightIh: r([GH, layer === 0 ? I : D * P], s),
      weightHh: r([GH, P], s),
      biasIh: k.bias === false ? null : r([GH], s),
      biasHh: k.bias === false ? null : r([GH], s),
      weightHr: k.proj ? r([P, H], s) : null,
    })),
  );
  const batchSizes = k.lengths
    ? Int32Array.from({ length: T }, (_, t) => (k.lengths as number[]).filter((l) => l > t).length)
    : null;
  const rows = batchSizes ? batchSizes.reduce((a, b) => a + b, 0) : T * N;
  const input = batchSizes ? r([rows, I]) : r(k.batchFirst ? [N, T, I] : [T, N, I]);
  const h0 = k.state ? r([L * D, N, P]) : null;
  const c0 = k.state && mode === 'LSTM' ? r([L * D, N, H]) : null;
  const dropout = k.dropout !== undefined ? { p: k.dropout, generator: new Generator(seed + 1) } : null;
  const args: RnnArgs = {
    cell,
    input,
    batchFirst: k.batchFirst ?? false,
    batchSizes,
    h0,
    c0,
    layers,
    dropout,
  };
  const want = { output: true, hN: true, cN: true, ...k.grads };
  const outShape = batchSizes ? [rows, D * P] : k.batchFirst ? [N, T, D * P] : [T, N, D * P];
  const grads: RnnGradOutputs = {
    output: want.output ? r(outShape) : null,
    hN: want.hN ? r([L * D, N, P]) : null,
    cN: want.cN && mode === 'LSTM' ? r([L * D, N, H]) : null,
  };
  return { args, grads };
}

/** The args again with a fresh dropout generator (the same seed): a second run draws the same masks. */
const again = (a: RnnArgs, seed: number): RnnArgs =>
  a.dropout ? { ...a, dropout: { p: a.dropout.p, generator: new Generator(seed + 1) } } : a;

function expectClose(got: Tensor | null, want: Tensor | null, what: string): void {
  expect(got === null, `${what}: null`).toBe(want === null);
  if (!got || !want) return;
  expect(got.shape, what).toEqual(want.shape);
  const [g, w] = [cpuData(got), cpuData(want)];
  expect(w.length, what).toBeGreaterThan(0);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < w.length; i++) {
    const err = Math.abs((g[i] as number) - (w[i] as number)) - 1e-4 * Math.abs(w[i] as number);
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  expect(worst, `${what}[${at}]: got ${g[at]}, want ${w[at]}`).toBeLessThanOrEqual(1e-5);
}

function expectGrads(got: RnnGrads, want: RnnGrads, what: string): void {
  expectClose(got.input, want.input, `${what}d input`);
  expectClose(got.h0, want.h0, `${what}d h0`);
  expectClose(got.c0, want.c0, `${what}d c0`);
  for (const [layer, dirs] of want.layers.entries()) {
    for (const [d, w] of dirs.entries()) {
      const gw = got.layers[layer]?.[d];
      for (const name of ['weightIh', 'weightHh', 'biasIh', 'biasHh', 'weightHr'] as const)
        expectClose(gw?.[name] ?? null, w[name], `${what}d ${name} l${layer} d${d}`);
    }
  }
}

const grid: [string, Config][] = [
  ['RNN tanh', { mode: 'RNN_TANH', T: 5, N: 3, I: 7, H: 9 }],
  [
    'RNN relu, 2 layers, bidirectional, h0',
    { mode: 'RNN_RELU', T: 6, N: 5, I: 4, H: 10, L: 2, D: 2, state: true },
  ],
  [
    'RNN batch-first, no bias, N = 1',
    { mode: 'RNN_TANH', T: 9, N: 1, I: 5, H: 33, batchFirst: true, bias: false },
  ],
  ['RNN T = 1', { mode: 'RNN_TANH', T: 1, N: 4, I: 3, H: 6, state: true }],
  ['RNN dropout, 3 layers', { mode: 'RNN_TANH', T: 7, N: 6, I: 5, H: 11, L: 3, dropout: 0.4 }],
  ['LSTM', { mode: 'LSTM', T: 5, N: 3, I: 7, H: 9 }],
  ['LSTM h0/c0, bidirectional, 2 layers', { mode: 'LSTM', T: 6, N: 9, I: 5, H: 13, L: 2, D: 2, state: true }],
  ['LSTM projSize', { mode: 'LSTM', T: 7, N: 5, I: 6, H: 10, proj: 3, state: true }],
  ['LSTM projSize, N = 1, bidirectional', { mode: 'LSTM', T: 8, N: 1, I: 4, H: 35, proj: 17, D: 2 }],
  [
    'LSTM batch-first, no bias, T = 1',
    { mode: 'LSTM', T: 1, N: 2, I: 3, H: 5, batchFirst: true, bias: false },
  ],
  [
    'LSTM dropout, grad of output only',
    { mode: 'LSTM', T: 5, N: 4, I: 3, H: 7, L: 2, dropout: 0.3, grads: { hN: false, cN: false } },
  ],
  ['GRU', { mode: 'GRU', T: 5, N: 3, I: 7, H: 9 }],
  [
    'GRU h0, bidirectional, 2 layers, batch-first',
    { mode: 'GRU', T: 6, N: 7, I: 5, H: 12, L: 2, D: 2, state: true, batchFirst: true },
  ],
  [
    'GRU N = 1, no bias, grad of hN only',
    { mode: 'GRU', T: 10, N: 1, I: 6, H: 34, bias: false, grads: { output: false } },
  ],
  ['GRU dropout p = 1', { mode: 'GRU', T: 4, N: 3, I: 3, H: 5, L: 2, dropout: 1 }],
  [
    'packed RNN relu, 2 layers, h0',
    { mode: 'RNN_RELU', T: 6, N: 4, I: 5, H: 7, L: 2, lengths: [6, 5, 3, 2], state: true },
  ],
  [
    'RNN batch-first, 2 layers, h0, larger',
    { mode: 'RNN_TANH', T: 9, N: 10, I: 20, H: 40, L: 2, batchFirst: true, state: true },
  ],
  [
    'packed RNN, bidirectional, h0',
    { mode: 'RNN_TANH', T: 6, N: 4, I: 5, H: 7, D: 2, lengths: [6, 4, 4, 1], state: true },
  ],
  [
    'packed LSTM projSize, 2 layers, dropout',
    { mode: 'LSTM', T: 5, N: 3, I: 4, H: 9, proj: 5, L: 2, lengths: [5, 3, 2], dropout: 0.5 },
  ],
  [
    'packed GRU bidirectional, 2 layers',
    { mode: 'GRU', T: 7, N: 9, I: 3, H: 6, L: 2, D: 2, lengths: [7, 7, 6, 5, 5, 3, 2, 2, 1] },
  ],
  ['larger LSTM (rows over threads, deep K)', { mode: 'LSTM', T: 12, N: 16, I: 70, H: 300, state: true }],
  [
    'larger packed LSTM (rows over threads by work)',
    { mode: 'LSTM', T: 10, N: 12, I: 20, H: 100, D: 2, lengths: [10, 10, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1] },
  ],
  [
    'larger GRU bidirectional batch-first',
    { mode: 'GRU', T: 20, N: 12, I: 40, H: 130, D: 2, batchFirst: true },
  ],
];

describe.each(variants)('wasmCpuBackend ($name) training equals cpuBackend', ({ executor }) => {
  let wasm: WasmCpuBackend;
  beforeAll(async () => {
    const ex: WasmExecutor | null = await executor();
    if (!ex) throw new Error('no WebAssembly SIMD (or threads) in this Node');
    wasm = wasmCpuBackend(ex, { minFlops: 0 });
  });
  afterAll(() => wasm.dispose());

  it.each(grid)('%s', (_, k) => {
    const seed = 11;
    const { args, grads } = argsOf(k, seed);
    const train = (b: typeof cpuBackend | WasmCpuBackend) => {
      const a = again(args, seed);
      const { result, saved } = (b.rnnTrain as NonNullable<typeof b.rnnTrain>)(a);
      if (b !== cpuBackend) expect((saved as { kind: string }).kind).toBe('wasm');
      return { result, grads: (b.rnnBackward as NonNullable<typeof b.rnnBackward>)(a, saved, grads) };
    };
    const want = train(cpuBackend);
    const got = train(wasm);
    expectClose(got.result.output, want.result.output, 'output');
    expectClose(got.result.hN, want.result.hN, 'hN');
    expectClose(got.result.cN, want.result.cN, 'cN');
    expectGrads(got.grads, want.grads, '');
    // a retained graph keeps the saved blocks intact (the Elman cell's h_{t−1} then rebuilt out of place)
    const a = again(args, seed);
    const { saved } = (wasm.rnnTrain as NonNullable<typeof wasm.rnnTrain>)(a);
    const backward = (retainSaved: boolean) =>
      (wasm.rnnBackward as NonNullable<typeof wasm.rnnBackward>)(a, saved, grads, { retainSaved });
    expectGrads(backward(true), want.grads, 'retained: ');
    expectGrads(backward(false), want.grads, 'after a retained backward: ');
  });

  it('packs a parameter again after an in-place write (an optimizer step bumps its version)', () => {
    const { args, grads } = argsOf({ mode: 'LSTM', T: 4, N: 3, I: 5, H: 6 }, 5);
    const run = (b: typeof cpuBackend | WasmCpuBackend) => {
      const { result, saved } = (b.rnnTrain as NonNullable<typeof b.rnnTrain>)(args);
      const g = (b.rnnBackward as NonNullable<typeof b.rnnBackward>)(args, saved, grads);
      return [result.output, g.input, g.layers[0]?.[0]?.weightIh as Tensor];
    };
    run(wasm);
    expectClose(wasm.rnn(args).output, cpuBackend.rnn(args).output, 'output before');
    const w = args.layers[0]?.[0] as RnnDirectionWeights;
    for (const t of [w.weightIh, w.weightHh]) t.copy_(randn([...t.shape], { generator: new Generator(9) }));
    const [want, got] = [run(cpuBackend), run(wasm)];
    for (const [i, name] of ['output', 'd input', 'd weightIh'].entries())
      expectClose(got[i] as Tensor, want[i] as Tensor, `${name} after the write`);
    expectClose(wasm.rnn(args).output, cpuBackend.rnn(args).output, 'output after');
  });

  it("keeps the saved activations in the kernels' memory until the backward frees them (unless retained)", () => {
    const { args, grads } = argsOf({ mode: 'RNN_TANH', T: 5, N: 3, I: 4, H: 6, L: 3 }, 7);
    const ex = wasm.executor as WasmExecutor;
    const step = () => {
      const { saved } = (wasm.rnnTrain as NonNullable<typeof wasm.rnnTrain>)(args);
      return () => (wasm.rnnBackward as NonNullable<typeof wasm.rnnBackward>)(args, saved, grads);
    };
    step()(); // prepares (packs) the parameters, which stay
    const before = ex.arena.stats().blocks;
    const backward = step();
    expect(ex.arena.stats().blocks).toBeGreaterThan(before);
    backward();
    expect(ex.arena.stats().blocks).toBe(before);
    expect(backward).toThrow(
      'wasmCpuBackend: the saved activations served one backward and were freed; pass { retainGraph: true } to the first backward to keep them, or run the forward again',
    );
    expect(ex.arena.stats().blocks).toBe(before);
    // retainSaved (a retained autograd graph): the saved blocks serve any number of backwards, same numbers
    const { saved } = (wasm.rnnTrain as NonNullable<typeof wasm.rnnTrain>)(args);
    const again = (retainSaved: boolean) =>
      (wasm.rnnBackward as NonNullable<typeof wasm.rnnBackward>)(args, saved, grads, { retainSaved });
    const first = again(true);
    expect(ex.arena.stats().blocks).toBeGreaterThan(before);
    const second = again(false);
    expectClose(second.input, first.input, 'd input, second backward');
    expectClose(
      second.layers[2]?.[0]?.weightHh as Tensor,
      first.layers[2]?.[0]?.weightHh as Tensor,
      'd W_hh',
    );
    expect(ex.arena.stats().blocks).toBe(before);
    // inputGrad false (the input needs no gradient): no input gradient, the others the same
    const skip = (wasm.rnnBackward as NonNullable<typeof wasm.rnnBackward>)(
      args,
      (wasm.rnnTrain as NonNullable<typeof wasm.rnnTrain>)(args).saved,
      grads,
      { inputGrad: false },
    );
    expect(skip.input).toBeNull();
    expectClose(skip.h0, first.h0, 'd h0 without the input gradient');
    for (const [k, layer] of skip.layers.entries()) {
      for (const [d, dir] of layer.entries()) {
        expectClose(dir.weightIh, first.layers[k]?.[d]?.weightIh as Tensor, `d W_ih ${k}/${d}`);
      }
    }
    expect(ex.arena.stats().blocks).toBe(before);
  });

  it('runs below minFlops on the TypeScript path, and throws once disposed', async () => {
    const ex = await initWasm();
    if (!ex) throw new Error('no WebAssembly SIMD');
    const small = wasmCpuBackend(ex);
    const { args, grads } = argsOf({ mode: 'GRU', T: 2, N: 1, I: 2, H: 3 }, 3);
    const want = (cpuBackend.rnnBackward as NonNullable<typeof cpuBackend.rnnBackward>)(
      args,
      (cpuBackend.rnnTrain as NonNullable<typeof cpuBackend.rnnTrain>)(args).saved,
      grads,
    );
    const { saved } = (small.rnnTrain as NonNullable<typeof small.rnnTrain>)(args);
    const got = (small.rnnBackward as NonNullable<typeof small.rnnBackward>)(args, saved, grads);
    expectClose(got.input, want.input, 'd input');
    small.dispose();
    expect(() => (small.rnnTrain as NonNullable<typeof small.rnnTrain>)(args)).toThrow(/disposed/);
  });
});

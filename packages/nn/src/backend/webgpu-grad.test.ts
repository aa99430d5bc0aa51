// rnnTrain + rnnBackward on WebGPU against the CPU's (cpu-grad.ts), over a grid of configurations.

import { Generator, type Tensor, uniform } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellSpec, type RnnMode } from '../cell.js';
import { webgpuUnavailable } from '../testing/backends.js';
import { argsOn } from '../testing/rnn-args.js';
import { recurrentCpuBackward, recurrentCpuTrain } from './cpu-grad.js';
import type { RnnArgs, RnnDirectionWeights, RnnGradOutputs, RnnGrads } from './types.js';
import { createWebGPUBackend, type WebGPUBackend } from './webgpu.js';

const suite = webgpuUnavailable ? describe.skip : describe;
if (webgpuUnavailable) it.skip(`webgpu grad tests: skipped, ${webgpuUnavailable}`, () => {});

interface Config {
  mode: RnnMode;
  T: number;
  N: number;
  inputSize: number;
  H: number;
  proj?: number;
  D: 1 | 2;
  L: number;
  batchFirst?: boolean;
  bias?: boolean;
  /** Packed lengths (sorted longest first) instead of a rectangular (T, N) batch. */
  lengths?: number[];
  withH0?: boolean;
  dropout?: number;
  /** Gradients of output, hN, cN given (default) or null. */
  nullGrads?: boolean;
  seed: number;
}

const name = (c: Config): string =>
  `${c.mode} T=${c.lengths ? `packed[${c.lengths.length > 6 ? `${c.lengths.length} sequences` : c.lengths}]` : c.T} N=${c.N} H=${c.H}${c.proj ? ` proj=${c.proj}` : ''}` +
  ` D=${c.D} L=${c.L}${c.batchFirst ? ' batchFirst' : ''}${c.bias === false ? ' no-bias' : ''}` +
  `${c.withH0 ? ' h0' : ''}${c.dropout ? ` dropout=${c.dropout}` : ''}${c.nullGrads ? ' null-grads' : ''}`;

/** Random CPU arguments of `c` (PyTorch's layouts). */
function cpuArgs(c: Config): RnnArgs {
  const g = new Generator(c.seed);
  const cell = cellSpec(c.mode, c.H, c.proj ?? 0);
  const { gates: G, stateSize: P } = cell;
  const rand = (shape: number[], scale = 0.5) => uniform(shape, -scale, scale, { generator: g });
  const bias = c.bias !== false;
  const layers = Array.from({ length: c.L }, (_, layer) =>
    Array.from(
      { length: c.D },
      (): RnnDirectionWeights => ({
        weightIh: rand([G * c.H, layer === 0 ? c.inputSize : c.D * P]),
        weightHh: rand([G * c.H, P]),
        biasIh: bias ? rand([G * c.H]) : null,
        biasHh: bias ? rand([G * c.H]) : null,
        weightHr: c.proj ? rand([P, c.H]) : null,
      }),
    ),
  );
  const lengths = c.lengths;
  const T = lengths ? (lengths[0] as number) : c.T;
  const batchSizes = lengths
    ? Int32Array.from({ length: T }, (_, t) => lengths.filter((l) => l > t).length)
    : null;
  const rows = lengths ? lengths.reduce((a, b) => a + b, 0) : 0;
  const shape = lengths
    ? [rows, c.inputSize]
    : c.batchFirst
      ? [c.N, c.T, c.inputSize]
      : [c.T, c.N, c.inputSize];
  return {
    cell,
    input: rand(shape, 1),
    batchFirst: !lengths && c.batchFirst === true,
    batchSizes,
    h0: c.withH0 ? rand([c.D * c.L, c.N, P], 1) : null,
    c0: c.withH0 && c.mode === 'LSTM' ? rand([c.D * c.L, c.N, c.H], 1) : null,
    layers,
    dropout: c.dropout ? { p: c.dropout, generator: new Generator(c.seed + 1) } : null,
  };
}

/** Random gradients of the results of `args` (or nulls). */
function gradOutputs(c: Config, shapes: { output: number[]; hN: number[]; cN: number[] | null }) {
  if (c.nullGrads) return { output: null, hN: null, cN: null };
  const g = new Generator(c.seed + 2);
  const rand = (shape: number[]) => uniform(shape, -1, 1, { generator: g });
  return { output: rand(shapes.output), hN: rand(shapes.hN), cN: shapes.cN ? rand(shapes.cN) : null };
}

async function expectClose(got: Tensor | null, want: Tensor | null, what: string): Promise<void> {
  expect(got === null, `${what}: null`).toBe(want === null);
  if (!got || !want) return;
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const [g, w] = [await got.data(), await want.data()];
  let worst = { at: -1, excess: 0 };
  for (let i = 0; i < w.length; i++) {
    const excess = Math.abs((g[i] as number) - (w[i] as number)) - (1e-5 + 1e-4 * Math.abs(w[i] as number));
    if (!(excess <= worst.excess)) worst = { at: i, excess: Number.isNaN(excess) ? Infinity : excess };
  }
  if (worst.at >= 0) expect.fail(`${what}[${worst.at}]: got ${g[worst.at]}, want ${w[worst.at]}`);
}

async function expectGrads(got: RnnGrads, want: RnnGrads, what: string): Promise<void> {
  await expectClose(got.input, want.input, `${what} d input`);
  await expectClose(got.h0, want.h0, `${what} d h0`);
  await expectClose(got.c0, want.c0, `${what} d c0`);
  for (const [k, dirs] of want.layers.entries()) {
    for (const [d, w] of dirs.entries()) {
      const gd = got.layers[k]?.[d];
      for (const key of ['weightIh', 'weightHh', 'biasIh', 'biasHh', 'weightHr'] as const)
        await expectClose(gd?.[key] ?? null, w[key], `${what} d ${key} l${k}${d ? '_reverse' : ''}`);
    }
  }
}

const GRID: Config[] = [
  { mode: 'RNN_TANH', T: 4, N: 3, inputSize: 5, H: 6, D: 1, L: 1, seed: 1 },
  { mode: 'RNN_RELU', T: 3, N: 2, inputSize: 4, H: 5, D: 2, L: 2, withH0: true, seed: 2 },
  { mode: 'LSTM', T: 4, N: 3, inputSize: 5, H: 6, D: 1, L: 1, seed: 3 },
  {
    mode: 'LSTM',
    T: 3,
    N: 2,
    inputSize: 4,
    H: 6,
    proj: 3,
    D: 2,
    L: 2,
    withH0: true,
    batchFirst: true,
    seed: 4,
  },
  { mode: 'GRU', T: 4, N: 3, inputSize: 5, H: 6, D: 1, L: 1, withH0: true, seed: 5 },
  { mode: 'GRU', T: 3, N: 2, inputSize: 3, H: 5, D: 2, L: 3, batchFirst: true, bias: false, seed: 6 },
  { mode: 'LSTM', T: 1, N: 1, inputSize: 3, H: 4, D: 2, L: 1, bias: false, seed: 7 },
  { mode: 'RNN_TANH', T: 1, N: 1, inputSize: 2, H: 3, D: 1, L: 2, nullGrads: true, seed: 8 },
  { mode: 'LSTM', T: 5, N: 3, inputSize: 4, H: 5, D: 2, L: 2, dropout: 0.4, seed: 9 },
  { mode: 'GRU', T: 4, N: 3, inputSize: 3, H: 4, D: 1, L: 3, dropout: 1, withH0: true, seed: 10 },
  // wide GEMM tiles (batch > 32, G·H > 64) and several column tiles
  {
    mode: 'LSTM',
    T: 3,
    N: 40,
    inputSize: 9,
    H: 20,
    D: 2,
    L: 2,
    batchFirst: true,
    dropout: 0.25,
    withH0: true,
    seed: 15,
  },
  {
    mode: 'GRU',
    T: 0,
    N: 34,
    lengths: [3, ...Array(30).fill(2), 1, 1, 1],
    inputSize: 6,
    H: 24,
    D: 2,
    L: 1,
    seed: 16,
  },
  // packed batches (lengths sorted longest first)
  {
    mode: 'LSTM',
    T: 0,
    N: 3,
    lengths: [4, 2, 1],
    inputSize: 3,
    H: 5,
    proj: 2,
    D: 2,
    L: 2,
    withH0: true,
    seed: 11,
  },
  { mode: 'GRU', T: 0, N: 3, lengths: [3, 3, 1], inputSize: 4, H: 4, D: 2, L: 2, dropout: 0.3, seed: 12 },
  { mode: 'RNN_RELU', T: 0, N: 2, lengths: [4, 2], inputSize: 2, H: 3, D: 1, L: 1, withH0: true, seed: 13 },
  { mode: 'LSTM', T: 0, N: 3, lengths: [3, 2, 2], inputSize: 3, H: 4, D: 1, L: 1, nullGrads: true, seed: 14 },
];

suite('WebGPU rnnTrain + rnnBackward equal the CPU backend', () => {
  let gpu: WebGPUBackend;
  beforeAll(async () => {
    gpu = await createWebGPUBackend();
  });
  afterAll(() => gpu?.dispose());

  it.each(GRID.map((c) => [name(c), c] as const))('%s', async (what, c) => {
    const args = cpuArgs(c);
    const cpu = recurrentCpuTrain(args);
    const shapes = {
      output: [...cpu.result.output.shape],
      hN: [...cpu.result.hN.shape],
      cN: cpu.result.cN ? [...cpu.result.cN.shape] : null,
    };
    const grads = gradOutputs(c, shapes);
    const want = recurrentCpuBackward(args, cpu.saved, grads);

    const train = gpu.rnnTrain as NonNullable<WebGPUBackend['rnnTrain']>;
    const backward = gpu.rnnBackward as NonNullable<WebGPUBackend['rnnBackward']>;
    const gArgs = argsOn(gpu, args, c.seed);
    const before = gpu.stats();
    const { result, saved } = train(gArgs);
    const mid = gpu.stats();
    expect(mid.submits - before.submits, 'rnnTrain submits').toBe(1);
    const gGrads: RnnGradOutputs = {
      output: grads.output ? gpu.fromCpu(grads.output) : null,
      hN: grads.hN ? gpu.fromCpu(grads.hN) : null,
      cN: grads.cN ? gpu.fromCpu(grads.cN) : null,
    };
    const start = gpu.stats();
    const got = backward(gArgs, saved, gGrads);
    const end = gpu.stats();
    expect(end.submits - start.submits, 'rnnBackward submits').toBe(1);
    expect(end.readbacks - before.readbacks, 'readbacks').toBe(0);
    expect(got.input?.device).toBe('webgpu');

    // the training forward equals the CPU's and the backend's own inference forward
    await expectClose(result.output, cpu.result.output, `${what} output`);
    await expectClose(result.hN, cpu.result.hN, `${what} hN`);
    await expectClose(result.cN, cpu.result.cN, `${what} cN`);
    const plain = gpu.rnn(argsOn(gpu, args, c.seed));
    await expectClose(result.output, plain.output, `${what} output vs rnn`);
    await expectClose(result.hN, plain.hN, `${what} hN vs rnn`);
    await expectClose(result.cN, plain.cN, `${what} cN vs rnn`);

    await expectGrads(got, want, what);
  });

  it('refuses a second backward from the same saved activations (they are released)', async () => {
    const c = GRID[0] as Config;
    const gArgs = argsOn(gpu, cpuArgs(c), c.seed);
    const train = gpu.rnnTrain as NonNullable<WebGPUBackend['rnnTrain']>;
    const backward = gpu.rnnBackward as NonNullable<WebGPUBackend['rnnBackward']>;
    const { saved } = train(gArgs);
    const none = { output: null, hN: null, cN: null };
    backward(gArgs, saved, none);
    expect(() => backward(gArgs, saved, none)).toThrow(/saved gates of layer 0 on .* was disposed/);
  });
});

import {
  ACT_NONE,
  ACT_RELU,
  ACT_TANH,
  cpuData,
  Tensor,
  type WasmJob,
  WasmKernels,
  type WasmPool,
} from '@recurrent/tensor';
import { cpuBackend } from './cpu.js';
import { dropoutInPlace } from './dropout.js';
import type { Backend, RnnArgs, RnnDirectionWeights, RnnResult } from './types.js';

/** Options of {@link wasmCpuBackend}. */
export interface WasmCpuBackendOptions {
  /**
   * Forwards under this many FLOPs (Σ 2·T·N·(I_l + H)·H) run on the plain TypeScript path, where
   * copying into WebAssembly memory and back costs more than the arithmetic. Default 16384; 0 sends
   * every forward to WebAssembly.
   */
  minFlops?: number;
}

/**
 * The CPU backend on `@recurrent/tensor`'s WebAssembly SIMD kernels (`initWasm()`/`initWasmSync()`).
 * Tensors stay plain CPU tensors (`device` `'cpu'`), so modules move between this and `cpuBackend`
 * freely. Per layer-direction: the input projection of all time steps is one SIMD GEMM (bias
 * pre-filled), then one call runs every step's fused recurrent GEMM + activation inside WebAssembly.
 * Inputs and weights are copied into the kernels' memory per forward and the output copied out, so
 * returned tensors never alias that memory. Tiny problems run on the plain TypeScript path.
 *
 * Given a `WasmPool` (`createWasmPool(threads)`), each projection GEMM is split by rows and, for
 * batches of 8 or more, each recurrence by batch rows, whose steps are independent across rows, so
 * threads meet only twice per layer-direction. Batches under 8 run the recurrence on one thread.
 */
export function wasmCpuBackend(
  kernels: WasmKernels | WasmPool,
  options: WasmCpuBackendOptions = {},
): Backend {
  const minFlops = options.minFlops ?? 16_384;
  const pool = kernels instanceof WasmKernels ? null : kernels;
  const k = pool ? pool.kernels : (kernels as WasmKernels);
  const run = pool
    ? (jobs: WasmJob[]) => pool.run(jobs)
    : (jobs: WasmJob[]) => {
        for (const { fn, args } of jobs) (k.exports[fn] as (...a: number[]) => void)(...args);
      };
  return Object.freeze({
    name: 'cpu',
    fromCpu: cpuBackend.fromCpu,
    rnn: (args: RnnArgs): RnnResult =>
      flopsOf(args) < minFlops ? cpuBackend.rnn(args) : rnnWasm(k, pool?.threads ?? 1, run, args),
  });
}

/**
 * Work under this many FLOPs stays on the calling thread: waking a worker and joining it costs tens of
 * microseconds, what one thread needs for a few MFLOP.
 */
const PARALLEL_MIN_FLOPS = 4e6;

/** Splits [0, n) into up to `parts` ranges whose bounds are multiples of 4 (whole micro-kernel tiles). */
function split(n: number, parts: number): [number, number][] {
  const size = Math.ceil(n / parts / 4) * 4;
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += size) out.push([from, Math.min(n, from + size)]);
  return out;
}

function flopsOf({ input, layers, hiddenSize: H }: RnnArgs): number {
  const rows = (input.shape[0] as number) * (input.shape[1] as number);
  let flops = 0;
  for (const dirs of layers)
    for (const w of dirs) flops += 2 * rows * H * ((w.weightIh.shape[1] as number) + H);
  return flops;
}

function rnnWasm(k: WasmKernels, threads: number, run: (jobs: WasmJob[]) => void, args: RnnArgs): RnnResult {
  const { batchFirst, layers, hiddenSize: H, nonlinearity } = args;
  const [d0, d1, inputSize] = args.input.shape as [number, number, number];
  const [T, N] = batchFirst ? [d1, d0] : [d0, d1];
  const D = layers[0]?.length ?? 1;
  const width = D * H;
  const rows = T * N;
  // Row (t, n) of every (T·N, features) matrix sits at t·stepStride + n·ld, in the input's own order.
  const stepStride = (batchFirst ? 1 : N) * width;
  const ld = (batchFirst ? T : 1) * width;
  const act = nonlinearity === 'relu' ? ACT_RELU : ACT_TANH;
  const ex = k.exports;

  k.reset();
  const maxIn = Math.max(inputSize, width);
  const x0 = k.put(cpuData(args.input, 'rnn input'));
  const h0 = args.h0 ? k.put(cpuData(args.h0, 'rnn h0')) : 0;
  const bufs = [k.alloc(rows * width), layers.length > 1 ? k.alloc(rows * width) : 0];
  const wih = k.alloc(H * maxIn);
  const whh = k.alloc(H * H);
  const packed = k.alloc(Math.ceil(H / 32) * 32 * H); // fits packB's 8- and packB32's 32-column panels
  const packs = Array.from({ length: threads }, () => k.alloc(ex.packBytes(H, maxIn) / 4));
  const whole = (n: number): [number, number][] => [[0, n]];
  const projRows = (inputs: number) =>
    2 * rows * inputs * H >= PARALLEL_MIN_FLOPS ? split(rows, threads) : whole(rows);
  // rows of a batch recur independently, so threads split them with no synchronization per step
  const batchRows = N >= 8 && 2 * T * N * H * H >= PARALLEL_MIN_FLOPS ? split(N, threads) : whole(N);
  const f32 = k.f32; // memory does not grow after the allocations above

  const hN = new Float32Array(layers.length * D * N * H);
  let x = x0;
  let xWidth = inputSize;
  let out = 0;
  layers.forEach((directions, layer) => {
    out = bufs[layer % 2] as number;
    directions.forEach((w, d) => {
      const col = out + d * H * 4;
      fillBias(f32, col / 4, rows, width, w);
      f32.set(cpuData(w.weightIh, 'rnn weight_ih'), wih / 4);
      run(
        projRows(xWidth).map(([r0, r1], i) => ({
          fn: 'gemm',
          // biome-ignore format: gemm's argument list
          args: [r1 - r0, H, xWidth, 1, x + r0 * xWidth * 4, xWidth, 1, wih, 1, xWidth, 1, col + r0 * width * 4, width, ACT_NONE, packs[i] as number],
        })),
      );
      f32.set(cpuData(w.weightHh, 'rnn weight_hh'), whh / 4);
      // op(B) = W_hhᵀ, in 32-column panels for the one-row kernel of a batch of one
      (N === 1 ? ex.packB32 : ex.packB)(whh, 1, H, H, H, packed);
      const hStart = (layer * D + d) * N * H;
      const h = h0 ? h0 + hStart * 4 : 0;
      run(
        batchRows.map(([n0, n1]) => ({
          fn: 'rnnRecur',
          args: [col, ld, stepStride, T, N, H, packed, h, act, d, n0, n1],
        })),
      );
      const last = col / 4 + (d === 1 ? 0 : T - 1) * stepStride;
      for (let n = 0; n < N; n++) hN.set(f32.subarray(last + n * ld, last + n * ld + H), hStart + n * H);
    });
    if (args.dropout && layer < layers.length - 1) {
      dropoutInPlace(f32.subarray(out / 4, out / 4 + rows * width), T, N, width, batchFirst, args.dropout);
    }
    x = out;
    xWidth = width;
  });
  return {
    output: Tensor.fromArray(
      f32.slice(out / 4, out / 4 + rows * width),
      batchFirst ? [N, T, width] : [T, N, width],
    ),
    hN: Tensor.fromArray(hN, [layers.length * D, N, H]),
  };
}

/** Every row's H columns from `at` (element offset) = b_ih + b_hh (summed in double, as the TS path). */
function fillBias(f32: Float32Array, at: number, rows: number, width: number, w: RnnDirectionWeights): void {
  const H = w.weightHh.shape[0] as number;
  const bias = new Float32Array(H);
  const bih = w.biasIh ? cpuData(w.biasIh, 'rnn bias') : null;
  const bhh = w.biasHh ? cpuData(w.biasHh, 'rnn bias') : null;
  for (let j = 0; j < H; j++) bias[j] = ((bih?.[j] ?? 0) as number) + ((bhh?.[j] ?? 0) as number);
  for (let r = 0; r < rows; r++) f32.set(bias, at + r * width);
}

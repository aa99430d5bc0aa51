import {
  type GpuRuntime,
  type Recorder,
  recordArgmax,
  recordDropout,
  recordGatherRows,
  recordGemm,
  recordSoftmax,
  type SoftmaxKind,
  STORAGE_USAGE,
} from '@recurrent/kernels-webgpu';
import { fillBernoulli, formatShape, Tensor } from '@recurrent/tensor';
import type { ElementDropoutArgs, EmbeddingArgs, GatherRowsArgs, LastDimArgs, LinearArgs } from './types.js';

// A model head's ops on WebGPU: each is one command buffer and one submit, no readback, and returns a
// tensor of the runtime (int32 for argmax), so Embedding → RNN → Linear → argmax stays on the GPU.

const rowsOf = (shape: readonly number[]): number => shape.slice(0, -1).reduce((p, d) => p * d, 1);

/** Records `record` into one submit; on failure the output buffer goes back to the pool. */
const run = (runtime: GpuRuntime, out: GPUBuffer, record: (rec: Recorder) => void): void =>
  runtime.run(record, [out]);

const outBuffer = (runtime: GpuRuntime, elements: number, what: string): GPUBuffer =>
  runtime.acquire(Math.max(4, elements * 4), STORAGE_USAGE, what);

/** `input·weightᵀ + bias`: one GEMM with the bias fused (`wide` or `skinny` tile by the row count). */
export function linearWebGPU(runtime: GpuRuntime, { input, weight, bias }: LinearArgs): Tensor<'float32'> {
  runtime.check();
  const [N = 0, K = 0] = weight.shape;
  const M = rowsOf(input.shape);
  const a = runtime.bufferOf(input, 'Linear input');
  const b = runtime.bufferOf(weight, 'Linear weight');
  const bb = bias ? runtime.bufferOf(bias, 'Linear bias') : null;
  const out = outBuffer(runtime, M * N, `the Linear output (${M} rows of ${N})`);
  run(runtime, out, (rec) =>
    recordGemm(rec, {
      ...{ M, N, K, a, aOffset: [0], sai: K, sap: 1, b: [b], sbp: 1, sbj: K },
      ...{ bias: bb ? [bb] : null, c: out, cOffset: [0], ldc: N },
    }),
  );
  return runtime.tensor(out, [...input.shape.slice(0, -1), N]);
}

/** `weight[indices]` by the gather kernel; an index out of range gives a NaN row (no readback to check). */
export function embeddingWebGPU(runtime: GpuRuntime, { indices, weight }: EmbeddingArgs): Tensor<'float32'> {
  runtime.check();
  const [rows = 0, dim = 0] = weight.shape;
  const count = indices.numel();
  const ids = runtime.bufferOf(indices, 'Embedding indices');
  const table = runtime.bufferOf(weight, 'Embedding weight');
  const out = outBuffer(runtime, count * dim, `the Embedding output (${count} rows of ${dim})`);
  run(runtime, out, (rec) => recordGatherRows(rec, { ids, table, out, count, rows, dim }));
  return runtime.tensor(out, [...indices.shape, dim]);
}

/** `input[indices[i]]` per row, a row of `fill` for index −1, by the gather kernel. */
export function gatherRowsWebGPU(
  runtime: GpuRuntime,
  { input, indices, fill }: GatherRowsArgs,
): Tensor<'float32'> {
  runtime.check();
  const [rows = 0, dim = 0] = input.shape;
  const count = indices.numel();
  const ids = runtime.bufferOf(indices, 'gatherRows indices');
  const table = runtime.bufferOf(input, 'gatherRows input');
  const out = outBuffer(runtime, count * dim, `the gathered rows (${count} rows of ${dim})`);
  run(runtime, out, (rec) => recordGatherRows(rec, { ids, table, out, count, rows, dim, fill }));
  return runtime.tensor(out, [count, dim]);
}

/** `input` as `(rows, size)` rows of its last dimension (a 0-d tensor is one row of one). */
function lastDimRows(input: Tensor): { rows: number; size: number } {
  const size = input.ndim === 0 ? 1 : (input.shape[input.ndim - 1] as number);
  return { rows: size === 0 ? 0 : input.numel() / size, size };
}

/** Int32 indices of each last-dimension row's largest element (PyTorch's ties and NaN). */
export function argmaxWebGPU(runtime: GpuRuntime, { input }: LastDimArgs): Tensor<'int32'> {
  runtime.check();
  const { rows, size } = lastDimRows(input);
  if (size === 0) {
    // as @recurrent/tensor's argmax (PyTorch's message)
    throw new RangeError(`argmax(): Expected reduction dim ${input.ndim - 1} to have non-zero size.`);
  }
  const x = runtime.bufferOf(input, 'argmax input');
  const out = outBuffer(
    runtime,
    rows,
    `the argmax output (${formatShape(input.shape)} without its last dim)`,
  );
  run(runtime, out, (rec) => recordArgmax(rec, { x, out, rows, size }));
  return runtime.tensor(out, input.shape.slice(0, -1), 'int32');
}

/** Softmax or log-softmax over the last dimension. */
export function softmaxWebGPU(
  runtime: GpuRuntime,
  { input }: LastDimArgs,
  kind: SoftmaxKind,
): Tensor<'float32'> {
  runtime.check();
  const { rows, size } = lastDimRows(input);
  const x = runtime.bufferOf(input, `${kind} input`);
  const out = outBuffer(runtime, input.numel(), `the ${kind} output ${formatShape(input.shape)}`);
  run(runtime, out, (rec) => recordSoftmax(rec, { kind, x, out, rows, size }));
  return runtime.tensor(out, input.shape);
}

/**
 * Inverted dropout into a new tensor: the input is copied, then the dropout kernel scales it in place by
 * the mask drawn on the CPU (PyTorch's order) and uploaded. As the mask is 0 or 1, `x·mask·scale` there
 * equals PyTorch's `x·(mask·scale)` bit for bit.
 */
export function dropoutWebGPU(runtime: GpuRuntime, args: ElementDropoutArgs): Tensor<'float32'> {
  return dropoutTrainWebGPU(runtime, args, false).output;
}

/**
 * Dropout that also returns its mask (a GPU tensor, null for p = 1) when `keep`, for the backward:
 * `dropoutMaskWebGPU` applies the same mask and scale to the gradient.
 */
export function dropoutTrainWebGPU(
  runtime: GpuRuntime,
  { input, p, generator }: ElementDropoutArgs,
  keep = true,
): { output: Tensor<'float32'>; mask: Tensor | null } {
  runtime.check();
  const n = input.numel();
  let mask: Tensor | null = null;
  if (p !== 1) {
    const m = new Float32Array(n);
    fillBernoulli(m, 1 - p, generator);
    mask = runtime.fromCpu(Tensor.fromArray(m, [n]));
  }
  try {
    return { output: dropoutMaskWebGPU(runtime, input, mask, p, 'Dropout'), mask: keep ? mask : null };
  } finally {
    if (!keep) mask?.dispose();
  }
}

/** `x ⊙ mask · float32(1/(1 − p))` (p = 1: `x · 0`, so ±Inf and NaN become NaN), a new tensor. */
export function dropoutMaskWebGPU(
  runtime: GpuRuntime,
  input: Tensor,
  mask: Tensor | null,
  p: number,
  what: string,
): Tensor<'float32'> {
  const n = input.numel();
  const x = runtime.bufferOf(input, `${what} input`);
  const out = outBuffer(runtime, n, `the ${what} output ${formatShape(input.shape)}`);
  run(runtime, out, (rec) => {
    rec.copy(x, 0, out, 0, n * 4);
    const base = { out, T: 1, N: 1, width: n, batchFirst: false };
    if (p === 1 || mask === null) recordDropout(rec, { ...base, mask: null, scale: 0, zero: true });
    else {
      const scale = Math.fround(1 / Math.fround(1 - p));
      recordDropout(rec, { ...base, mask: runtime.bufferOf(mask, 'the dropout mask'), scale, zero: false });
    }
  });
  return runtime.tensor(out, input.shape);
}

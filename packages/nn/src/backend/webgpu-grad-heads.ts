import {
  type GpuRuntime,
  recordColumnSum,
  recordEmbeddingBackward,
  recordGemm,
  STORAGE_USAGE,
} from '@recurrent/kernels-webgpu';
import type { Tensor } from '@recurrent/tensor';
import type { EmbeddingArgs, LinearArgs } from './types.js';

// The backward of a model head's ops on WebGPU: one submit each, no readback, gradients as GPU tensors.

/**
 * `y = x·Wᵀ + b` over rows of x `(R, K)`, W `(N, K)`, g `(R, N)`: dx = g·W, dW = gᵀ·x (GEMMs reading g
 * transposed through strides), db = the column sums of g.
 */
export function linearBackwardWebGPU(
  runtime: GpuRuntime,
  { input, weight, bias }: LinearArgs,
  grad: Tensor,
  needs: readonly boolean[],
): (Tensor<'float32'> | null)[] {
  runtime.check();
  const [N = 0, K = 0] = weight.shape;
  const R = input.numel() / Math.max(1, K);
  const g = runtime.bufferOf(grad, "the Linear output's gradient");
  const acquire = (n: number, what: string) => runtime.acquire(Math.max(4, n * 4), STORAGE_USAGE, what);
  const dx = needs[0] ? acquire(R * K, `the Linear input's gradient (${R} rows of ${K})`) : null;
  const dw = needs[1] ? acquire(N * K, "the Linear weight's gradient") : null;
  const db = bias && needs[2] ? acquire(N, "the Linear bias's gradient") : null;
  const outs = [dx, dw, db].filter((b): b is GPUBuffer => b !== null);
  runtime.run((rec) => {
    const w = runtime.bufferOf(weight, 'Linear weight');
    const x = runtime.bufferOf(input, 'Linear input');
    if (dx) {
      const at = { a: g, aOffset: [0], sai: N, sap: 1, b: [w], sbp: K, sbj: 1 };
      recordGemm(rec, { M: R, N: K, K: N, ...at, c: dx, cOffset: [0], ldc: K });
    }
    if (dw) {
      const at = { a: g, aOffset: [0], sai: 1, sap: N, b: [x], sbp: K, sbj: 1 };
      recordGemm(rec, { M: N, N: K, K: R, ...at, c: dw, cOffset: [0], ldc: K });
    }
    if (db) recordColumnSum(rec, { x: g, rows: R, cols: N, out: db });
  }, outs);
  return [
    dx ? runtime.tensor(dx, input.shape) : null,
    dw ? runtime.tensor(dw, weight.shape) : null,
    db ? runtime.tensor(db, [N]) : null,
  ];
}

/** `weight[indices]`: dW[i] = Σ of the gradient rows that picked row i (in index order); none for paddingIdx. */
export function embeddingBackwardWebGPU(
  runtime: GpuRuntime,
  { indices, weight, paddingIdx }: EmbeddingArgs,
  grad: Tensor,
): Tensor<'float32'> {
  runtime.check();
  const [rows = 0, dim = 0] = weight.shape;
  const count = indices.numel();
  const out = runtime.acquire(Math.max(4, rows * dim * 4), STORAGE_USAGE, "the Embedding weight's gradient");
  runtime.run(
    (rec) =>
      recordEmbeddingBackward(rec, {
        ids: runtime.bufferOf(indices, 'Embedding indices'),
        count,
        grad: runtime.bufferOf(grad, "the Embedding output's gradient"),
        out,
        rows,
        dim,
        paddingIdx,
      }),
    [out],
  );
  return runtime.tensor(out, weight.shape);
}

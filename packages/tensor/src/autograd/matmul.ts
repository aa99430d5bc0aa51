// Derivative rules of the matrix products: dA = dC·Bᵀ, dB = Aᵀ·dC (scaled, batched, broadcast).
import { sgemm } from '../gemm.js';
import { matmul } from '../ops/matmul.js';
import { reshape, transpose } from '../ops/shape.js';
import { cpuData, Tensor } from '../tensor.js';
import { sumTo, zip2 } from './broadcast.js';
import { record } from './node.js';

/**
 * `alpha·op(A)·op(B)` for `batch` stacked row-major matrices: op(A) is M×K (A stored K×M when `transA`),
 * op(B) is K×N (B stored N×K when `transB`).
 */
function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  B: Float32Array,
  batch = 1,
): Float32Array {
  const out = new Float32Array(batch * M * N);
  const lda = Math.max(1, transA ? M : K);
  const ldb = Math.max(1, transB ? K : N);
  for (let t = 0; t < batch; t++) {
    sgemm(
      transA,
      transB,
      M,
      N,
      K,
      alpha,
      A,
      t * M * K,
      lda,
      B,
      t * K * N,
      ldb,
      0,
      out,
      t * M * N,
      Math.max(1, N),
    );
  }
  return out;
}

/** PyTorch 1.13's grad_fn of `torch.matmul` for these ranks (its matmul dispatches to mm, mv, dot, bmm, …). */
function matmulName(a: number, b: number): string {
  if (a === 1 && b === 1) return 'DotBackward0';
  if (a === 2 && b === 1) return 'MvBackward0';
  if (a === 1 && b === 2) return 'SqueezeBackward3';
  if (a === 2 && b === 2) return 'MmBackward0';
  if (a === 2 && b >= 3) return 'CloneBackward0';
  return 'UnsafeViewBackward0';
}

/** Records `out = matmul(a, b)` with broadcast batch dimensions and 1-D operands. */
export function recordMatmul(out: Tensor<'float32'>, a: Tensor, b: Tensor): Tensor<'float32'> {
  return record(out, matmulName(a.ndim, b.ndim), [a, b], [a, b], (g, need) => {
    if (a.ndim === 2 && b.ndim === 2) {
      const [n, m] = a.shape as [number, number];
      const p = b.shape[1] as number;
      return [
        need[0] ? Tensor.fromArray(gemm(false, true, n, m, p, 1, cpuData(g), cpuData(b)), a.shape) : null,
        need[1] ? Tensor.fromArray(gemm(true, false, m, p, n, 1, cpuData(a), cpuData(g)), b.shape) : null,
      ];
    }
    // promote 1-D operands to matrices, the gradient to (…, n, p), and use the general path
    const m = a.shape[a.ndim - 1] as number;
    const aP = a.ndim === 1 ? reshape(a, [1, m]) : a;
    const bP = b.ndim === 1 ? reshape(b, [m, 1]) : b;
    const gP = reshape(g, [
      ...out.shape.slice(0, out.ndim - (a.ndim === 1 ? 0 : 1) - (b.ndim === 1 ? 0 : 1)),
      aP.shape[aP.ndim - 2] as number,
      bP.shape[bP.ndim - 1] as number,
    ]);
    return [
      need[0] ? reshape(sumTo(matmul(gP, transpose(bP, -1, -2)), aP.shape), a.shape) : null,
      need[1] ? reshape(sumTo(matmul(transpose(aP, -1, -2), gP), bP.shape), b.shape) : null,
    ];
  });
}

/** Records `out = bmm(a, b)`: (B, n, m)·(B, m, p). */
export function recordBmm(out: Tensor<'float32'>, a: Tensor, b: Tensor): Tensor<'float32'> {
  return record(out, 'BmmBackward0', [a, b], [a, b], (g, need) => {
    const [batch, n, m] = a.shape as [number, number, number];
    const p = b.shape[2] as number;
    return [
      need[0]
        ? Tensor.fromArray(gemm(false, true, n, m, p, 1, cpuData(g), cpuData(b), batch), a.shape)
        : null,
      need[1]
        ? Tensor.fromArray(gemm(true, false, m, p, n, 1, cpuData(a), cpuData(g), batch), b.shape)
        : null,
    ];
  });
}

/** Records `out = beta·input + alpha·(mat1·mat2)` (AddmmBackward0). */
export function recordAddmm(
  out: Tensor<'float32'>,
  input: Tensor,
  mat1: Tensor,
  mat2: Tensor,
  beta: number,
  alpha: number,
): Tensor<'float32'> {
  return record(out, 'AddmmBackward0', [input, mat1, mat2], [mat1, mat2], (g, need) => {
    const [n, m] = mat1.shape as [number, number];
    const p = mat2.shape[1] as number;
    return [
      need[0] ? sumTo(beta === 1 ? g : zip2(g, g, (x) => x * beta), input.shape) : null,
      need[1]
        ? Tensor.fromArray(gemm(false, true, n, m, p, alpha, cpuData(g), cpuData(mat2)), mat1.shape)
        : null,
      need[2]
        ? Tensor.fromArray(gemm(true, false, m, p, n, alpha, cpuData(mat1), cpuData(g)), mat2.shape)
        : null,
    ];
  });
}

import { recordAddmm, recordBmm, recordMatmul } from '../autograd/matmul.js';
import { needsGrad } from '../autograd/node.js';
import { sgemm } from '../gemm.js';
import { broadcastShapes, formatShape, numelOf, type Shape } from '../shape.js';
import { cpuData, Tensor } from '../tensor.js';

/** Options of {@link addmm}: `out = beta·input + alpha·(mat1·mat2)`, both 1 by default. */
export interface AddmmOptions {
  beta?: number;
  alpha?: number;
}

/**
 * Matrix product with `torch.matmul` semantics (every result is a new contiguous tensor):
 * - (n)·(n) → [] (dot product)
 * - (n, m)·(m, p) → (n, p)
 * - (m)·(…, m, p) → (…, p): a 1-D first argument is promoted to (1, m), and that dimension removed
 * - (…, n, m)·(m) → (…, n): a 1-D second argument is promoted to (m, 1), and that dimension removed
 * - (…a, n, m)·(…b, m, p) → (…, n, p) with the batch dimensions …a and …b broadcast,
 *   e.g. (2, 1, 3, 4)·(5, 4, 6) → (2, 5, 3, 6)
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.matmul.html | torch.matmul}
 */
export function matmul(a: Tensor, b: Tensor): Tensor<'float32'> {
  const x = cpuData(a, 'matmul');
  const y = cpuData(b, 'matmul');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(
      `matmul: both arguments need to be at least 1-D, received shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const aShape = a.ndim === 1 ? [1, a.shape[0] as number] : a.shape;
  const bShape = b.ndim === 1 ? [b.shape[0] as number, 1] : b.shape;
  const [n, m] = aShape.slice(-2) as [number, number];
  const [k, p] = bShape.slice(-2) as [number, number];
  if (m !== k) throw cannotMultiply('matmul', a, b, m, k);
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(batchA, batchB, 'matmul');
  } catch {
    throw new RangeError(
      `matmul: batch dimensions ${formatShape(batchA)} of ${formatShape(a.shape)} and ` +
        `${formatShape(batchB)} of ${formatShape(b.shape)} are not broadcastable`,
    );
  }
  const count = numelOf(batch);
  const out = new Float32Array(count * n * p);
  if (numelOf(batchB) === 1) {
    // One shared right-hand matrix: the batch of a folds into the rows of a single (count·n, m)·(m, p).
    gemm(count * n, p, m, x, 0, y, 0, out, 0);
  } else {
    const sa = batchStrides(batchA, batch, n * m);
    const sb = batchStrides(batchB, batch, m * p);
    for (let t = 0; t < count; t++) {
      let ao = 0;
      let bo = 0;
      for (let d = batch.length - 1, r = t; d >= 0; d--) {
        const size = batch[d] as number;
        const i = r % size;
        r = (r - i) / size;
        ao += i * (sa[d] as number);
        bo += i * (sb[d] as number);
      }
      gemm(n, p, m, x, ao, y, bo, out, t * n * p);
    }
  }
  const shape = [...batch, ...(a.ndim === 1 ? [] : [n]), ...(b.ndim === 1 ? [] : [p])];
  const result = Tensor.fromArray(out, shape);
  return needsGrad(a, b) ? recordMatmul(result, a, b) : result;
}

/**
 * Batched matrix product like `torch.bmm`: (B, n, m)·(B, m, p) → (B, n, p); no broadcasting.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.bmm.html | torch.bmm}
 */
export function bmm(a: Tensor, b: Tensor): Tensor<'float32'> {
  const x = cpuData(a, 'bmm');
  const y = cpuData(b, 'bmm');
  if (a.ndim !== 3 || b.ndim !== 3) {
    throw new RangeError(
      `bmm: expected 3-D tensors, received shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const [batch, n, m] = a.shape as [number, number, number];
  const [batchB, k, p] = b.shape as [number, number, number];
  if (batch !== batchB) throw new RangeError(`bmm: batch sizes differ: ${batch} vs ${batchB}`);
  if (m !== k) throw cannotMultiply('bmm', a, b, m, k);
  const out = new Float32Array(batch * n * p);
  for (let t = 0; t < batch; t++) gemm(n, p, m, x, t * n * m, y, t * m * p, out, t * n * p);
  const result = Tensor.fromArray(out, [batch, n, p]);
  return needsGrad(a, b) ? recordBmm(result, a, b) : result;
}

/**
 * `beta·input + alpha·(mat1·mat2)` like `torch.addmm`: mat1 (n, m), mat2 (m, p), and input broadcastable
 * to (n, p) (e.g. a bias of shape (p)) → (n, p). With `beta = 0` input is ignored, NaN in it included.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.addmm.html | torch.addmm}
 */
export function addmm(
  input: Tensor,
  mat1: Tensor,
  mat2: Tensor,
  options: AddmmOptions = {},
): Tensor<'float32'> {
  const { beta = 1, alpha = 1 } = options;
  const z = cpuData(input, 'addmm');
  const x = cpuData(mat1, 'addmm');
  const y = cpuData(mat2, 'addmm');
  if (mat1.ndim !== 2 || mat2.ndim !== 2) {
    throw new RangeError(
      `addmm: expected 2-D mat1 and mat2, received shapes ${formatShape(mat1.shape)} and ${formatShape(mat2.shape)}`,
    );
  }
  const [n, m] = mat1.shape as [number, number];
  const [k, p] = mat2.shape as [number, number];
  if (m !== k) throw cannotMultiply('addmm', mat1, mat2, m, k);
  const target = [n, p];
  const lead = 2 - input.ndim;
  if (lead < 0 || input.shape.some((d, i) => d !== 1 && d !== target[lead + i])) {
    throw new RangeError(
      `addmm: input of shape ${formatShape(input.shape)} cannot be broadcast to [${n}, ${p}]`,
    );
  }
  const out = new Float32Array(n * p);
  if (beta !== 0) {
    // Broadcast input into out; sgemm then computes alpha·mat1·mat2 + beta·out in double precision.
    const rows = input.ndim === 2 ? (input.shape[0] as number) : 1;
    const cols = input.ndim >= 1 ? (input.shape[input.ndim - 1] as number) : 1;
    for (let i = 0; i < n; i++) {
      const src = rows === 1 ? 0 : i * cols;
      for (let j = 0; j < p; j++) out[i * p + j] = z[cols === 1 ? src : src + j] as number;
    }
  }
  sgemm(
    false,
    false,
    n,
    p,
    m,
    alpha,
    x,
    0,
    Math.max(1, m),
    y,
    0,
    Math.max(1, p),
    beta,
    out,
    0,
    Math.max(1, p),
  );
  const result = Tensor.fromArray(out, target);
  return needsGrad(input, mat1, mat2) ? recordAddmm(result, input, mat1, mat2, beta, alpha) : result;
}

/** out[o..] = x[a..]·y[b..] for contiguous row-major (n, m) and (m, p) matrices. */
function gemm(
  n: number,
  p: number,
  m: number,
  x: Float32Array,
  a: number,
  y: Float32Array,
  b: number,
  out: Float32Array,
  o: number,
): void {
  sgemm(false, false, n, p, m, 1, x, a, Math.max(1, m), y, b, Math.max(1, p), 0, out, o, Math.max(1, p));
}

/** Element strides of a (possibly shorter, right-aligned) batch shape within `batch`; 0 where it broadcasts. */
function batchStrides(own: Shape, batch: Shape, matrixSize: number): number[] {
  const strides = new Array<number>(batch.length).fill(0);
  let s = matrixSize;
  for (let d = own.length - 1; d >= 0; d--) {
    const size = own[d] as number;
    strides[batch.length - own.length + d] = size === 1 ? 0 : s;
    s *= size;
  }
  return strides;
}

function cannotMultiply(op: string, a: Tensor, b: Tensor, m: number, k: number): RangeError {
  return new RangeError(
    `${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (${m} != ${k})`,
  );
}

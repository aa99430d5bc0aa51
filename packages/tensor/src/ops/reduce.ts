import { noGrad } from '../autograd/grad-mode.js';
import { needsGrad } from '../autograd/node.js';
import { recordAlong, recordExtremum, recordMean, recordSum } from '../autograd/reduce.js';
import { normalizeDim, numelOf } from '../shape.js';
import type { DType } from '../storage.js';
import { cpuData, Tensor } from '../tensor.js';
import { extremum, maxAlong, minAlong, type ValuesIndices } from './argreduce.js';
import { abs, binary, sub } from './elementwise.js';

function reduce(
  t: Tensor,
  dim: number | undefined,
  keepdim: boolean,
  op: string,
  init: number,
  f: (acc: number, x: number) => number,
): Tensor<'float32'> {
  const x = cpuData(t, op);
  if (dim === undefined) {
    let acc = init;
    for (let i = 0; i < x.length; i++) acc = f(acc, x[i] as number);
    return Tensor.fromArray(Float32Array.of(acc), keepdim ? t.shape.map(() => 1) : []);
  }
  const d = normalizeDim(dim, t.ndim, op);
  const size = t.ndim === 0 ? 1 : (t.shape[d] as number);
  const outer = numelOf(t.shape.slice(0, d));
  const inner = numelOf(t.shape.slice(d + 1));
  const out = new Float32Array(outer * inner).fill(init);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < size; k++) {
      const base = (o * size + k) * inner;
      for (let i = 0; i < inner; i++)
        out[o * inner + i] = f(out[o * inner + i] as number, x[base + i] as number);
    }
  }
  const shape = keepdim ? t.shape.map((s, i) => (i === d ? 1 : s)) : t.shape.filter((_, i) => i !== d);
  return Tensor.fromArray(out, t.ndim === 0 ? [] : shape);
}

/**
 * Sum of all elements, or along `dim` (removed unless `keepdim`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.sum.html | torch.sum}
 */
export function sum(t: Tensor, dim?: number, keepdim = false): Tensor<'float32'> {
  const out = reduce(t, dim, keepdim, 'sum', 0, (a, x) => a + x);
  return needsGrad(t) ? recordSum(out, t, dim) : out;
}

/**
 * Mean of all elements, or along `dim`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.mean.html | torch.mean}
 */
export function mean(t: Tensor, dim?: number, keepdim = false): Tensor<'float32'> {
  const n =
    dim === undefined ? t.numel() : t.ndim === 0 ? 1 : (t.shape[normalizeDim(dim, t.ndim, 'mean')] as number);
  const s = reduce(t, dim, keepdim, 'mean', 0, (a, x) => a + x);
  const d = s.dataSync();
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) / n;
  return needsGrad(t) ? recordMean(s, t, dim, n) : s;
}

/**
 * `max(t)`: the largest element as a 0-d tensor; NaN if any element is NaN, as in PyTorch.
 * `max(t, dim, keepdim = false)`: `[values, indices]` along `dim` like `torch.max(t, dim)`: shapes are
 * `t`'s without `dim` (kept as 1 with `keepdim`), indices are int32; ties give the first index and a NaN
 * wins (values NaN, index of the first NaN). Works on float32 and int32 tensors.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.max.html | torch.max}
 */
export function max<D extends DType>(t: Tensor<D>): Tensor<D>;
export function max<D extends DType>(t: Tensor<D>, dim: number, keepdim?: boolean): ValuesIndices<D>;
export function max<D extends DType>(
  t: Tensor<D>,
  dim?: number,
  keepdim = false,
): Tensor<D> | ValuesIndices<D> {
  if (dim === undefined) {
    const out = extremum(t, 'max');
    return needsGrad(t) ? (recordExtremum(out as Tensor<'float32'>, t as Tensor, 'max') as Tensor<D>) : out;
  }
  const [values, indices] = maxAlong(t, dim, keepdim);
  if (needsGrad(t)) recordAlong(values as Tensor<'float32'>, indices, t as Tensor, dim, 'max');
  return [values, indices];
}

/**
 * `min(t)`: the smallest element; `min(t, dim, keepdim)`: `[values, indices]`, as `max` (NaN wins too).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.min.html | torch.min}
 */
export function min<D extends DType>(t: Tensor<D>): Tensor<D>;
export function min<D extends DType>(t: Tensor<D>, dim: number, keepdim?: boolean): ValuesIndices<D>;
export function min<D extends DType>(
  t: Tensor<D>,
  dim?: number,
  keepdim = false,
): Tensor<D> | ValuesIndices<D> {
  if (dim === undefined) {
    const out = extremum(t, 'min');
    return needsGrad(t) ? (recordExtremum(out as Tensor<'float32'>, t as Tensor, 'min') as Tensor<D>) : out;
  }
  const [values, indices] = minAlong(t, dim, keepdim);
  if (needsGrad(t)) recordAlong(values as Tensor<'float32'>, indices, t as Tensor, dim, 'min');
  return [values, indices];
}

/** Options of `allclose`, with PyTorch's defaults. */
export interface AllcloseOptions {
  /** Relative tolerance (1e-5). */
  rtol?: number;
  /** Absolute tolerance (1e-8). */
  atol?: number;
  /** Whether NaN equals NaN (false). */
  equalNan?: boolean;
}

/**
 * `|a − b| ≤ atol + rtol·|b|` for every element (with broadcasting), as `torch.allclose`.
 * Infinities are close only to the same infinity.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.allclose.html | torch.allclose}
 */
export function allclose(a: Tensor, b: Tensor, options: AllcloseOptions = {}): boolean {
  const { rtol = 1e-5, atol = 1e-8, equalNan = false } = options;
  const close = binary(a, b, 'allclose', (x, y) => {
    if (x === y) return 1;
    if (Number.isNaN(x) || Number.isNaN(y)) return equalNan && Number.isNaN(x) && Number.isNaN(y) ? 1 : 0;
    return Math.abs(x - y) <= atol + rtol * Math.abs(y) ? 1 : 0;
  });
  return cpuData(close, 'allclose').every((v) => v === 1);
}

/** `max |a − b|` over all elements (with broadcasting): the number the notebook prints. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  return noGrad(() => max(abs(sub(a, b))).item());
}

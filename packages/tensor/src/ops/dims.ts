import { normalizeDim, numelOf, type Shape } from '../shape.js';

/** A tensor of `shape` seen as `(outer, size, inner)` around dimension `dim` (a 0-d tensor as `(1, 1, 1)`). */
export interface DimSplit {
  /** `dim` wrapped into `[0, ndim)` (0 for a 0-d tensor). */
  d: number;
  outer: number;
  size: number;
  inner: number;
}

export function splitAt(shape: Shape, dim: number, op: string): DimSplit {
  const d = normalizeDim(dim, shape.length, op);
  if (shape.length === 0) return { d, outer: 1, size: 1, inner: 1 };
  return {
    d,
    outer: numelOf(shape.slice(0, d)),
    size: shape[d] as number,
    inner: numelOf(shape.slice(d + 1)),
  };
}

/** `shape` with dimension `d` set to `n`, or removed when `n` is null (a 0-d shape stays 0-d). */
export function withDim(shape: Shape, d: number, n: number | null): number[] {
  if (shape.length === 0) return [];
  return n === null ? shape.filter((_, i) => i !== d) : shape.map((s, i) => (i === d ? n : s));
}

import type { Shape } from '../shape.js';
import type { ArrayOf, DType } from '../storage.js';

/** A zeroed array of `n` elements of the same type as `like` (Float32Array or Int32Array). */
export function allocLike<D extends DType>(like: ArrayOf<D>, n: number): ArrayOf<D> {
  return (like instanceof Int32Array ? new Int32Array(n) : new Float32Array(n)) as ArrayOf<D>;
}

/**
 * Copies a strided view of `src` into a new contiguous array of the same type.
 * `strides` may be 0 (broadcast) or negative (flip); `offset` is the element the view starts at.
 * Every layout op (permute, expand, select, narrow, flip, tile) is one call of this.
 */
export function gatherStrided<D extends DType>(
  src: ArrayOf<D>,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): ArrayOf<D> {
  const ndim = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  const out: Float32Array | Int32Array = allocLike<D>(src, n);
  if (n === 0) return out as ArrayOf<D>;
  if (ndim === 0) {
    out[0] = src[offset] as number;
    return out as ArrayOf<D>;
  }
  const inner = shape[ndim - 1] as number;
  const innerStride = strides[ndim - 1] as number;
  const index = new Array<number>(ndim - 1).fill(0);
  let base = offset;
  for (let o = 0; o < n; o += inner) {
    if (innerStride === 1) out.set(src.subarray(base, base + inner), o);
    else for (let j = 0, s = base; j < inner; j++, s += innerStride) out[o + j] = src[s] as number;
    // advance the outer multi-index like an odometer
    for (let d = ndim - 2; d >= 0; d--) {
      const i = (index[d] as number) + 1;
      base += strides[d] as number;
      if (i < (shape[d] as number)) {
        index[d] = i;
        break;
      }
      index[d] = 0;
      base -= i * (strides[d] as number);
    }
  }
  return out as ArrayOf<D>;
}

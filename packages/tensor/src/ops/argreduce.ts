import { formatShape } from '../shape.js';
import type { ArrayOf, DType } from '../storage.js';
import { cpuArray, Tensor } from '../tensor.js';
import { splitAt, withDim } from './dims.js';
import { allocLike } from './strided.js';

/** `[values, indices]` of a reduction along a dimension, like PyTorch's `(values, indices)` named tuple. */
export type ValuesIndices<D extends DType = 'float32'> = [values: Tensor<D>, indices: Tensor<'int32'>];

// NaN beats every number (the first NaN wins, as PyTorch's CPU kernels propagate it); among numbers a
// strictly better value replaces the best, so ties keep the first occurrence.
const greater = (x: number, best: number): boolean => !Number.isNaN(best) && (Number.isNaN(x) || x > best);
const less = (x: number, best: number): boolean => !Number.isNaN(best) && (Number.isNaN(x) || x < best);

/** Best element and its index along `dim`, with PyTorch's ordering of NaN and ties. */
export function reduceWithIndex<D extends DType>(
  t: Tensor<D>,
  dim: number,
  keepdim: boolean,
  op: string,
  better: (x: number, best: number) => boolean,
): ValuesIndices<D> {
  const x: Float32Array | Int32Array = cpuArray(t, op);
  const { d, outer, size, inner } = splitAt(t.shape, dim, op);
  if (size === 0) throw new RangeError(`${op}(): Expected reduction dim ${d} to have non-zero size.`);
  const values: Float32Array | Int32Array = allocLike<D>(cpuArray(t, op), outer * inner);
  const indices = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let best = x[base] as number;
      let at = 0;
      for (let k = 1; k < size; k++) {
        const v = x[base + k * inner] as number;
        if (better(v, best)) {
          best = v;
          at = k;
        }
      }
      values[o * inner + i] = best;
      indices[o * inner + i] = at;
    }
  }
  const shape = withDim(t.shape, d, keepdim ? 1 : null);
  return [Tensor.fromArray<D>(values as ArrayOf<D>, shape), Tensor.fromArray(indices, shape)];
}

function flatten<D extends DType>(t: Tensor<D>, op: string): Tensor<D> {
  if (t.numel() === 0) {
    throw new RangeError(
      `${op}(): Expected reduction dim to be specified for input.numel() == 0 (shape ${formatShape(t.shape)})`,
    );
  }
  return new Tensor(t.storage, [t.numel()]);
}

function argReduce(
  t: Tensor<DType>,
  dim: number | undefined,
  keepdim: boolean,
  op: string,
  better: (x: number, best: number) => boolean,
): Tensor<'int32'> {
  if (dim !== undefined) return reduceWithIndex(t, dim, keepdim, op, better)[1];
  const [, index] = reduceWithIndex(flatten(t, op), 0, false, op, better);
  return keepdim
    ? new Tensor(
        index.storage,
        t.shape.map(() => 1),
      )
    : index;
}

/**
 * Index of the largest element along `dim` (int32, `dim` removed unless `keepdim`), like `torch.argmax`;
 * without `dim`, the index into the flattened tensor (a 0-d tensor, or all-1s shape with `keepdim`).
 * Ties give the first index; a NaN counts as the largest (its first index wins), as in PyTorch.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.argmax.html | torch.argmax}
 */
export function argmax(t: Tensor<DType>, dim?: number, keepdim = false): Tensor<'int32'> {
  return argReduce(t, dim, keepdim, 'argmax', greater);
}

/**
 * Index of the smallest element along `dim` (or flattened), like `torch.argmin`; NaN counts as the smallest.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.argmin.html | torch.argmin}
 */
export function argmin(t: Tensor<DType>, dim?: number, keepdim = false): Tensor<'int32'> {
  return argReduce(t, dim, keepdim, 'argmin', less);
}

/** `torch.max(t, dim, keepdim)` for `max`/`min` in reduce.ts. */
export function maxAlong<D extends DType>(t: Tensor<D>, dim: number, keepdim: boolean): ValuesIndices<D> {
  return reduceWithIndex(t, dim, keepdim, 'max', greater);
}

/** `torch.min(t, dim, keepdim)`. */
export function minAlong<D extends DType>(t: Tensor<D>, dim: number, keepdim: boolean): ValuesIndices<D> {
  return reduceWithIndex(t, dim, keepdim, 'min', less);
}

/** The largest/smallest element of a non-empty tensor, as a 0-d tensor of its dtype. */
export function extremum<D extends DType>(t: Tensor<D>, op: 'max' | 'min'): Tensor<D> {
  if (t.numel() === 0) {
    throw new RangeError(`${op}: expected a non-empty tensor, received shape ${formatShape(t.shape)}`);
  }
  const flat = new Tensor(t.storage, [t.numel()]);
  const [values] = reduceWithIndex(flat, 0, false, op, op === 'max' ? greater : less);
  return values;
}

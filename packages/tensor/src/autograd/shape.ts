// Derivative rules of the layout ops: each moves the gradient back the way the op moved the data.
import { splitAt } from '../ops/dims.js';
import { flip, narrow, reshape, select } from '../ops/shape.js';
import type { Shape } from '../shape.js';
import type { DType } from '../storage.js';
import { cpuData, Tensor } from '../tensor.js';
import { sumTo } from './broadcast.js';
import { record } from './node.js';

type F = Tensor<'float32'>;

/** Records a view or copy whose gradient is `g` reshaped to the input's shape (reshape, view, (un)squeeze, clone). */
export function recordReshape<D extends DType>(out: Tensor<D>, t: Tensor<D>, name: string): Tensor<D> {
  return record(out, name, [t], [], (g) => [reshape(g, t.shape)]);
}

/** Records `permute(t, dims)` (PermuteBackward0) or `transpose` (TransposeBackward0): the inverse permutation. */
export function recordPermute<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  dims: readonly number[],
  name: string,
  permuteRaw: (g: F, inverse: readonly number[]) => F,
): Tensor<D> {
  const inverse = new Array<number>(dims.length);
  dims.forEach((d, i) => {
    inverse[d] = i;
  });
  return record(out, name, [t], [], (g) => [permuteRaw(g, inverse)]);
}

/** Records `expand(t, shape)` (ExpandBackward0): the gradient summed over the broadcast dimensions. */
export function recordExpand<D extends DType>(out: Tensor<D>, t: Tensor<D>): Tensor<D> {
  return record(out, 'ExpandBackward0', [t], [], (g) => [sumTo(g, t.shape)]);
}

/** Records `tile(t, reps)` (RepeatBackward0): the gradient summed over the repeats. */
export function recordTile<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  reps: readonly number[],
): Tensor<D> {
  const n = Math.max(reps.length, t.ndim);
  const shape = [...new Array<number>(n - t.ndim).fill(1), ...t.shape];
  const r = [...new Array<number>(n - reps.length).fill(1), ...reps];
  return record(out, 'RepeatBackward0', [t], [], (g) => {
    // g is (r0·s0, r1·s1, …) = (r0, s0, r1, s1, …) row-major: sum over every r axis
    const split = reshape(
      g,
      shape.flatMap((s, i) => [r[i] as number, s]),
    );
    const summed = sumTo(
      split,
      shape.flatMap((s) => [1, s]),
    );
    return [reshape(summed, t.shape)];
  });
}

/** Zeros of `shape` with `g` written at `start … start + g.size(d) − 1` along `d` (select/narrow/cat backward). */
function embed(g: F, shape: Shape, dim: number, start: number): F {
  const x = cpuData(g, 'backward');
  const { outer, size, inner } = splitAt(shape, dim, 'backward');
  const out = new Float32Array(outer * size * inner);
  const chunk = x.length / Math.max(outer, 1);
  if (chunk > 0) {
    for (let o = 0; o < outer; o++)
      out.set(x.subarray(o * chunk, (o + 1) * chunk), (o * size + start) * inner);
  }
  return Tensor.fromArray(out, shape);
}

/** Records `select(t, dim, index)` (SelectBackward0). */
export function recordSelect<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  dim: number,
  index: number,
): Tensor<D> {
  return record(out, 'SelectBackward0', [t], [], (g) => [embed(g, t.shape, dim, index)]);
}

/** Records `narrow(t, dim, start, length)` (SliceBackward0, as PyTorch's narrow is a slice). */
export function recordNarrow<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  dim: number,
  start: number,
): Tensor<D> {
  return record(out, 'SliceBackward0', [t], [], (g) => [embed(g, t.shape, dim, start)]);
}

/** Records `flip(t, dims)` (FlipBackward0). */
export function recordFlip<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  dims: readonly number[],
): Tensor<D> {
  return record(out, 'FlipBackward0', [t], [], (g) => [flip(g, dims)]);
}

/** Records `cat(tensors, d)` (CatBackward0): each input gets its slice. */
export function recordCat<D extends DType>(
  out: Tensor<D>,
  tensors: readonly Tensor<D>[],
  d: number,
): Tensor<D> {
  const starts: number[] = [];
  let at = 0;
  for (const t of tensors) {
    starts.push(at);
    at += t.shape[d] as number;
  }
  return record(out, 'CatBackward0', tensors, [], (g, need) =>
    tensors.map((t, k) => (need[k] ? narrow(g, d, starts[k] as number, t.shape[d] as number) : null)),
  );
}

/** Records `stack(tensors, d)` (StackBackward0): each input gets its slice along the new dimension. */
export function recordStack<D extends DType>(
  out: Tensor<D>,
  tensors: readonly Tensor<D>[],
  d: number,
): Tensor<D> {
  return record(out, 'StackBackward0', tensors, [], (g, need) =>
    tensors.map((_, k) => (need[k] ? select(g, d, k) : null)),
  );
}

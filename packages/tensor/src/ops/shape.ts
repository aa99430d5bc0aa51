import { anyNeedsGrad, needsGrad } from '../autograd/node.js';
import {
  recordCat,
  recordExpand,
  recordFlip,
  recordNarrow,
  recordPermute,
  recordReshape,
  recordSelect,
  recordStack,
  recordTile,
} from '../autograd/shape.js';
import {
  checkShape,
  formatShape,
  normalizeDim,
  numelOf,
  type Shape,
  shapesEqual,
  stridesOf,
} from '../shape.js';
import type { ArrayOf, DType } from '../storage.js';
import { cpuArray, Tensor } from '../tensor.js';
import { allocLike, gatherStrided } from './strided.js';

function alias<D extends DType>(t: Tensor<D>, shape: Shape): Tensor<D> {
  return new Tensor(t.storage, shape);
}

/**
 * Same data, new shape; one entry may be `-1` (inferred). Shares storage (tensors are contiguous).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.reshape.html | torch.reshape}
 */
export function reshape<D extends DType>(t: Tensor<D>, shape: Shape): Tensor<D> {
  const out = alias(t, resolveShape(t, shape, 'reshape'));
  return needsGrad(t) ? recordReshape(out, t, 'ReshapeAliasBackward0') : out;
}

/**
 * PyTorch's `view`: `reshape` (shares storage), recorded as ViewBackward0.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.Tensor.view.html | torch.Tensor.view}
 */
export function view<D extends DType>(t: Tensor<D>, shape: Shape): Tensor<D> {
  const out = alias(t, resolveShape(t, shape, 'view'));
  return needsGrad(t) ? recordReshape(out, t, 'ViewBackward0') : out;
}

function resolveShape(t: Tensor<DType>, shape: Shape, op: string): number[] {
  const inferAt = shape.indexOf(-1);
  if (shape.filter((d) => d === -1).length > 1)
    throw new RangeError(`${op}: only one dimension can be inferred (-1)`);
  const known = numelOf(shape.filter((_, i) => i !== inferAt));
  const resolved = [...shape];
  if (inferAt >= 0) {
    if (known === 0 || t.numel() % known !== 0) {
      throw new RangeError(`${op}: shape ${formatShape(shape)} is invalid for input of size ${t.numel()}`);
    }
    resolved[inferAt] = t.numel() / known;
  }
  checkShape(resolved, `${op}: shape`);
  if (numelOf(resolved) !== t.numel()) {
    throw new RangeError(`${op}: shape ${formatShape(shape)} is invalid for input of size ${t.numel()}`);
  }
  return resolved;
}

/**
 * Inserts a dimension of size 1 at `dim` (in `[-ndim-1, ndim]`). Shares storage.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.unsqueeze.html | torch.unsqueeze}
 */
export function unsqueeze<D extends DType>(t: Tensor<D>, dim: number): Tensor<D> {
  const d = normalizeDim(dim, t.ndim + 1, 'unsqueeze');
  const out = alias(t, [...t.shape.slice(0, d), 1, ...t.shape.slice(d)]);
  return needsGrad(t) ? recordReshape(out, t, 'UnsqueezeBackward0') : out;
}

/**
 * Removes size-1 dimensions (all, or only `dim` if it has size 1), as `torch.squeeze`. Shares storage.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.squeeze.html | torch.squeeze}
 */
export function squeeze<D extends DType>(t: Tensor<D>, dim?: number): Tensor<D> {
  if (dim === undefined) {
    const out = alias(
      t,
      t.shape.filter((s) => s !== 1),
    );
    return needsGrad(t) ? recordReshape(out, t, 'SqueezeBackward0') : out;
  }
  const d = normalizeDim(dim, t.ndim, 'squeeze');
  if (!needsGrad(t)) return t.shape[d] === 1 ? alias(t, withoutDim(t.shape, d)) : t;
  // recorded, a squeeze is always a new tensor, as in PyTorch
  return recordReshape(alias(t, t.shape[d] === 1 ? withoutDim(t.shape, d) : t.shape), t, 'SqueezeBackward1');
}

function withoutDim(shape: Shape, d: number): number[] {
  return shape.filter((_, i) => i !== d);
}

/**
 * Reorders dimensions: output dim `i` is input dim `dims[i]` (copies).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.permute.html | torch.permute}
 */
export function permute<D extends DType>(t: Tensor<D>, dims: readonly number[]): Tensor<D> {
  const norm = permutation(t, dims);
  const out = permuteRaw(t, norm);
  return needsGrad(t) ? recordPermute(out, t, norm, 'PermuteBackward0', permuteRaw) : out;
}

function permutation(t: Tensor<DType>, dims: readonly number[]): number[] {
  const n = t.ndim;
  const norm = dims.map((d) => normalizeDim(d, n, 'permute'));
  if (dims.length !== n || new Set(norm).size !== n) {
    throw new RangeError(
      `permute: dims ${formatShape(dims)} must be a permutation of the ${n} dimensions of a tensor of shape ${formatShape(t.shape)}`,
    );
  }
  return norm;
}

function permuteRaw<D extends DType>(t: Tensor<D>, norm: readonly number[]): Tensor<D> {
  const strides = stridesOf(t.shape);
  return Tensor.fromArray<D>(
    gatherStrided(
      cpuArray(t, 'permute'),
      norm.map((d) => t.shape[d] as number),
      norm.map((d) => strides[d] as number),
      0,
    ),
    norm.map((d) => t.shape[d] as number),
  );
}

/**
 * Swaps two dimensions (copies).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.transpose.html | torch.transpose}
 */
export function transpose<D extends DType>(t: Tensor<D>, dim0: number, dim1: number): Tensor<D> {
  const a = normalizeDim(dim0, t.ndim, 'transpose');
  const b = normalizeDim(dim1, t.ndim, 'transpose');
  const dims = t.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  const out = permuteRaw(t, dims);
  return needsGrad(t) ? recordPermute(out, t, dims, 'TransposeBackward0', permuteRaw) : out;
}

/**
 * Broadcasts size-1 dimensions to `shape` (and prepends new leading ones), like `torch.expand`;
 * `-1` keeps a dimension. The result is materialized (copies).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.Tensor.expand.html | torch.Tensor.expand}
 */
export function expand<D extends DType>(t: Tensor<D>, shape: Shape): Tensor<D> {
  const lead = shape.length - t.ndim;
  const fail = (): never => {
    throw new RangeError(
      `expand: cannot expand a tensor of shape ${formatShape(t.shape)} to ${formatShape(shape)}`,
    );
  };
  if (lead < 0) fail();
  const src = stridesOf(t.shape);
  const outShape: number[] = [];
  const strides: number[] = [];
  shape.forEach((s, i) => {
    const own = i >= lead ? (t.shape[i - lead] as number) : 1;
    const target = s === -1 && i >= lead ? own : s;
    if (!Number.isInteger(target) || target < 0 || (own !== 1 && own !== target)) fail();
    outShape.push(target);
    strides.push(i >= lead && own !== 1 ? (src[i - lead] as number) : 0);
  });
  const out = Tensor.fromArray<D>(gatherStrided(cpuArray(t, 'expand'), outShape, strides, 0), outShape);
  return needsGrad(t) ? recordExpand(out, t) : out;
}

/**
 * Repeats the tensor `reps[i]` times along each dimension, like `torch.tile`
 * (`reps` shorter than the rank is padded with leading 1s, longer prepends dimensions).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.tile.html | torch.tile}
 */
export function tile<D extends DType>(t: Tensor<D>, reps: readonly number[]): Tensor<D> {
  checkShape(reps, 'tile: reps');
  const n = Math.max(reps.length, t.ndim);
  const shape = [...new Array<number>(n - t.ndim).fill(1), ...t.shape];
  const r = [...new Array<number>(n - reps.length).fill(1), ...reps];
  const src = stridesOf(shape);
  // view as (r0, s0, r1, s1, …) with stride 0 over each repeat axis, then merge pairs
  const vShape = shape.flatMap((s, i) => [r[i] as number, s]);
  const vStrides = shape.flatMap((_, i) => [0, src[i] as number]);
  const out = Tensor.fromArray<D>(
    gatherStrided(cpuArray(t, 'tile'), vShape, vStrides, 0),
    shape.map((s, i) => s * (r[i] as number)),
  );
  return needsGrad(t) ? recordTile(out, t, reps) : out;
}

/**
 * The slice at `index` along `dim`, with that dimension removed (`t.select(dim, index)`; copies).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.select.html | torch.select}
 */
export function select<D extends DType>(t: Tensor<D>, dim: number, index: number): Tensor<D> {
  const d = normalizeDim(dim, t.ndim, 'select');
  const size = t.shape[d] as number;
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new RangeError(`select: index ${index} out of range for dimension ${d} of size ${size}`);
  }
  const i = index < 0 ? index + size : index;
  const strides = stridesOf(t.shape);
  const shape = t.shape.filter((_, k) => k !== d);
  const out = Tensor.fromArray<D>(
    gatherStrided(
      cpuArray(t, 'select'),
      shape,
      strides.filter((_, k) => k !== d),
      i * (strides[d] as number),
    ),
    shape,
  );
  return needsGrad(t) ? recordSelect(out, t, d, i) : out;
}

/**
 * Elements `start … start+length−1` along `dim` (`t.narrow(dim, start, length)`; copies).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.narrow.html | torch.narrow}
 */
export function narrow<D extends DType>(t: Tensor<D>, dim: number, start: number, length: number): Tensor<D> {
  const d = normalizeDim(dim, t.ndim, 'narrow');
  const size = t.shape[d] as number;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new RangeError(
      `narrow: start ${start} and length ${length} exceed dimension ${d} of size ${size} (shape ${formatShape(t.shape)})`,
    );
  }
  const strides = stridesOf(t.shape);
  const shape = t.shape.map((x, k) => (k === d ? length : x));
  const out = Tensor.fromArray<D>(
    gatherStrided(cpuArray(t, 'narrow'), shape, strides, s * (strides[d] as number)),
    shape,
  );
  return needsGrad(t) ? recordNarrow(out, t, d, s) : out;
}

/**
 * Reverses the order along each of `dims` (copies).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.flip.html | torch.flip}
 */
export function flip<D extends DType>(t: Tensor<D>, dims: readonly number[]): Tensor<D> {
  const strides = stridesOf(t.shape);
  let offset = 0;
  for (const dim of new Set(dims.map((d) => normalizeDim(d, t.ndim, 'flip')))) {
    offset += ((t.shape[dim] as number) - 1) * (strides[dim] as number);
    strides[dim] = -(strides[dim] as number);
  }
  const out =
    t.numel() === 0
      ? Tensor.fromArray<D>(allocLike<D>(cpuArray(t, 'flip'), 0), t.shape)
      : Tensor.fromArray<D>(gatherStrided(cpuArray(t, 'flip'), t.shape, strides, offset), t.shape);
  return needsGrad(t) ? recordFlip(out, t, dims) : out;
}

/**
 * Concatenates along `dim`; all other dimensions must match.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.cat.html | torch.cat}
 */
export function cat<D extends DType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  const [out, d] = catRaw(tensors, dim);
  return anyNeedsGrad(tensors) ? recordCat(out, tensors, d) : out;
}

function catRaw<D extends DType>(tensors: readonly Tensor<D>[], dim: number): [Tensor<D>, number] {
  if (tensors.length === 0) throw new RangeError('cat: expected a non-empty list of tensors');
  const first = tensors[0] as Tensor<D>;
  const d = normalizeDim(dim, first.ndim, 'cat');
  tensors.forEach((t, k) => {
    if (t.dtype !== first.dtype) {
      throw new TypeError(
        `cat: expected tensors of one dtype: tensor 0 is ${first.dtype}, tensor ${k} is ${t.dtype} (convert with t.float() or t.int())`,
      );
    }
    const same = t.ndim === first.ndim && t.shape.every((s, i) => i === d || s === first.shape[i]);
    if (!same) {
      throw new RangeError(
        `cat: sizes of tensors must match except in dimension ${d}: tensor 0 has shape ${formatShape(first.shape)}, ` +
          `tensor ${k} has shape ${formatShape(t.shape)}`,
      );
    }
  });
  const outer = numelOf(first.shape.slice(0, d));
  const inner = numelOf(first.shape.slice(d + 1));
  const total = tensors.reduce((s, t) => s + (t.shape[d] as number), 0);
  const out: Float32Array | Int32Array = allocLike<D>(cpuArray(first, 'cat'), outer * total * inner);
  let at = 0;
  for (const t of tensors) {
    const src: Float32Array | Int32Array = cpuArray(t, 'cat');
    const chunk = (t.shape[d] as number) * inner;
    for (let o = 0; o < outer; o++) out.set(src.subarray(o * chunk, (o + 1) * chunk), o * total * inner + at);
    at += chunk;
  }
  return [
    Tensor.fromArray<D>(
      out as ArrayOf<D>,
      first.shape.map((s, i) => (i === d ? total : s)),
    ),
    d,
  ];
}

/**
 * Stacks equal-shaped tensors along a new dimension `dim`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.stack.html | torch.stack}
 */
export function stack<D extends DType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  if (tensors.length === 0) throw new RangeError('stack: expected a non-empty list of tensors');
  const first = tensors[0] as Tensor<D>;
  tensors.forEach((t, k) => {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new RangeError(
        `stack: expects each tensor to be equal size, but got ${formatShape(first.shape)} at entry 0 and ` +
          `${formatShape(t.shape)} at entry ${k}`,
      );
    }
  });
  const d = normalizeDim(dim, first.ndim + 1, 'stack');
  const [out] = catRaw(
    tensors.map((t) => alias(t, [...t.shape.slice(0, d), 1, ...t.shape.slice(d)])),
    d,
  );
  return anyNeedsGrad(tensors) ? recordStack(out, tensors, d) : out;
}

/**
 * A contiguous copy with its own storage (PyTorch's `clone`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.clone.html | torch.clone}
 */
export function clone<D extends DType>(t: Tensor<D>): Tensor<D> {
  const out = Tensor.fromArray<D>(cpuArray(t, 'clone').slice() as ArrayOf<D>, t.shape);
  return needsGrad(t) ? recordReshape(out, t, 'CloneBackward0') : out;
}

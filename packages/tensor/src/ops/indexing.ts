import { recordEmbedding, recordGather, recordIndexSelect } from '../autograd/indexing.js';
import { needsGrad } from '../autograd/node.js';
import { formatShape, stridesOf } from '../shape.js';
import type { ArrayOf, DType } from '../storage.js';
import { cpuArray, cpuIndex, Tensor } from '../tensor.js';
import { splitAt, withDim } from './dims.js';
import { allocLike } from './strided.js';

function outOfBounds(op: string, index: number, d: number, size: number): RangeError {
  return new RangeError(`${op}: index ${index} is out of bounds for dimension ${d} with size ${size}`);
}

/**
 * `out[i][j][k] = t[index[i][j][k]][j][k]` for `dim = 0` (and so on for other dims), like
 * `torch.gather(t, dim, index)`: `index` is an int32 tensor with `t`'s number of dimensions and no
 * dimension larger than `t`'s except along `dim`; the result has `index`'s shape and `t`'s dtype.
 * Indices must lie in `[0, t.size(dim))` (no negative indices, as in PyTorch).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.gather.html | torch.gather}
 */
export function gather<D extends DType>(t: Tensor<D>, dim: number, index: Tensor<'int32'>): Tensor<D> {
  const op = 'gather';
  const x: Float32Array | Int32Array = cpuArray(t, op);
  const idx = cpuIndex(index, op);
  const { d, size } = splitAt(t.shape, dim, op);
  if (index.ndim !== t.ndim) {
    throw new RangeError(
      `${op}: index must have the same number of dimensions as the input: index shape ` +
        `${formatShape(index.shape)}, input shape ${formatShape(t.shape)}`,
    );
  }
  index.shape.forEach((s, i) => {
    if (i !== d && s > (t.shape[i] as number)) {
      throw new RangeError(
        `${op}: size does not match at dimension ${i}: expected index ${formatShape(index.shape)} to be no ` +
          `larger than input ${formatShape(t.shape)} apart from dimension ${d}`,
      );
    }
  });
  const out: Float32Array | Int32Array = allocLike<D>(cpuArray(t, op), idx.length);
  const strides = stridesOf(t.shape);
  const shape = index.shape;
  const ndim = shape.length;
  const pos = new Array<number>(ndim).fill(0);
  for (let n = 0; n < idx.length; n++) {
    const j = idx[n] as number;
    if (j < 0 || j >= size) throw outOfBounds(op, j, d, size);
    let offset = 0;
    for (let a = 0; a < ndim; a++) offset += (a === d ? j : (pos[a] as number)) * (strides[a] as number);
    out[n] = x[offset] as number;
    for (let a = ndim - 1; a >= 0; a--) {
      const next = (pos[a] as number) + 1;
      if (next < (shape[a] as number)) {
        pos[a] = next;
        break;
      }
      pos[a] = 0;
    }
  }
  const result = Tensor.fromArray<D>(out as ArrayOf<D>, shape);
  return needsGrad(t) ? recordGather(result, t, d, index) : result;
}

/**
 * The slices of `t` at `index` along `dim`, like `torch.index_select(t, dim, index)`: `index` is a 1-D
 * (or 0-d) int32 tensor of indices in `[0, t.size(dim))`; the result is `t`'s shape with `dim` of size
 * `index.numel()`, in `t`'s dtype. An embedding lookup is `indexSelect(weight, 0, ids)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.index_select.html | torch.index_select}
 */
export function indexSelect<D extends DType>(t: Tensor<D>, dim: number, index: Tensor<'int32'>): Tensor<D> {
  const out = indexSelectRaw(t, dim, index, 'indexSelect');
  return needsGrad(t) ? recordIndexSelect(out, t, splitAt(t.shape, dim, 'indexSelect').d, index) : out;
}

function indexSelectRaw<D extends DType>(
  t: Tensor<D>,
  dim: number,
  index: Tensor<'int32'>,
  op: string,
): Tensor<D> {
  const x: Float32Array | Int32Array = cpuArray(t, op);
  const idx = cpuIndex(index, op);
  if (index.ndim > 1) {
    throw new RangeError(
      `${op}: index must be a vector (1-D or 0-d), received shape ${formatShape(index.shape)}`,
    );
  }
  const { d, outer, size, inner } = splitAt(t.shape, dim, op);
  const n = idx.length;
  const out: Float32Array | Int32Array = allocLike<D>(cpuArray(t, op), outer * n * inner);
  for (let k = 0; k < n; k++) {
    const j = idx[k] as number;
    if (j < 0 || j >= size) throw outOfBounds(op, j, d, size);
  }
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const from = (o * size + (idx[k] as number)) * inner;
      out.set(x.subarray(from, from + inner), (o * n + k) * inner);
    }
  }
  const shape = t.ndim === 0 && index.ndim === 0 ? [] : withDim(t.ndim === 0 ? [1] : t.shape, d, n);
  return Tensor.fromArray<D>(out as ArrayOf<D>, shape);
}

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** A row id whose gradient stays zero (PyTorch's `padding_idx`; negative counts from the end). */
  paddingIdx?: number;
}

/**
 * Rows of `weight` `(numEmbeddings, embeddingDim)` at the int32 ids of `input` (any shape `(…)`) →
 * `(…, embeddingDim)`, like `torch.nn.functional.embedding`: the lookup `indexSelect(weight, 0, ids)`
 * recorded as EmbeddingBackward0, whose gradient sums the rows per id (none for `paddingIdx`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.embedding.html | torch.nn.functional.embedding}
 */
export function embedding(
  input: Tensor<'int32'>,
  weight: Tensor,
  options: EmbeddingOptions = {},
): Tensor<'float32'> {
  const op = 'embedding';
  if (weight.ndim !== 2) {
    throw new RangeError(
      `${op}: weight must be 2-D (numEmbeddings, embeddingDim), received shape ${formatShape(weight.shape)}`,
    );
  }
  const [n, dim] = weight.shape as [number, number];
  let pad = options.paddingIdx ?? -1;
  if (options.paddingIdx !== undefined) {
    if (!Number.isInteger(pad) || pad < -n || pad >= n) {
      throw new RangeError(`${op}: paddingIdx must be within num_embeddings (${n}), received ${pad}`);
    }
    if (pad < 0) pad += n;
  }
  cpuIndex(input, op, 'input');
  const flat = new Tensor(input.storage, [input.numel()]);
  const rows = indexSelectRaw(weight, 0, flat, op);
  const out = new Tensor(rows.storage, [...input.shape, dim]) as Tensor<'float32'>;
  return needsGrad(weight) ? recordEmbedding(out, input, weight, pad) : out;
}

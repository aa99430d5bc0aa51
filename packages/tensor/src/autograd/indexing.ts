// Derivative rules of the lookups: the gradient is scattered (added) back to the rows it was read from.
import { splitAt } from '../ops/dims.js';
import { stridesOf } from '../shape.js';
import type { DType } from '../storage.js';
import { cpuData, cpuIndex, Tensor } from '../tensor.js';
import { record } from './node.js';

/** Records `gather(t, dim, index)` (GatherBackward0): a scatter-add of the gradient into zeros of `t`'s shape. */
export function recordGather<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  d: number,
  index: Tensor<'int32'>,
): Tensor<D> {
  return record(out, 'GatherBackward0', [t], [index], (g) => {
    const x = cpuData(g, 'backward');
    const idx = cpuIndex(index, 'backward');
    const grad = new Float32Array(t.numel());
    const strides = stridesOf(t.shape);
    const shape = index.shape;
    const ndim = shape.length;
    const pos = new Array<number>(ndim).fill(0);
    for (let n = 0; n < idx.length; n++) {
      let offset = 0;
      for (let a = 0; a < ndim; a++)
        offset += (a === d ? (idx[n] as number) : (pos[a] as number)) * (strides[a] as number);
      grad[offset] = (grad[offset] as number) + (x[n] as number);
      for (let a = ndim - 1; a >= 0; a--) {
        const next = (pos[a] as number) + 1;
        if (next < (shape[a] as number)) {
          pos[a] = next;
          break;
        }
        pos[a] = 0;
      }
    }
    return [Tensor.fromArray(grad, t.shape)];
  });
}

/** `index_add`: zeros of `shape` with row `k` of `g` (along `dim`) added at `idx[k]`, skipping `skip`. */
function indexAdd(
  g: Tensor<'float32'>,
  shape: readonly number[],
  dim: number,
  idx: Int32Array,
  skip = -1,
): Tensor<'float32'> {
  const x = cpuData(g, 'backward');
  const { outer, size, inner } = splitAt(shape, dim, 'backward');
  const n = idx.length;
  const grad = new Float32Array(outer * size * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const j = idx[k] as number;
      if (j === skip) continue;
      const to = (o * size + j) * inner;
      const from = (o * n + k) * inner;
      for (let i = 0; i < inner; i++) grad[to + i] = (grad[to + i] as number) + (x[from + i] as number);
    }
  }
  return Tensor.fromArray(grad, shape);
}

/** Records `indexSelect(t, dim, index)` (IndexSelectBackward0): an index_add of the gradient. */
export function recordIndexSelect<D extends DType>(
  out: Tensor<D>,
  t: Tensor<D>,
  dim: number,
  index: Tensor<'int32'>,
): Tensor<D> {
  return record(out, 'IndexSelectBackward0', [t], [index], (g) => {
    const grad = indexAdd(g, t.ndim === 0 ? [1] : t.shape, dim, cpuIndex(index, 'backward'));
    return [t.ndim === 0 ? Tensor.fromArray(cpuData(grad), []) : grad];
  });
}

/** Records `embedding(input, weight)` (EmbeddingBackward0): rows summed per id; `paddingIdx`'s row gets none. */
export function recordEmbedding(
  out: Tensor<'float32'>,
  input: Tensor<'int32'>,
  weight: Tensor,
  paddingIdx: number,
): Tensor<'float32'> {
  return record(out, 'EmbeddingBackward0', [weight], [input], (g) => [
    indexAdd(g, weight.shape, 0, cpuIndex(input, 'backward'), paddingIdx),
  ]);
}

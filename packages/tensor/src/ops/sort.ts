import { needsGrad } from '../autograd/node.js';
import { recordTopk } from '../autograd/reduce.js';
import type { ArrayOf, DType } from '../storage.js';
import { cpuArray, Tensor } from '../tensor.js';
import type { ValuesIndices } from './argreduce.js';
import { splitAt, withDim } from './dims.js';
import { nthElement, partialSort, stlSort } from './stl-sort.js';
import { allocLike } from './strided.js';

/**
 * The `k` largest (or, with `largest = false`, smallest) elements along `dim` (default −1) and their
 * int32 indices, like `torch.topk(t, k, dim, largest, sorted)`: both of `t`'s shape with `dim` of size `k`.
 * NaN counts as larger than every number (first for `largest`, last otherwise), as in PyTorch. The order,
 * also among equal values and with `sorted = false`, is PyTorch's CPU order: the same libstdc++
 * `partial_sort` / `nth_element` + `sort` calls run on the same queue (see stl-sort.ts).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.topk.html | torch.topk}
 */
export function topk<D extends DType>(
  t: Tensor<D>,
  k: number,
  dim = -1,
  largest = true,
  sorted = true,
): ValuesIndices<D> {
  const x: Float32Array | Int32Array = cpuArray(t, 'topk');
  const { d, outer, size, inner } = splitAt(t.shape, dim, 'topk');
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new RangeError(`topk: selected index k out of range (k = ${k}, dimension ${d} has size ${size})`);
  }
  const values: Float32Array | Int32Array = allocLike<D>(cpuArray(t, 'topk'), outer * k * inner);
  const indices = new Int32Array(outer * k * inner);
  const queue = new Int32Array(size);
  let row = 0;
  // PyTorch's comparators: NaN above every number; the queue holds positions along the dim
  const at = (j: number): number => x[row + j * inner] as number;
  const less = largest
    ? (a: number, b: number): boolean => {
        const va = at(a);
        const vb = at(b);
        return (Number.isNaN(va) && !Number.isNaN(vb)) || va > vb;
      }
    : (a: number, b: number): boolean => {
        const va = at(a);
        const vb = at(b);
        return (!Number.isNaN(va) && Number.isNaN(vb)) || va < vb;
      };
  for (let o = 0; o < outer && k > 0; o++) {
    for (let i = 0; i < inner; i++) {
      row = o * size * inner + i;
      for (let j = 0; j < size; j++) queue[j] = j;
      // ATen's topk_impl_loop: partial_sort when k is small against the dim, else nth_element (+ sort)
      if (k * 64 <= size) partialSort(queue, 0, k, size, less);
      else {
        nthElement(queue, 0, k - 1, size, less);
        if (sorted) stlSort(queue, 0, k - 1, less);
      }
      const outBase = o * k * inner + i;
      for (let j = 0; j < k; j++) {
        values[outBase + j * inner] = at(queue[j] as number);
        indices[outBase + j * inner] = queue[j] as number;
      }
    }
  }
  const shape = withDim(t.shape, d, k);
  const result = Tensor.fromArray<D>(values as ArrayOf<D>, shape);
  const index = Tensor.fromArray(indices, shape);
  if (needsGrad(t)) recordTopk(result as Tensor<'float32'>, index, t as Tensor, d, k);
  return [result, index];
}

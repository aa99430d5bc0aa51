import { describe, expect, it } from 'vitest';
import { floats, ints, ops, plain } from '../testing/ops-fixture.js';
import { arange, tensor } from './creation.js';
import { gather, indexSelect } from './indexing.js';
import { reshape } from './shape.js';

describe('gather / indexSelect against PyTorch', () => {
  it.each(ops.gather.map((c) => [`gather dim ${c.dim}`, c] as const))('%s', (_, c) => {
    const got = gather(floats(c.input), c.dim, ints(c.index));
    expect(got.shape).toEqual(c.output.shape);
    expect(plain(got)).toEqual(plain(floats(c.output)));
  });

  it.each(ops.indexSelect.map((c) => [`indexSelect dim ${c.dim}`, c] as const))('%s', (_, c) => {
    const got = indexSelect(floats(c.input), c.dim, ints(c.index));
    expect(got.shape).toEqual(c.output.shape);
    expect(plain(got)).toEqual(plain(floats(c.output)));
  });

  it('looks up embeddings and keeps the dtype', () => {
    const weight = reshape(arange(0, 6), [3, 2]);
    const ids = tensor([2, 0, 2], undefined, { dtype: 'int32' });
    expect(indexSelect(weight, 0, ids).tolist()).toEqual([
      [4, 5],
      [0, 1],
      [4, 5],
    ]);
    const table = tensor([10, 20, 30], undefined, { dtype: 'int32' });
    const picked = indexSelect(table, 0, tensor(1, [], { dtype: 'int32' }));
    expect([picked.dtype, picked.shape, picked.tolist()]).toEqual(['int32', [1], [20]]);
    const g = gather(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        undefined,
        { dtype: 'int32' },
      ),
      1,
      tensor([[1], [0]], undefined, { dtype: 'int32' }),
    );
    expect([g.dtype, g.tolist()]).toEqual(['int32', [[2], [3]]]);
  });

  it('rejects bad indices naming the index, the dim and the size', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const idx = (data: number[][] | number[]) => tensor(data, undefined, { dtype: 'int32' });
    expect(() => gather(x, 1, idx([[3]]))).toThrow(
      'gather: index 3 is out of bounds for dimension 1 with size 3',
    );
    expect(() => gather(x, -2, idx([[-1]]))).toThrow(
      'gather: index -1 is out of bounds for dimension 0 with size 2',
    );
    expect(() => indexSelect(x, 0, idx([2]))).toThrow(
      'indexSelect: index 2 is out of bounds for dimension 0 with size 2',
    );
    expect(() => indexSelect(x, 1, idx([0, -1]))).toThrow(
      'indexSelect: index -1 is out of bounds for dimension 1 with size 3',
    );
    // @ts-expect-error: indices are int32 tensors
    expect(() => gather(x, 1, tensor([[0]]))).toThrow(
      'gather: expected index to be an int32 tensor, received float32',
    );
    // @ts-expect-error: indices are int32 tensors
    expect(() => indexSelect(x, 0, tensor([0]))).toThrow(
      'indexSelect: expected index to be an int32 tensor, received float32',
    );
    expect(() => gather(x, 0, idx([0]))).toThrow(
      'gather: index must have the same number of dimensions as the input: index shape [1], input shape [2, 3]',
    );
    expect(() => gather(x, 0, idx([[0, 0, 0, 0]]))).toThrow(
      'gather: size does not match at dimension 1: expected index [1, 4] to be no larger than input [2, 3] apart from dimension 0',
    );
    expect(() => indexSelect(x, 0, idx([[0]]))).toThrow(
      'indexSelect: index must be a vector (1-D or 0-d), received shape [1, 1]',
    );
    expect(() => indexSelect(x, 2, idx([0]))).toThrow(
      'indexSelect: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { floats, ints, ops, plain } from '../testing/ops-fixture.js';
import { tensor } from './creation.js';
import { gather } from './indexing.js';
import { topk } from './sort.js';

describe('topk against PyTorch', () => {
  const label = (c: (typeof ops.topk)[number]): string =>
    `${c.name}, k ${c.k}, dim ${c.dim}${c.largest ? '' : ', smallest'}${c.sorted ? '' : ', unsorted'}`;
  it.each(ops.topk.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const x = floats(c.input);
    const [values, indices] = topk(x, c.k, c.dim, c.largest, c.sorted);
    const want = ints(c.indices);
    expect(values.shape).toEqual(c.values.shape);
    expect(indices.shape).toEqual(want.shape);
    expect(plain(values)).toEqual(plain(floats(c.values)));
    // ties included: the same libstdc++ algorithms give the same order among equal values
    expect(plain(indices)).toEqual(plain(want));
    expect(plain(gather(x, c.dim, indices))).toEqual(plain(values));
  });

  it("orders ties as PyTorch's std::nth_element does, NaN as the largest, and keeps the dtype", () => {
    const [v, i] = topk(tensor([2, 2, Number.NaN, 1, 2]), 3);
    expect([plain(v), i.tolist()]).toEqual([
      ['NaN', 2, 2],
      [2, 4, 0],
    ]);
    const [lv, li] = topk(tensor([2, 2, Number.NaN, 1, 2]), 5, 0, false);
    expect([plain(lv), li.tolist()]).toEqual([
      [1, 2, 2, 2, 'NaN'],
      [3, 1, 4, 0, 2],
    ]);
    expect(topk(tensor([2, 2, 2, 2, 1, 2, 2]), 4)[1].tolist()).toEqual([3, 6, 5, 2]);
    const [iv] = topk(tensor([3, 1, 4], undefined, { dtype: 'int32' }), 2);
    expect([iv.dtype, iv.tolist()]).toEqual(['int32', [4, 3]]);
  });

  it('rejects k out of range and a bad dim', () => {
    const x = tensor([[1, 2, 3]]);
    expect(() => topk(x, 4)).toThrow('topk: selected index k out of range (k = 4, dimension 1 has size 3)');
    expect(() => topk(x, -1)).toThrow('topk: selected index k out of range (k = -1, dimension 1 has size 3)');
    expect(() => topk(x, 1.5)).toThrow('topk: selected index k out of range (k = 1.5');
    expect(() => topk(x, 1, 2)).toThrow(
      'topk: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
  });
});

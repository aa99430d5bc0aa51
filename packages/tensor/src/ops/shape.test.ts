import { describe, expect, it } from 'vitest';
import { arange, tensor } from './creation.js';
import {
  cat,
  clone,
  expand,
  flip,
  narrow,
  permute,
  reshape,
  select,
  squeeze,
  stack,
  tile,
  transpose,
  unsqueeze,
} from './shape.js';

const t23 = tensor([
  [1, 2, 3],
  [4, 5, 6],
]);

describe('views', () => {
  it('reshape infers -1 and shares storage', () => {
    const r = reshape(t23, [3, -1]);
    expect(r.shape).toEqual([3, 2]);
    expect(r.storage).toBe(t23.storage);
    expect(reshape(t23, [6]).tolist()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reshape errors', () => {
    expect(() => reshape(t23, [4, -1])).toThrow('reshape: shape [4, -1] is invalid for input of size 6');
    expect(() => reshape(t23, [5])).toThrow('reshape: shape [5] is invalid for input of size 6');
    expect(() => reshape(t23, [-1, -1])).toThrow('reshape: only one dimension can be inferred (-1)');
  });

  it('unsqueeze / squeeze', () => {
    expect(unsqueeze(t23, 0).shape).toEqual([1, 2, 3]);
    expect(unsqueeze(t23, -1).shape).toEqual([2, 3, 1]);
    expect(squeeze(tensor([[[1], [2]]])).shape).toEqual([2]);
    expect(squeeze(tensor([[[1], [2]]]), 2).shape).toEqual([1, 2]);
    expect(squeeze(t23, 0).shape).toEqual([2, 3]);
    expect(() => unsqueeze(t23, 3)).toThrow(
      'unsqueeze: dimension out of range (expected to be in range of [-3, 2], but got 3)',
    );
  });
});

describe('layout ops', () => {
  it('transpose / permute', () => {
    expect(transpose(t23, 0, 1).tolist()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const x = reshape(arange(24), [2, 3, 4]);
    const p = permute(x, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.tolist()).toEqual([
      [
        [0, 4, 8],
        [12, 16, 20],
      ],
      [
        [1, 5, 9],
        [13, 17, 21],
      ],
      [
        [2, 6, 10],
        [14, 18, 22],
      ],
      [
        [3, 7, 11],
        [15, 19, 23],
      ],
    ]);
    expect(() => permute(x, [0, 0, 1])).toThrow(
      'permute: dims [0, 0, 1] must be a permutation of the 3 dimensions',
    );
  });

  it('expand and tile', () => {
    expect(expand(tensor([[1], [2]]), [2, 3]).tolist()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(expand(tensor([1, 2]), [2, -1]).tolist()).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(() => expand(tensor([1, 2]), [3])).toThrow('expand: cannot expand a tensor of shape [2] to [3]');
    expect(tile(tensor([1, 2]), [2, 2]).tolist()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    // the notebook's W.unsqueeze(0).tile(bs, 1, 1)
    const w = tile(unsqueeze(t23, 0), [2, 1, 1]);
    expect(w.shape).toEqual([2, 2, 3]);
    expect(w.tolist()).toEqual([t23.tolist(), t23.tolist()]);
    expect(tile(t23, [2]).tolist()).toEqual([
      [1, 2, 3, 1, 2, 3],
      [4, 5, 6, 4, 5, 6],
    ]);
  });

  it('select / narrow / flip', () => {
    expect(select(t23, 1, -1).tolist()).toEqual([3, 6]);
    expect(select(t23, 0, 1).tolist()).toEqual([4, 5, 6]);
    expect(narrow(t23, 1, 1, 2).tolist()).toEqual([
      [2, 3],
      [5, 6],
    ]);
    expect(flip(t23, [0, 1]).tolist()).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
    expect(flip(t23, [1]).tolist()).toEqual([
      [3, 2, 1],
      [6, 5, 4],
    ]);
    expect(() => select(t23, 0, 2)).toThrow('select: index 2 out of range for dimension 0 of size 2');
    expect(() => narrow(t23, 1, 2, 2)).toThrow(
      'narrow: start 2 and length 2 exceed dimension 1 of size 3 (shape [2, 3])',
    );
  });

  it('cat / stack', () => {
    expect(cat([t23, tensor([[7, 8, 9]])], 0).tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(cat([t23, tensor([[0], [0]])], -1).tolist()).toEqual([
      [1, 2, 3, 0],
      [4, 5, 6, 0],
    ]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).tolist()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(() => cat([t23, tensor([[1, 2]])], 0)).toThrow(
      'cat: sizes of tensors must match except in dimension 0: tensor 0 has shape [2, 3], tensor 1 has shape [1, 2]',
    );
    expect(() => stack([tensor([1, 2]), tensor([1])])).toThrow(
      'stack: expects each tensor to be equal size, but got [2] at entry 0 and [1] at entry 1',
    );
    expect(() => cat([])).toThrow('cat: expected a non-empty list of tensors');
  });

  it('clone copies', () => {
    const c = clone(t23);
    expect(c.storage).not.toBe(t23.storage);
    expect(c.tolist()).toEqual(t23.tolist());
  });
});

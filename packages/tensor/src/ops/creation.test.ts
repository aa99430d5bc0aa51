import { describe, expect, it } from 'vitest';
import { Generator } from '../random.js';
import { arange, full, ones, rand, randn, tensor, uniform, zeros } from './creation.js';

describe('tensor()', () => {
  it('infers the shape of nested arrays', () => {
    const t = tensor([
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    expect(t.shape).toEqual([1, 2, 2]);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
  });

  it('takes flat data or typed arrays with a shape, and copies', () => {
    const src = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(src, [2, 3]);
    src[0] = 9;
    expect(t.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(tensor(new Float64Array([0.1]), [1]).dataSync()[0]).toBe(Math.fround(0.1));
    expect(tensor(3.5).shape).toEqual([]);
    expect(tensor([]).shape).toEqual([0]);
  });

  it('rejects ragged arrays, wrong sizes and non-numbers', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(
      'tensor: ragged nested array: expected length 2 at data[1], received length 1',
    );
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('tensor: shape [2, 2] needs 4 elements, received 3');
    expect(() => tensor(['a'] as never)).toThrow('tensor: element 0 is string, expected a number');
    expect(() => tensor([[1, 'x']] as never)).toThrow(
      'tensor: expected a number at data[0][1], received string',
    );
  });
});

describe('creation', () => {
  it('zeros / ones / full / arange', () => {
    expect(zeros([2, 1]).tolist()).toEqual([[0], [0]]);
    expect(ones([2]).tolist()).toEqual([1, 1]);
    expect(full([1, 2], 7).tolist()).toEqual([[7, 7]]);
    expect(arange(3).tolist()).toEqual([0, 1, 2]);
    expect(arange(1, 2, 0.25).tolist()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(() => zeros([2, -1])).toThrow(
      'zeros: shape must be an array of non-negative integers, received [2,-1]',
    );
  });

  it('rand / uniform / randn draw from the given generator, reproducibly', () => {
    const a = randn([3, 4], { generator: new Generator(42) });
    const b = randn([3, 4], { generator: new Generator(42) });
    expect(a.dataSync()).toEqual(b.dataSync());
    const u = uniform([1000], -2, -1, { generator: new Generator(1) }).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(-1);
    const r = rand([1000], { generator: new Generator(1) }).dataSync();
    expect(r.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});

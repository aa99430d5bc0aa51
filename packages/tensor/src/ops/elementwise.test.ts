import { describe, expect, it } from 'vitest';
import { tensor } from './creation.js';
import { abs, add, div, mul, neg, relu, sigmoid, sub, tanh } from './elementwise.js';
import { allclose, max, maxAbsDiff, mean, min, sum } from './reduce.js';

describe('broadcasting math', () => {
  it('adds with broadcasting, like PyTorch', () => {
    const a = tensor([[1], [2]]); // (2, 1)
    const b = tensor([10, 20, 30]); // (3)
    expect(add(a, b).tolist()).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(sub(b, 1).tolist()).toEqual([9, 19, 29]);
    expect(mul(2, a).tolist()).toEqual([[2], [4]]);
    expect(div(b, tensor(10)).tolist()).toEqual([1, 2, 3]);
    expect(add(1, 2).shape).toEqual([]);
  });

  it('names both shapes when they do not broadcast', () => {
    expect(() => add(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(
      'add: shapes [2] and [3] are not broadcastable (size 2 vs 3 at dimension -1)',
    );
  });

  it('activations, with NaN and infinities as PyTorch has them', () => {
    const x = tensor([-Infinity, -1, 0, 2, Infinity, Number.NaN]);
    const close = (got: number[], want: number[]): void => {
      for (const [i, g] of got.entries()) {
        if (Number.isNaN(want[i])) expect(g).toBeNaN();
        else expect(g).toBeCloseTo(want[i] as number, 6);
      }
    };
    close(tanh(x).tolist() as number[], [-1, Math.tanh(-1), 0, Math.tanh(2), 1, Number.NaN]);
    close(relu(x).tolist() as number[], [0, 0, 0, 2, Infinity, Number.NaN]);
    close(sigmoid(x).tolist() as number[], [0, 1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-2)), 1, Number.NaN]);
    expect(abs(tensor([-1.5, 2])).tolist()).toEqual([1.5, 2]);
    expect(neg(tensor([1])).tolist()).toEqual([-1]);
  });
});

describe('reductions', () => {
  const t = tensor([
    [1, -5, 3],
    [4, 2, -6],
  ]);
  it('sum / mean / max / min, whole and along a dim', () => {
    expect(sum(t).item()).toBe(-1);
    expect(sum(t, 0).tolist()).toEqual([5, -3, -3]);
    expect(sum(t, 1, true).tolist()).toEqual([[-1], [0]]);
    expect(mean(t, -1).tolist()).toEqual([-1 / 3, 0].map(Math.fround));
    expect(max(t).item()).toBe(4);
    expect(max(t, 1)[0].tolist()).toEqual([3, 4]);
    expect(min(t, 0)[0].tolist()).toEqual([1, -5, -6]);
    expect(max(tensor([1, Number.NaN, 3])).item()).toBeNaN();
    expect(() => max(tensor([]))).toThrow('max: expected a non-empty tensor, received shape [0]');
  });

  it('allclose with PyTorch defaults and NaN handling', () => {
    expect(allclose(tensor([1, 2]), tensor([1 + 1e-6, 2]))).toBe(true);
    expect(allclose(tensor([1, 2]), tensor([1.001, 2]))).toBe(false);
    expect(allclose(tensor([1, 2]), tensor([1.001, 2]), { rtol: 1e-2 })).toBe(true);
    expect(allclose(tensor([Number.NaN]), tensor([Number.NaN]))).toBe(false);
    expect(allclose(tensor([Number.NaN]), tensor([Number.NaN]), { equalNan: true })).toBe(true);
    expect(allclose(tensor([Infinity]), tensor([Infinity]))).toBe(true);
    expect(allclose(tensor([[1, 1]]), tensor([1]))).toBe(true);
    expect(maxAbsDiff(tensor([1, 2, 3]), tensor([1, 2.5, 2]))).toBe(1);
  });
});

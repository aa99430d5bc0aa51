import { describe, expect, it } from 'vitest';
import { floats, ints, ops, plain } from '../testing/ops-fixture.js';
import { argmax, argmin } from './argreduce.js';
import { tensor, zeros } from './creation.js';
import { max, min } from './reduce.js';

describe('max / min / argmax / argmin along a dim against PyTorch', () => {
  const label = (c: (typeof ops.reduce)[number]): string =>
    `${c.op} ${c.name}, dim ${c.dim}${c.keepdim ? ', keepdim' : ''}`;
  it.each(ops.reduce.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const x = floats(c.input);
    const want = ints(c.indices);
    if (c.op === 'max' || c.op === 'min') {
      const [values, indices] = (c.op === 'max' ? max : min)(x, c.dim as number, c.keepdim);
      expect(indices.dtype).toBe('int32');
      expect(indices.shape).toEqual(want.shape);
      expect(plain(indices)).toEqual(plain(want));
      expect(values.shape).toEqual(c.values?.shape);
      expect(plain(values)).toEqual(plain(floats(c.values as NonNullable<typeof c.values>)));
    } else {
      const got = (c.op === 'argmax' ? argmax : argmin)(x, c.dim ?? undefined, c.keepdim);
      expect(got.dtype).toBe('int32');
      expect(got.shape).toEqual(want.shape);
      expect(plain(got)).toEqual(plain(want));
    }
  });

  it('works as the issue writes it, on int32 tensors too, and keeps full reductions', () => {
    const logits = tensor([
      [0.1, 2, -1],
      [3, 3, 0],
    ]);
    const [values, indices] = max(logits, -1);
    expect([values.tolist(), indices.tolist(), indices.dtype]).toEqual([[2, 3], [1, 0], 'int32']);
    expect(argmax(logits, -1).tolist()).toEqual([1, 0]);
    expect(argmax(logits).tolist()).toBe(3);
    expect(argmax(logits, undefined, true).shape).toEqual([1, 1]);
    const ids = tensor([5, 9, 2], [1, 3], { dtype: 'int32' });
    const [v, i] = min(ids, 1, true);
    expect([v.dtype, v.tolist(), i.tolist()]).toEqual(['int32', [[2]], [[2]]]);
    expect(max(ids).item()).toBe(9);
    expect(max(ids).dtype).toBe('int32');
  });

  it('rejects bad dims and empty reductions with PyTorch-like messages', () => {
    const x = tensor([[1, 2]]);
    expect(() => max(x, 2)).toThrow(
      'max: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    expect(() => argmin(x, -3)).toThrow(
      'argmin: dimension out of range (expected to be in range of [-2, 1], but got -3)',
    );
    expect(() => max(x, 0.5)).toThrow('max: dimension out of range');
    expect(() => max(zeros([0, 3]), 0)).toThrow('max(): Expected reduction dim 0 to have non-zero size.');
    expect(() => argmax(zeros([0]))).toThrow(
      'argmax(): Expected reduction dim to be specified for input.numel() == 0 (shape [0])',
    );
    expect(max(zeros([0, 3]), 1)[0].shape).toEqual([0]);
  });
});

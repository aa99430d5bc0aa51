import { describe, expect, it } from 'vitest';
import { expectClose, floats, ops } from '../testing/ops-fixture.js';
import { tensor } from './creation.js';
import { logSoftmax, softmax } from './softmax.js';

describe('softmax / logSoftmax against PyTorch', () => {
  it.each(ops.softmax.map((c) => [`${c.name}, dim ${c.dim}`, c] as const))('%s', (label, c) => {
    const x = floats(c.input);
    expectClose(softmax(x, c.dim), floats(c.softmax), `softmax ${label}`);
    expectClose(logSoftmax(x, c.dim), floats(c.logSoftmax), `logSoftmax ${label}`, 1e-6, 1e-6);
  });

  it('is stable for large logits and sums to 1', () => {
    const p = softmax(tensor([[1000, 1001, 1002]]), -1);
    const sum = Array.from(p.dataSync()).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 6);
    expect(logSoftmax(tensor([-Infinity, 0]), 0).tolist()).toEqual([-Infinity, 0]);
  });

  it('rejects a bad dim and int32 input', () => {
    const x = tensor([[1, 2]]);
    expect(() => softmax(x, 2)).toThrow(
      'softmax: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    expect(() => logSoftmax(x, -3)).toThrow(
      'logSoftmax: dimension out of range (expected to be in range of [-2, 1], but got -3)',
    );
    const ids = tensor([1, 2], undefined, { dtype: 'int32' });
    expect(() => softmax(ids, 0)).toThrow(
      'softmax: expected a float32 tensor, received int32 (convert it with t.float() or toFloat(t))',
    );
  });
});

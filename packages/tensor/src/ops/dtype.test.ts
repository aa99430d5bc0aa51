import { describe, expect, it } from 'vitest';
import { format } from '../format.js';
import { Tensor } from '../tensor.js';
import { floats, ops, plain } from '../testing/ops-fixture.js';
import { arange, full, ones, tensor, toFloat, toInt, zeros, zerosLike } from './creation.js';
import { add, exp } from './elementwise.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import {
  cat,
  clone,
  flip,
  narrow,
  permute,
  reshape,
  select,
  squeeze,
  stack,
  transpose,
  unsqueeze,
} from './shape.js';

describe('int32 tensors', () => {
  const ids = tensor(Int32Array.from([5, 9, 2]), [1, 3], { dtype: 'int32' });

  it('are created with a dtype and read back as Int32Array', async () => {
    expect([ids.dtype, ids.shape, ids.dataSync() instanceof Int32Array]).toEqual(['int32', [1, 3], true]);
    expect(await ids.data()).toBeInstanceOf(Int32Array);
    expect(tensor([1, 2]).dtype).toBe('float32');
    expect(tensor([[1.9, -1.9]], undefined, { dtype: 'int32' }).tolist()).toEqual([[1, -1]]);
    expect(tensor(2 ** 31 - 1, [], { dtype: 'int32' }).item()).toBe(2147483647);
    expect(Tensor.fromArray(new Int32Array(2), [2]).dtype).toBe('int32');
    expect(zeros([2], { dtype: 'int32' }).dataSync()).toEqual(new Int32Array(2));
    expect(full([2], 7.5, { dtype: 'int32' }).tolist()).toEqual([7, 7]);
    expect(ones([1], { dtype: 'int32' }).dtype).toBe('int32');
    expect(arange(0, 5, 2, { dtype: 'int32' }).tolist()).toEqual([0, 2, 4]);
    expect(arange(3, undefined, 1, { dtype: 'int32' }).dtype).toBe('int32');
    expect(zerosLike(ids).dtype).toBe('int32');
    expect(() => tensor([1], undefined, { dtype: 'int64' as never })).toThrow(
      "tensor: dtype must be 'float32' or 'int32', received 'int64'",
    );
  });

  it('print like PyTorch', () => {
    for (const c of ops.format) {
      const t = tensor(c.data, c.shape, { dtype: 'int32' });
      expect(format(t)).toBe(c.text);
      expect(String(t)).toBe(c.text);
    }
    expect(String(ids)).toBe('tensor([[5, 9, 2]], dtype=torch.int32)');
  });

  it('keep their dtype through shape ops', () => {
    const m = tensor([0, 1, 2, 3, 4, 5], [2, 3], { dtype: 'int32' });
    const results = [
      reshape(m, [3, 2]),
      unsqueeze(m, 0),
      squeeze(unsqueeze(m, 0)),
      select(m, 1, 2),
      narrow(m, 1, 1, 2),
      cat([m, m], 1),
      stack([m, m]),
      transpose(m, 0, 1),
      permute(m, [1, 0]),
      flip(m, [1]),
      clone(m),
    ];
    for (const r of results) {
      expect(r.dtype).toBe('int32');
      expect(r.dataSync()).toBeInstanceOf(Int32Array);
    }
    expect(transpose(m, 0, 1).tolist()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(flip(m, [1]).tolist()).toEqual([
      [2, 1, 0],
      [5, 4, 3],
    ]);
    expect(() => cat([m, m.float()], 0)).toThrow(
      'cat: expected tensors of one dtype: tensor 0 is int32, tensor 1 is float32 (convert with t.float() or t.int())',
    );
  });

  it('convert with float() / int() / toFloat / toInt (as PyTorch casts)', () => {
    expect([ids.float().dtype, ids.float().tolist()]).toEqual(['float32', [[5, 9, 2]]]);
    expect(toFloat(ids).dataSync()).toBeInstanceOf(Float32Array);
    expect(toInt(tensor([1.5])).dtype).toBe('int32');
    const { input, output } = ops.toInt;
    expect(plain(floats(input).int())).toEqual(output.data);
  });

  it('are refused by float ops with a clear error (no silent promotion)', () => {
    const f = tensor([1, 2, 3]);
    const msg = (op: string): string =>
      `${op}: expected a float32 tensor, received int32 (convert it with t.float() or toFloat(t))`;
    const i = tensor([1, 2, 3], undefined, { dtype: 'int32' });
    expect(() => add(f, i)).toThrow(msg('add'));
    expect(() => exp(i)).toThrow(msg('exp'));
    expect(() => sum(i)).toThrow(msg('sum'));
    const im = tensor([1, 2, 3, 4], [2, 2], { dtype: 'int32' });
    expect(() => matmul(im, im)).toThrow('expected a float32 tensor, received int32');
  });
});

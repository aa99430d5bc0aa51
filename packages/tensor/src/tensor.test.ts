import { describe, expect, it } from 'vitest';
import { tensor } from './ops/creation.js';
import type { Storage } from './storage.js';
import { cpuData, Tensor } from './tensor.js';

/** Storage that, like a GPU buffer, can only be read asynchronously. */
function asyncOnlyStorage(values: number[]): Storage {
  return {
    device: 'webgpu',
    length: values.length,
    read: async () => Float32Array.from(values),
    readSync: () => {
      throw new Error('this tensor lives on the GPU: use `await t.data()`');
    },
    dispose: () => {},
  };
}

describe('Tensor', () => {
  it('exposes shape, size, ndim and the PyTorch accessors', async () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect([t.shape, t.size(), t.ndim, t.numel(), t.dim(), t.device]).toEqual([
      [2, 3],
      [2, 3],
      2,
      6,
      2,
      'cpu',
    ]);
    expect([t.size(0), t.size(1), t.size(-1), t.size(-2)]).toEqual([2, 3, 3, 2]);
    expect(() => t.size(2)).toThrow(
      'size: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    expect(() => tensor(1).size(0)).toThrow('size: dimension specified as 0 but tensor has no dimensions');
    expect(tensor(1).size()).toEqual([]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.dataSync()).toBe(await t.data());
    expect(t.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it('item() reads a one-element tensor and refuses others', () => {
    expect(tensor([[2.5]]).item()).toBe(2.5);
    expect(() => tensor([1, 2]).item()).toThrow(
      'item(): a Tensor with 2 elements cannot be converted to a number',
    );
  });

  it('checks that the shape fits the storage', () => {
    expect(() => Tensor.fromArray(new Float32Array(5), [2, 3])).toThrow(
      'Tensor: shape [2, 3] needs 6 elements, storage holds 5',
    );
    expect(() => Tensor.fromArray(new Float32Array(1), [1.5])).toThrow(
      'shape must be an array of non-negative integers, received [1.5]',
    );
  });

  it('prints like PyTorch', () => {
    expect(String(tensor([0.5, -1.25]))).toBe('tensor([ 0.5000, -1.2500])');
  });

  it('reads back tensors on other backends through data(), and refuses CPU ops on them clearly', async () => {
    const gpu = new Tensor(asyncOnlyStorage([1, 2]), [2]);
    expect(Array.from(await gpu.data())).toEqual([1, 2]);
    expect(() => gpu.dataSync()).toThrow('use `await t.data()`');
    expect(() => cpuData(gpu, 'add')).toThrow(
      "add: this tensor lives on 'webgpu', and @recurrent/tensor ops run on the CPU; read it with `await t.data()`",
    );
    expect(String(gpu)).toBe("Tensor(shape=[2], device='webgpu')");
  });
});

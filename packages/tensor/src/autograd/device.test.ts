// The engine on a device: gradients stay where they are computed, through the storage's `DeviceOps`
// (here a fake device over Float32Arrays that counts its calls), and devices do not mix.
import { describe, expect, it } from 'vitest';
import { CpuStorage, type DeviceOps, recordGradFn, type Storage, Tensor, tensor } from '../index.js';

/** A fake 'dev' device: its storage cannot be read synchronously; its ops compute on the arrays. */
function fakeDevice() {
  const calls: string[] = [];
  const arrays = new WeakMap<Storage<'float32'>, Float32Array>();
  const make = (a: Float32Array, shape: readonly number[]): Tensor<'float32'> => {
    const storage: Storage<'float32'> = {
      device: 'dev',
      length: a.length,
      version: 0,
      ops,
      read: async () => a.slice(),
      readSync: () => {
        throw new Error('no synchronous read on dev');
      },
      dispose: () => {},
    };
    arrays.set(storage, a);
    return new Tensor(storage, shape) as Tensor<'float32'>;
  };
  const arr = (t: Tensor) => arrays.get(t.storage as Storage<'float32'>) as Float32Array;
  const ops: DeviceOps = {
    add: (a, b) => {
      calls.push('add');
      return make(
        arr(a).map((v, i) => v + (arr(b)[i] as number)),
        a.shape,
      );
    },
    addInPlace: (acc, x) => {
      calls.push('addInPlace');
      arr(acc).forEach((v, i, o) => {
        o[i] = v + (arr(x)[i] as number);
      });
    },
    full: (shape, value) => {
      calls.push('full');
      return make(new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(value), shape);
    },
    fill: (t, value) => {
      calls.push('fill');
      arr(t).fill(value);
    },
    clone: (t) => {
      calls.push('clone');
      return make(arr(t).slice(), t.shape);
    },
  };
  return { calls, make, arr };
}

/** `out = 3·x` on the device, recorded with a device formula (as a backend's op records one). */
function triple(dev: ReturnType<typeof fakeDevice>, x: Tensor<'float32'>): Tensor<'float32'> {
  const out = dev.make(
    dev.arr(x).map((v) => 3 * v),
    x.shape,
  );
  return recordGradFn(out, 'MulBackward0', [x], [x], (g) => [
    dev.make(
      dev.arr(g).map((v) => 3 * v),
      g.shape,
    ),
  ]);
}

describe('autograd on a device (DeviceOps)', () => {
  it('seeds, sums and accumulates on the device: x.grad lives there and sums over backward calls', async () => {
    const dev = fakeDevice();
    const x = dev.make(Float32Array.of(1, 2), [2]).requiresGrad_(true);
    const y = triple(dev, x);
    const s = dev.make(Float32Array.of(0), [1]);
    // a scalar that uses y twice: two gradients meet at y's node (a sum on the device)
    const z = recordGradFn(s, 'SumBackward0', [y, y], [], (g) => {
      const v = dev.arr(g)[0] as number;
      return [dev.make(Float32Array.of(v, v), [2]), dev.make(Float32Array.of(2 * v, 2 * v), [2])];
    });
    z.backward(undefined, { retainGraph: true });
    expect(x.grad?.device).toBe('dev');
    expect(Array.from(await (x.grad as Tensor).data())).toEqual([9, 9]);
    expect(dev.calls).toEqual(['full', 'add', 'clone']);
    const version = x.grad?.version;
    z.backward();
    expect(Array.from(await (x.grad as Tensor).data())).toEqual([18, 18]);
    expect(dev.calls.slice(3)).toEqual(['full', 'add', 'addInPlace']);
    expect(x.grad?.version).toBe((version as number) + 1);
    x.grad?.zero_();
    expect(dev.calls.at(-1)).toBe('fill');
    expect(Array.from(await (x.grad as Tensor).data())).toEqual([0, 0]);
  });

  it('refuses a gradient of another device, and gradients of two devices meeting at a leaf', () => {
    const dev = fakeDevice();
    const x = dev.make(Float32Array.of(1, 2), [2]).requiresGrad_(true);
    expect(() => triple(dev, x).backward(tensor([1, 1]))).toThrow(
      "backward: the gradient is on 'cpu' but the tensor is on 'dev'; pass a gradient on the tensor's device",
    );
    const c = tensor([1, 2]).requiresGrad_(true);
    c.grad = tensor([0, 0]);
    const onDev = recordGradFn(dev.make(Float32Array.of(1, 2), [2]), 'ToCopyBackward0', [c], [], (g) => [g]);
    expect(() => onDev.backward(dev.make(Float32Array.of(1, 1), [2]))).toThrow(
      "backward: gradients on 'cpu' and on 'dev' meet in one graph; a graph must stay on one backend",
    );
  });

  it('a device storage without ops is named', () => {
    const storage: Storage = {
      device: 'gpu0',
      length: 1,
      read: async () => new Float32Array(1),
      readSync: () => new Float32Array(1),
      dispose: () => {},
    };
    const x = new Tensor(storage, []).requiresGrad_(true);
    expect(() => x.backward()).toThrow(
      "backward: this tensor lives on 'gpu0', whose storage has no device ops for gradients",
    );
  });
});

describe('Tensor._setStorage (how a module moves a parameter)', () => {
  it('keeps the tensor, its version and grad; refuses another length or dtype', () => {
    const p = tensor([1, 2, 3]).requiresGrad_(true);
    p.grad = tensor([0, 0, 0]);
    p.storage.version = 4;
    const grad = p.grad;
    p._setStorage(new CpuStorage<'float32'>(Float32Array.of(7, 8, 9)));
    expect(Array.from(p.dataSync())).toEqual([7, 8, 9]);
    expect([p.version, p.grad, p.requiresGrad]).toEqual([4, grad, true]);
    expect(() => p._setStorage(new CpuStorage<'float32'>(Float32Array.of(1)))).toThrow(
      '_setStorage: expected 3 float32 elements, received 1 float32',
    );
    expect(() => p._setStorage(new CpuStorage<'int32'>(Int32Array.of(1, 2, 3)) as never)).toThrow(
      '_setStorage: expected 3 float32 elements, received 3 int32',
    );
  });
});

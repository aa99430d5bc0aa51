import type { Tensor } from './tensor.js';

/** Element types a tensor can hold: `'float32'` (the default) and `'int32'` (indices, token ids). */
export type DType = 'float32' | 'int32';

/** The typed array each dtype is stored in. */
export interface DTypeArrays {
  float32: Float32Array;
  int32: Int32Array;
}

/** `ArrayOf<'float32'>` is Float32Array, `ArrayOf<'int32'>` is Int32Array. */
export type ArrayOf<D extends DType> = DTypeArrays[D];

/**
 * Where a tensor's elements live. The CPU storage wraps a typed array; other backends (the WebGPU
 * backend keeps a GPU buffer) implement the same contract, so `data()` is the one read path that works
 * everywhere and `readSync()` may refuse for storage that cannot be read synchronously.
 * `D` is the element type; a storage without a `dtype` holds float32 (as every GPU storage does).
 */
export interface Storage<D extends DType = 'float32'> {
  /** `'cpu'`, or the backend's name (`'webgpu'`). */
  readonly device: string;
  /** The element type; absent means `'float32'`. */
  readonly dtype?: D;
  /** Number of elements. */
  readonly length: number;
  /**
   * The device's own ops for what autograd and in-place writes need, so gradients stay where they are
   * computed (a GPU storage supplies them; absent on the CPU, where the engine uses the arrays).
   */
  readonly ops?: DeviceOps;
  /**
   * The version counter autograd checks (PyTorch's `_version`): every in-place write bumps it, and
   * every tensor viewing this storage shares it. Absent means 0.
   */
  version?: number;
  /** The elements, row-major. */
  read(): Promise<ArrayOf<D>>;
  /** The elements, row-major; throws on storage that can only be read asynchronously. */
  readSync(): ArrayOf<D>;
  /** Releases backend memory; a no-op on the CPU. */
  dispose(): void;
}

/**
 * Elementwise ops a device runs on its own float32 tensors without a readback: what the autograd engine
 * needs to seed, sum and accumulate gradients, and `fill_`/`zero_` on the device. Every tensor argument
 * and result lives on that device.
 */
export interface DeviceOps {
  /** `a + b` (same shape), a new tensor. */
  add(a: Tensor<'float32'>, b: Tensor<'float32'>): Tensor<'float32'>;
  /** `acc += x` in place (same shape); the caller bumps `acc`'s version. */
  addInPlace(acc: Tensor<'float32'>, x: Tensor<'float32'>): void;
  /** A new tensor of `shape` filled with `value`. */
  full(shape: readonly number[], value: number): Tensor<'float32'>;
  /** Every element of `t` set to `value`, in place; the caller bumps the version. */
  fill(t: Tensor<'float32'>, value: number): void;
  /** A copy with storage of its own. */
  clone(t: Tensor<'float32'>): Tensor<'float32'>;
}

/** Storage in a Float32Array or an Int32Array on the JavaScript heap; the array decides the dtype. */
export class CpuStorage<D extends DType = 'float32'> implements Storage<D> {
  readonly device = 'cpu';
  readonly dtype: D;
  readonly array: ArrayOf<D>;
  version = 0;
  constructor(array: ArrayOf<D>) {
    this.array = array;
    this.dtype = (array instanceof Int32Array ? 'int32' : 'float32') as D;
  }
  get length(): number {
    return this.array.length;
  }
  read(): Promise<ArrayOf<D>> {
    return Promise.resolve(this.array);
  }
  readSync(): ArrayOf<D> {
    return this.array;
  }
  dispose(): void {}
}

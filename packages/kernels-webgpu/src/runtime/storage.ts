import type { ArrayOf, DeviceOps, DType, Shape, Storage } from '@recurrent/tensor';
import { Tensor } from '@recurrent/tensor';

/** What a GPU storage needs from its runtime. */
export interface StorageOwner {
  /** `webgpu device #1 (google swiftshader)`, for messages. */
  readonly label: string;
  read(buffer: GPUBuffer, length: number): Promise<Float32Array>;
  release(buffer: GPUBuffer): void;
  /** The device's ops on its float32 tensors (gradients kept on the GPU), if it has them. */
  readonly ops?: DeviceOps;
}

// Tensors dropped without dispose() give their buffer back when collected.
const collected = new FinalizationRegistry<{ owner: StorageOwner; buffer: GPUBuffer }>(({ owner, buffer }) =>
  owner.release(buffer),
);

/**
 * A tensor's elements in a GPU buffer, row-major: float32, or int32 (`dtype`, indices such as an
 * `argmax`'s) in the same 4 bytes per element. `read()` is an async readback (an Int32Array for int32);
 * `readSync()` refuses; `dispose()` returns the buffer to the runtime's pool.
 */
export class GpuStorage<D extends DType = 'float32'> implements Storage<D> {
  readonly device = 'webgpu';
  readonly dtype: D;
  readonly length: number;
  readonly owner: StorageOwner;
  #buffer: GPUBuffer | null;

  constructor(owner: StorageOwner, buffer: GPUBuffer, length: number, dtype: D = 'float32' as D) {
    if (buffer.size < length * 4) {
      throw new RangeError(
        `GpuStorage: a ${buffer.size}-byte buffer cannot hold ${length} ${dtype} elements`,
      );
    }
    this.owner = owner;
    this.dtype = dtype;
    this.#buffer = buffer;
    this.length = length;
    collected.register(this, { owner, buffer }, this);
  }

  /** The owner's ops, for float32 storage (what autograd and `fill_` use on the GPU). */
  get ops(): DeviceOps | undefined {
    return this.dtype === 'float32' ? this.owner.ops : undefined;
  }

  /** False once disposed. */
  get alive(): boolean {
    return this.#buffer !== null;
  }

  /** The GPU buffer; throws once the tensor is disposed. */
  buffer(what = 'tensor'): GPUBuffer {
    if (!this.#buffer) {
      throw new Error(
        `this ${what} on ${this.owner.label} was disposed: its GPU memory is released and it cannot be read or used`,
      );
    }
    return this.#buffer;
  }

  async read(): Promise<ArrayOf<D>> {
    const f = await this.owner.read(this.buffer(), this.length);
    // the readback is a fresh copy: an int32 tensor's bits are reinterpreted, not converted
    return (this.dtype === 'int32' ? new Int32Array(f.buffer, f.byteOffset, f.length) : f) as ArrayOf<D>;
  }

  readSync(): ArrayOf<D> {
    throw new Error(
      `this tensor lives on the GPU (${this.owner.label}): use await tensor.data() to read it; ` +
        'dataSync(), tolist(), item() and printing the values need a CPU tensor',
    );
  }

  dispose(): void {
    const buffer = this.#buffer;
    if (!buffer) return;
    this.#buffer = null;
    collected.unregister(this);
    this.owner.release(buffer);
  }
}

/** A tensor over a GPU buffer of at least `numel(shape)` elements of `dtype` (default float32). */
export function gpuTensor<D extends DType = 'float32'>(
  owner: StorageOwner,
  buffer: GPUBuffer,
  shape: Shape,
  dtype: D = 'float32' as D,
): Tensor<D> {
  const length = shape.reduce((a, b) => a * b, 1);
  return new Tensor<D>(new GpuStorage<D>(owner, buffer, length, dtype), shape);
}

import { type Shape, type Storage, Tensor } from '@recurrent/tensor';

/** What a GPU storage needs from its runtime. */
export interface StorageOwner {
  /** `webgpu device #1 (google swiftshader)`, for messages. */
  readonly label: string;
  read(buffer: GPUBuffer, length: number): Promise<Float32Array>;
  release(buffer: GPUBuffer): void;
}

// Tensors dropped without dispose() give their buffer back when collected.
const collected = new FinalizationRegistry<{ owner: StorageOwner; buffer: GPUBuffer }>(({ owner, buffer }) =>
  owner.release(buffer),
);

/**
 * A tensor's elements in a GPU buffer (float32, row-major). `read()` is an async readback;
 * `readSync()` refuses; `dispose()` returns the buffer to the runtime's pool.
 */
export class GpuStorage implements Storage {
  readonly device = 'webgpu';
  readonly length: number;
  readonly owner: StorageOwner;
  #buffer: GPUBuffer | null;

  constructor(owner: StorageOwner, buffer: GPUBuffer, length: number) {
    if (buffer.size < length * 4) {
      throw new RangeError(`GpuStorage: a ${buffer.size}-byte buffer cannot hold ${length} float32 elements`);
    }
    this.owner = owner;
    this.#buffer = buffer;
    this.length = length;
    collected.register(this, { owner, buffer }, this);
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

  async read(): Promise<Float32Array> {
    return this.owner.read(this.buffer(), this.length);
  }

  readSync(): Float32Array {
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

/** A tensor over a GPU buffer of at least `numel(shape)` floats. */
export function gpuTensor(owner: StorageOwner, buffer: GPUBuffer, shape: Shape): Tensor<'float32'> {
  const length = shape.reduce((a, b) => a * b, 1);
  return new Tensor<'float32'>(new GpuStorage(owner, buffer, length), shape);
}

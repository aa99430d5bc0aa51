import { format } from './format.js';
import { checkShape, formatShape, numelOf, type Shape } from './shape.js';
import { CpuStorage, type Storage } from './storage.js';

/**
 * An n-dimensional float32 array, row-major and contiguous, like a contiguous `torch.float32` tensor.
 * Tensors are immutable values: ops return new tensors (shape-only ops such as `reshape` share storage).
 */
export class Tensor {
  readonly shape: Shape;
  readonly storage: Storage;

  constructor(storage: Storage, shape: Shape) {
    checkShape(shape);
    if (numelOf(shape) !== storage.length) {
      throw new RangeError(
        `Tensor: shape ${formatShape(shape)} needs ${numelOf(shape)} elements, storage holds ${storage.length}`,
      );
    }
    this.shape = Object.freeze([...shape]);
    this.storage = storage;
  }

  /** Wraps a Float32Array (not copied) as a CPU tensor of the given shape. */
  static fromArray(array: Float32Array, shape: Shape): Tensor {
    return new Tensor(new CpuStorage(array), shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.storage.length;
  }

  /** `'cpu'` or the backend the data lives on. */
  get device(): string {
    return this.storage.device;
  }

  /** PyTorch's `numel()`. */
  numel(): number {
    return this.storage.length;
  }

  /** PyTorch's `dim()`. */
  dim(): number {
    return this.shape.length;
  }

  /**
   * The elements, row-major. Works for every backend (GPU tensors are read back).
   * For CPU tensors this is the tensor's own buffer: treat it as read-only.
   */
  data(): Promise<Float32Array> {
    return this.storage.read();
  }

  /** The elements, row-major, synchronously; throws for GPU-resident tensors (use `await data()`). */
  dataSync(): Float32Array {
    return this.storage.readSync();
  }

  /** Nested arrays of numbers, like PyTorch's `tolist()` (synchronous: CPU tensors only). */
  tolist(): NestedArray {
    const data = this.dataSync();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return data[offset] as number;
      const n = this.shape[dim] as number;
      const inner = numelOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor (PyTorch's `item()`). */
  item(): number {
    if (this.size !== 1) {
      throw new RangeError(`item(): a Tensor with ${this.size} elements cannot be converted to a number`);
    }
    return this.dataSync()[0] as number;
  }

  /** Releases backend memory (GPU buffers); a no-op for CPU tensors. */
  dispose(): void {
    this.storage.dispose();
  }

  /** PyTorch's print format: `tensor([[ 0.1000, -2.0000]])`. CPU tensors only. */
  toString(): string {
    if (this.device !== 'cpu') return `Tensor(shape=${formatShape(this.shape)}, device='${this.device}')`;
    return format(this);
  }
}

/** Nested number arrays as `tensor()` accepts and `tolist()` returns. */
export type NestedArray = number | NestedArray[];

/**
 * The Float32Array of a CPU tensor, for ops that compute on the CPU.
 * Throws a clear error for tensors on another backend.
 */
export function cpuData(t: Tensor, op = 'op'): Float32Array {
  if (!(t instanceof Tensor)) {
    throw new TypeError(`${op}: expected a Tensor, received ${t === null ? 'null' : typeof t}`);
  }
  if (t.storage instanceof CpuStorage) return t.storage.array;
  throw new Error(
    `${op}: this tensor lives on '${t.device}', and @recurrent/tensor ops run on the CPU; ` +
      `read it with \`await t.data()\` and make a CPU tensor, or run the op on its backend`,
  );
}

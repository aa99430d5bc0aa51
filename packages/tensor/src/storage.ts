/**
 * Where a tensor's float32 elements live. The CPU storage wraps a Float32Array; other backends
 * (the WebGPU backend keeps a GPU buffer) implement the same contract, so `data()` is the one read
 * path that works everywhere and `readSync()` may refuse for storage that cannot be read synchronously.
 */
export interface Storage {
  /** `'cpu'`, or the backend's name (`'webgpu'`). */
  readonly device: string;
  /** Number of float32 elements. */
  readonly length: number;
  /** The elements, row-major. */
  read(): Promise<Float32Array>;
  /** The elements, row-major; throws on storage that can only be read asynchronously. */
  readSync(): Float32Array;
  /** Releases backend memory; a no-op on the CPU. */
  dispose(): void;
}

/** Storage in a Float32Array on the JavaScript heap. */
export class CpuStorage implements Storage {
  readonly device = 'cpu';
  readonly array: Float32Array;
  constructor(array: Float32Array) {
    this.array = array;
  }
  get length(): number {
    return this.array.length;
  }
  read(): Promise<Float32Array> {
    return Promise.resolve(this.array);
  }
  readSync(): Float32Array {
    return this.array;
  }
  dispose(): void {}
}

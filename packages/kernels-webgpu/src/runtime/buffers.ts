/// <reference types="@webgpu/types" />

/** GPUBufferUsage flags, spelled out so no WebGPU global is needed at load time. */
export const BufferUsage: {
  readonly MAP_READ: 1;
  readonly COPY_SRC: 4;
  readonly COPY_DST: 8;
  readonly UNIFORM: 64;
  readonly STORAGE: 128;
} = Object.freeze({ MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128 });

/** Usage of tensor and scratch buffers: bound as storage, filled by writeBuffer, copied for readback. */
export const STORAGE_USAGE: number = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Counts of GPU buffers. "Live" buffers exist on the device (in use or idle in the pool). */
export interface BufferStats {
  liveBuffers: number;
  liveBytes: number;
  /** Handed out and not yet released (tensors, scratch of a command in flight). */
  buffersInUse: number;
  bytesInUse: number;
  /** Buffers created over the pool's life (reuse keeps this flat). */
  buffersCreated: number;
}

/**
 * Bytes actually allocated for a request: 256 B at least, then four size classes per power of two
 * (≤ 25% waste), so buffers of similar sizes are reused.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const octave = 2 ** Math.floor(Math.log2(bytes - 1));
  const quarter = octave / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

/**
 * GPU buffers reused by size class and usage. `acquire` hands out an idle buffer of the request's class
 * or creates one; `release` returns it. Idle buffers beyond `maxIdleBytes` are destroyed.
 * Reuse is safe without fences: every use goes through the one queue, in order.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #maxBytes: number;
  readonly #idle = new Map<string, GPUBuffer[]>();
  readonly #inUse = new Set<GPUBuffer>();
  #idleBytes = 0;
  #stats: BufferStats = { liveBuffers: 0, liveBytes: 0, buffersInUse: 0, bytesInUse: 0, buffersCreated: 0 };
  /** Idle bytes kept for reuse before released buffers are destroyed instead. */
  maxIdleBytes: number;

  /** @param maxBufferBytes the largest buffer the device allows (`maxBufferSize`). */
  constructor(device: GPUDevice, maxBufferBytes: number, maxIdleBytes: number = 256 * 2 ** 20) {
    this.#device = device;
    this.#maxBytes = maxBufferBytes;
    this.maxIdleBytes = maxIdleBytes;
  }

  /** A buffer of at least `bytes` bytes with exactly `usage`; `what` names it in errors. */
  acquire(bytes: number, usage: number, what = 'a buffer'): GPUBuffer {
    if (bytes > this.#maxBytes) {
      throw new RangeError(
        `WebGPU: ${what} of ${mib(bytes)} exceeds this device's maxBufferSize (${mib(this.#maxBytes)})`,
      );
    }
    let size = sizeClass(bytes);
    if (size > this.#maxBytes) size = Math.ceil(bytes / 4) * 4;
    const key = `${usage}:${size}`;
    let buffer = this.#idle.get(key)?.pop();
    if (buffer) {
      this.#idleBytes -= size;
    } else {
      buffer = this.#device.createBuffer({ size, usage });
      this.#stats.liveBuffers++;
      this.#stats.liveBytes += size;
      this.#stats.buffersCreated++;
    }
    this.#inUse.add(buffer);
    this.#stats.buffersInUse++;
    this.#stats.bytesInUse += size;
    return buffer;
  }

  /** Returns a buffer from `acquire`; releasing twice is ignored. */
  release(buffer: GPUBuffer): void {
    if (!this.#inUse.delete(buffer)) return;
    const size = buffer.size;
    this.#stats.buffersInUse--;
    this.#stats.bytesInUse -= size;
    if (this.#idleBytes + size > this.maxIdleBytes) {
      this.#destroy(buffer);
      return;
    }
    const key = `${buffer.usage}:${size}`;
    const list = this.#idle.get(key);
    if (list) list.push(buffer);
    else this.#idle.set(key, [buffer]);
    this.#idleBytes += size;
  }

  /** Destroys every idle buffer. */
  trim(): void {
    for (const list of this.#idle.values()) for (const b of list) this.#destroy(b);
    this.#idle.clear();
    this.#idleBytes = 0;
  }

  /** Destroys every buffer, idle or in use (the device is going away). */
  destroyAll(): void {
    this.trim();
    for (const b of this.#inUse) this.#destroy(b);
    this.#inUse.clear();
    this.#stats.buffersInUse = 0;
    this.#stats.bytesInUse = 0;
  }

  stats(): BufferStats {
    return { ...this.#stats };
  }

  #destroy(buffer: GPUBuffer): void {
    this.#stats.liveBuffers--;
    this.#stats.liveBytes -= buffer.size;
    buffer.destroy();
  }
}

/** `12.5 MiB`, for messages. */
export function mib(bytes: number): string {
  return `${Number((bytes / 2 ** 20).toPrecision(4))} MiB`;
}

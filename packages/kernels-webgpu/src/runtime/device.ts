/// <reference types="@webgpu/types" />
import { cpuArray, type DType, type Shape, type Tensor } from '@recurrent/tensor';
import { BufferPool, type BufferStats, BufferUsage, mib, STORAGE_USAGE } from './buffers.js';
import { type GpuDeviceOps, gpuDeviceOps } from './device-ops.js';
import { getGpu, NO_WEBGPU } from './gpu.js';
import { PipelineCache } from './pipelines.js';
import { Recorder } from './recorder.js';
import { GpuStorage, gpuTensor, type StorageOwner } from './storage.js';

/** How to get a device. With none of these, `navigator.gpu` (browsers) or the `webgpu` package (Node). */
export interface WebGPUOptions {
  /** Use this device (it is not destroyed by `dispose()`). */
  device?: GPUDevice;
  /** Request the device from this adapter. */
  adapter?: GPUAdapter;
  /** Request the adapter from this `GPU` object instead of `navigator.gpu` / the `webgpu` package. */
  gpu?: GPU;
  /** Adapter preference, passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
}

/** Activity and memory counters of a runtime. */
export interface RuntimeStats extends BufferStats {
  /** `queue.submit` calls (forwards, readbacks). */
  submits: number;
  /** Reads of GPU data back to the CPU (`mapAsync`). */
  readbacks: number;
  /** Compute pipelines created (one per kernel variant). */
  pipelinesCreated: number;
  /** CPU → GPU writes (`queue.writeBuffer`). */
  uploads: number;
}

// timers exist in every JavaScript host; the build's lib (ES2022, no DOM or Node types) does not declare them
declare const setTimeout: (callback: () => void, ms: number) => unknown;
declare const clearTimeout: (id: unknown) => void;

// limits raised to the adapter's maximum when the runtime requests the device itself
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
] as const;
let nextId = 1;

/** Creates a runtime on a new (or the given) device; rejects with how to get WebGPU when there is none. */
export async function createRuntime(options: WebGPUOptions = {}): Promise<GpuRuntime> {
  if (options.device) {
    const adapter = options.adapter;
    return new GpuRuntime(
      options.device,
      false,
      adapter?.info ?? null,
      adapter ? isFallback(adapter) : false,
    );
  }
  let adapter = options.adapter ?? null;
  if (!adapter) {
    const gpu = options.gpu ?? (await getGpu());
    adapter = await answered(
      gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined),
      'requestAdapter()',
    );
    if (!adapter) throw new Error(`WebGPU: no GPU adapter was found. ${NO_WEBGPU}`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await answered(adapter.requestDevice({ requiredLimits }), 'requestDevice()');
  return new GpuRuntime(device, true, adapter.info, isFallback(adapter));
}

/**
 * Whether the adapter is a software fallback (`adapter.info.isFallbackAdapter`; before Chrome 136 and in
 * older Dawn builds, `adapter.isFallbackAdapter`): WebGPU then runs on the CPU, far slower than a GPU.
 */
export function isFallback(adapter: GPUAdapter): boolean {
  const info = adapter.info as Partial<GPUAdapterInfo> | undefined;
  const older = (adapter as { isFallbackAdapter?: unknown }).isFallbackAdapter;
  return info?.isFallbackAdapter === true || older === true;
}

/** `promise`, or a rejection if the driver has not answered in 60 s (a broken driver must not hang us). */
function answered<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`WebGPU: ${what} did not answer within 60 s. ${NO_WEBGPU}`)),
      60_000,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One WebGPU device with a buffer pool, a pipeline cache and counters. Everything that touches the
 * device checks first that it is still usable: after `dispose()`, a lost device or an error from
 * the device, calls throw a clear error instead of hanging.
 */
export class GpuRuntime implements StorageOwner {
  readonly device: GPUDevice;
  /** `webgpu device #1 (google swiftshader)`: unique per runtime, for messages. */
  readonly label: string;
  /** The adapter's vendor and architecture or description (`google swiftshader`), or '' when unknown. */
  readonly adapterName: string;
  /** Whether the adapter reports itself a software fallback (see `isFallback`); false when unknown. */
  readonly fallback: boolean;
  readonly limits: GPUSupportedLimits;
  readonly pipelines: PipelineCache;
  readonly buffers: BufferPool;
  /**
   * Ops on this runtime's float32 tensors, each one submit without a readback: what autograd uses to keep
   * gradients on the GPU (its storages hand them to the engine), and the losses' and optimizers' steps.
   */
  readonly ops: GpuDeviceOps = gpuDeviceOps(this);
  readonly #owned: boolean;
  #counts = { submits: 0, readbacks: 0, uploads: 0 };
  #failure: Error | null = null;
  readonly #lost: Promise<Error>;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(device: GPUDevice, owned: boolean, info: GPUAdapterInfo | null, fallback: boolean = false) {
    this.device = device;
    this.fallback = fallback;
    this.#owned = owned;
    this.limits = device.limits;
    const name = [info?.vendor, info?.architecture || info?.description].filter(Boolean).join(' ');
    this.adapterName = name;
    this.label = `webgpu device #${nextId++}${name ? ` (${name})` : ''}`;
    this.buffers = new BufferPool(device, this.limits.maxBufferSize);
    this.pipelines = new PipelineCache(device, (e) => this.fail(e));
    this.#lost = device.lost.then((info) => {
      const error = new Error(
        `${this.label} was lost (${info.reason}${info.message ? `: ${info.message}` : ''}); ` +
          'create a new backend to continue',
      );
      if (!this.#failure) this.#failure = error;
      return error;
    });
    if (typeof device.addEventListener === 'function') {
      device.addEventListener('uncapturederror', (event) => {
        this.fail(new Error(`${this.label}: ${(event as GPUUncapturedErrorEvent).error.message}`));
      });
    }
  }

  /**
   * Runs `fn` (encoding, submitting) inside validation and out-of-memory error scopes; an error the
   * device reports makes the runtime fail with a message naming `what`, and the next read throws it.
   */
  guard<T>(what: string, fn: () => T): T {
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    try {
      return fn();
    } finally {
      const scopes = [device.popErrorScope(), device.popErrorScope()];
      const check = Promise.all(scopes).then(
        (errors) => {
          for (const e of errors) if (e) this.fail(new Error(`${this.label}: ${what} failed: ${e.message}`));
        },
        () => {}, // popping fails only on a lost device, which #lost reports
      );
      this.#pending.add(check);
      void check.finally(() => this.#pending.delete(check));
    }
  }

  /** Resolves once every error check of work recorded so far has reported. */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
    await this.pipelines.settled();
  }

  /** Throws if the device was disposed or lost, or reported an error. */
  check(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Marks the runtime unusable with `error` (the first error wins). */
  fail(error: Error): void {
    this.#failure ??= error;
  }

  /**
   * A pooled buffer; throws naming the buffer (`what`, e.g. 'the layer output') and the limit if the device
   * cannot hold it.
   */
  acquire(bytes: number, usage: number, what = 'a storage buffer'): GPUBuffer {
    this.check();
    if (usage & BufferUsage.STORAGE && bytes > this.limits.maxStorageBufferBindingSize) {
      throw new RangeError(
        `WebGPU: ${what} of ${mib(bytes)} exceeds this device's maxStorageBufferBindingSize ` +
          `(${mib(this.limits.maxStorageBufferBindingSize)}); split the work (e.g. a shorter sequence or a smaller batch)`,
      );
    }
    return this.buffers.acquire(bytes, usage, what);
  }

  release(buffer: GPUBuffer): void {
    this.buffers.release(buffer);
  }

  /** Writes floats (or int32s) at the start of `buffer` through the queue. */
  write(buffer: GPUBuffer, data: Float32Array | Int32Array): void {
    this.check();
    // the DOM lib types writeBuffer for ArrayBuffer-backed views only; a SharedArrayBuffer-backed one works too
    if (data.length) this.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    this.#counts.uploads++;
  }

  /** Writes raw bytes at the start of `buffer` (uniforms). */
  writeBytes(buffer: GPUBuffer, data: ArrayBuffer): void {
    this.check();
    this.device.queue.writeBuffer(buffer, 0, data);
  }

  /** A GPU copy of a CPU tensor, `(same shape)`, of its dtype (float32 or int32). */
  fromCpu<D extends DType>(t: Tensor<D>): Tensor<D> {
    const data = cpuArray(t, 'WebGPU upload');
    const buffer = this.acquire(Math.max(4, data.byteLength), STORAGE_USAGE);
    this.write(buffer, data);
    return gpuTensor(this, buffer, t.shape, t.dtype);
  }

  /** A tensor of `shape` over a pooled buffer (its data comes from work the caller records). */
  tensor<D extends DType = 'float32'>(buffer: GPUBuffer, shape: Shape, dtype: D = 'float32' as D): Tensor<D> {
    return gpuTensor(this, buffer, shape, dtype);
  }

  /** The buffer of a GPU tensor of this runtime; names both devices when it belongs to another one. */
  bufferOf(t: Tensor, what: string): GPUBuffer {
    const storage = t.storage;
    if (!(storage instanceof GpuStorage)) {
      throw new Error(`${what} is on '${t.device}', expected a tensor on ${this.label}`);
    }
    if (storage.owner !== this) {
      throw new Error(
        `${what} lives on ${storage.owner.label} but this computation runs on ${this.label}: ` +
          'tensors of two devices cannot be mixed; read it back with await t.data() and pass the CPU tensor',
      );
    }
    return storage.buffer(what);
  }

  /** A recorder for one command buffer. */
  recorder(): Recorder {
    this.check();
    return new Recorder(this);
  }

  /**
   * Records `record` into one command buffer and submits it; when recording or submitting throws, what was
   * recorded is dropped and `outputs` (buffers acquired for the results) go back to the pool.
   */
  run(record: (rec: Recorder) => void, outputs: readonly GPUBuffer[] = []): void {
    let rec: Recorder | null = null;
    try {
      rec = this.recorder();
      record(rec);
      rec.submit();
    } catch (error) {
      rec?.discard();
      for (const b of outputs) this.release(b);
      throw error;
    }
  }

  /** Submits one command buffer (validation errors make the runtime fail with their message). */
  submit(commands: GPUCommandBuffer): void {
    this.check();
    this.device.queue.submit([commands]);
    this.#counts.submits++;
  }

  /** Reads `length` floats from the start of `buffer`. */
  async read(buffer: GPUBuffer, length: number): Promise<Float32Array> {
    this.check();
    if (length === 0) return new Float32Array(0);
    const bytes = length * 4;
    const staging = this.buffers.acquire(bytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
      this.submit(encoder.finish());
      this.#counts.readbacks++;
      const lost = this.#lost.then((e) => Promise.reject(e));
      await Promise.race([staging.mapAsync(1 /* GPUMapMode.READ */, 0, bytes), lost]);
      const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      await this.settled();
      this.check();
      return out;
    } catch (error) {
      this.check();
      throw error;
    } finally {
      if (staging.mapState === 'mapped') staging.unmap();
      this.buffers.release(staging);
    }
  }

  /** Resolves when the work submitted so far has finished; throws if the device failed. */
  async idle(): Promise<void> {
    this.check();
    const lost = this.#lost.then((e) => Promise.reject(e));
    await Promise.race([this.device.queue.onSubmittedWorkDone(), lost]);
    await this.settled();
    this.check();
  }

  stats(): RuntimeStats {
    return { ...this.buffers.stats(), ...this.#counts, pipelinesCreated: this.pipelines.created };
  }

  /** Releases every buffer and, if the runtime created the device, destroys it. Later calls throw. */
  dispose(): void {
    if (this.#failure?.message.startsWith(`${this.label} was disposed`)) return;
    this.fail(new Error(`${this.label} was disposed; create a new backend to continue`));
    this.buffers.destroyAll();
    if (this.#owned) this.device.destroy();
  }
}

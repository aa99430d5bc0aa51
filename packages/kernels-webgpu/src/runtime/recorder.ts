import { BufferUsage, STORAGE_USAGE } from './buffers.js';
import type { GpuRuntime } from './device.js';
import type { Kernel } from './pipelines.js';

interface Dispatch {
  readonly kind: 'dispatch';
  readonly kernel: Kernel;
  readonly buffers: readonly GPUBuffer[];
  readonly uniforms: readonly number[];
  readonly groups: readonly [number, number, number];
}

interface Copy {
  readonly kind: 'copy';
  readonly src: GPUBuffer;
  readonly srcOffset: number;
  readonly dst: GPUBuffer;
  readonly dstOffset: number;
  readonly bytes: number;
}

let nextBufferId = 1;
const bufferIds = new WeakMap<GPUBuffer, number>();
function idOf(buffer: GPUBuffer): number {
  let id = bufferIds.get(buffer);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(buffer, id);
  }
  return id;
}

/**
 * Records a whole computation (dispatches and buffer copies) and submits it as one command buffer.
 *
 * The uniforms of every dispatch go into one arena buffer, 256-byte slots read through a dynamic
 * offset, so the T dispatches of a recurrence share one bind group. Scratch buffers taken with
 * `scratch`/`upload` return to the pool right after the submit (queue order makes that safe).
 */
export class Recorder {
  readonly runtime: GpuRuntime;
  readonly #ops: (Dispatch | Copy)[] = [];
  readonly #scratch: GPUBuffer[] = [];
  #submitted = false;

  constructor(runtime: GpuRuntime) {
    this.runtime = runtime;
  }

  /**
   * Runs `kernel` over `groups` workgroups; `buffers` follow `kernel.bindings`, `uniforms` name every
   * field of its uniform block (`{ M, N, K }`, checked by the compiler).
   */
  dispatch<U extends string>(
    kernel: Kernel<U>,
    buffers: readonly GPUBuffer[],
    uniforms: Readonly<Record<U, number>>,
    groups: readonly [number, number, number],
  ): void {
    const values = kernel.uniforms.map((f) => uniforms[f.name]);
    if (buffers.length !== kernel.bindings.length || values.some((v) => typeof v !== 'number')) {
      const missing = kernel.uniforms.filter((f) => typeof uniforms[f.name] !== 'number').map((f) => f.name);
      throw new Error(
        `Recorder: kernel '${kernel.key}' takes ${kernel.bindings.length} buffers, received ${buffers.length}` +
          (missing.length ? `; uniforms missing: ${missing.join(', ')}` : ''),
      );
    }
    const max = this.runtime.limits.maxComputeWorkgroupsPerDimension;
    if (groups.some((g) => g > max)) {
      throw new RangeError(
        `kernel '${kernel.key}' needs [${groups}] workgroups, above maxComputeWorkgroupsPerDimension (${max})`,
      );
    }
    if (groups.some((g) => g === 0)) return;
    this.#ops.push({ kind: 'dispatch', kernel, buffers, uniforms: values, groups });
  }

  /** Copies `bytes` bytes between buffers (both offsets and the size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes > 0) this.#ops.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
  }

  /** A storage buffer of at least `bytes` bytes, released after the submit; `what` names it in errors. */
  scratch(bytes: number, what = 'a scratch buffer'): GPUBuffer {
    const buffer = this.runtime.acquire(bytes, STORAGE_USAGE, what);
    this.#scratch.push(buffer);
    return buffer;
  }

  /** A scratch buffer holding `data` (written through the queue, before the submitted work runs). */
  upload(data: Float32Array | Int32Array): GPUBuffer {
    const buffer = this.scratch(Math.max(4, data.byteLength));
    this.runtime.write(buffer, data);
    return buffer;
  }

  /** Drops what was recorded and releases the scratch buffers (recording failed; nothing is submitted). */
  discard(): void {
    if (this.#submitted) return;
    this.#submitted = true;
    for (const b of this.#scratch) this.runtime.release(b);
  }

  /** Encodes everything into one command buffer and submits it once. */
  submit(): void {
    if (this.#submitted) throw new Error('Recorder: already submitted');
    this.#submitted = true;
    const runtime = this.runtime;
    runtime.check();
    const device = runtime.device;
    try {
      runtime.guard('a recorded computation', () => this.#encode(runtime, device));
    } finally {
      for (const b of this.#scratch) runtime.release(b);
    }
  }

  #encode(runtime: GpuRuntime, device: GPUDevice): void {
    const dispatches = this.#ops.filter((op): op is Dispatch => op.kind === 'dispatch');
    const slot = Math.max(256, runtime.limits.minUniformBufferOffsetAlignment);
    const arena = runtime.acquire(
      Math.max(1, dispatches.length) * slot,
      BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    );
    this.#scratch.push(arena);
    const words = new ArrayBuffer(Math.max(1, dispatches.length) * slot);
    const asU32 = new Uint32Array(words);
    const asF32 = new Float32Array(words);
    dispatches.forEach((d, i) => {
      const base = (i * slot) / 4;
      d.kernel.uniforms.forEach((field, k) => {
        const v = d.uniforms[k] as number;
        if (field.type === 'f32') asF32[base + k] = v;
        else asU32[base + k] = v;
      });
    });
    runtime.writeBytes(arena, words);

    const bindGroups = new Map<string, GPUBindGroup>();
    const encoder = device.createCommandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    let index = 0;
    for (const op of this.#ops) {
      if (op.kind === 'copy') {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(op.src, op.srcOffset, op.dst, op.dstOffset, op.bytes);
        continue;
      }
      const compiled = runtime.pipelines.get(op.kernel);
      const key = `${op.kernel.key}|${op.buffers.map(idOf).join(',')}`;
      let group = bindGroups.get(key);
      if (!group) {
        group = device.createBindGroup({
          layout: compiled.layout,
          entries: [
            { binding: 0, resource: { buffer: arena, offset: 0, size: compiled.uniformBytes } },
            ...op.buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
          ],
        });
        bindGroups.set(key, group);
      }
      pass ??= encoder.beginComputePass();
      pass.setPipeline(compiled.pipeline);
      pass.setBindGroup(0, group, [index * slot]);
      pass.dispatchWorkgroups(...op.groups);
      index++;
    }
    pass?.end();
    runtime.submit(encoder.finish());
  }
}

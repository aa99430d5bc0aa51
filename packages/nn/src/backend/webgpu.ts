/// <reference types="@webgpu/types" preserve="true" />
/**
 * The WebGPU backend, `@recurrent/nn/webgpu`: a subpath of its own so CPU-only users never load it.
 *
 * ```ts
 * import { createWebGPUBackend } from '@recurrent/nn/webgpu';
 * const gpu = await createWebGPUBackend();   // Node: needs `npm i webgpu`
 * rnn.to(gpu);
 * const [output, hN] = rnn.forward(x);       // GPU tensors; x may be a CPU tensor
 * await output.data();                       // read back
 * ```
 */
import {
  createRuntime,
  type GpuRuntime,
  type RuntimeStats,
  type WebGPUOptions,
} from '@recurrent/kernels-webgpu';
import type { Tensor } from '@recurrent/tensor';
import type { Backend, RnnArgs, RnnResult } from './types.js';
import { rnnWebGPU } from './webgpu-rnn.js';

export type { RuntimeStats, WebGPUOptions } from '@recurrent/kernels-webgpu';

/** Options of `createWebGPUBackend`: which device, and kernel choices. */
export interface WebGPUBackendOptions extends WebGPUOptions {
  /**
   * Run each layer's recurrence as one persistent kernel (W_hh kept in workgroup memory, a loop over
   * time) when W_hh fits in workgroup memory (hiddenSize up to ~59 with 16 KiB, ~87 with 32 KiB);
   * otherwise, or with `false`, one fused GEMM-and-activation dispatch per time step. Default true.
   */
  persistent?: boolean;
}

/** A `Backend` on one WebGPU device, with its counters and an explicit `dispose`. */
export interface WebGPUBackend extends Backend {
  readonly name: 'webgpu';
  /** The device, buffer pool and pipeline cache (from `@recurrent/kernels-webgpu`). */
  readonly runtime: GpuRuntime;
  /** Live buffers and bytes, queue submits, readbacks, pipelines created, uploads. */
  stats(): RuntimeStats;
  /** Releases every GPU buffer and the device (if this backend created it); later calls throw. */
  dispose(): void;
}

/**
 * Creates the WebGPU backend on a new device (or `options.device` / `options.adapter`). In browsers it
 * uses `navigator.gpu`; in Node the `webgpu` package, found automatically. Rejects with how to get
 * WebGPU when there is no adapter.
 *
 * `rnn.to(backend)` moves a module's parameters (lazily, once); `forward` then takes CPU or GPU tensors
 * and returns GPU tensors: read them with `await t.data()`, release them with `t.dispose()`. One forward
 * is one command buffer and one queue submit, with no readback.
 */
export async function createWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  const runtime = await createRuntime(options);
  const persistent = options.persistent ?? true;
  return Object.freeze({
    name: 'webgpu' as const,
    runtime,
    fromCpu: (t: Tensor): Tensor => runtime.fromCpu(t),
    rnn: (args: RnnArgs): RnnResult => rnnWebGPU(runtime, args, persistent),
    stats: (): RuntimeStats => runtime.stats(),
    dispose: (): void => runtime.dispose(),
  });
}

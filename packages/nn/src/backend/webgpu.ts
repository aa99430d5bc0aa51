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
  GpuStorage,
  type RuntimeStats,
  STORAGE_USAGE,
  type WebGPUOptions,
} from '@recurrent/kernels-webgpu';
import type { Tensor } from '@recurrent/tensor';
import type {
  Backend,
  ElementDropoutArgs,
  EmbeddingArgs,
  GatherRowsArgs,
  LastDimArgs,
  LinearArgs,
  RnnArgs,
  RnnBackwardOptions,
  RnnGradOutputs,
  RnnGrads,
  RnnResult,
  RnnTrainResult,
} from './types.js';
import { rnnTrainWebGPU } from './webgpu-grad.js';
import { rnnBackwardWebGPU } from './webgpu-grad-backward.js';
import { embeddingBackwardWebGPU, linearBackwardWebGPU } from './webgpu-grad-heads.js';
import {
  argmaxWebGPU,
  dropoutMaskWebGPU,
  dropoutTrainWebGPU,
  dropoutWebGPU,
  embeddingWebGPU,
  gatherRowsWebGPU,
  linearWebGPU,
  softmaxWebGPU,
} from './webgpu-ops.js';
import { rnnWebGPU } from './webgpu-rnn.js';

export type { RuntimeStats, WebGPUOptions } from '@recurrent/kernels-webgpu';

/** Options of `createWebGPUBackend`: which device, and kernel choices. */
export interface WebGPUBackendOptions extends WebGPUOptions {
  /**
   * Run each layer's recurrence as one persistent kernel (W_hh kept in workgroup memory, the loop over
   * time inside the kernel) when W_hh and the state fit in workgroup memory: with the 16 KiB every device
   * has, hiddenSize up to 63 (RNN), 36 (GRU) or 31 (LSTM); with 32 KiB, up to 89, 51 or 45 (an LSTM with
   * projSize P needs 4·H·P + 2·P + H floats, W_hr staying in storage when it does not fit beside them).
   * Otherwise, or with `false`, one fused dispatch per time step (all gates, bias and cell update in one
   * kernel). Default true.
   */
  persistent?: boolean;
}

/** A `Backend` on one WebGPU device, with its counters and an explicit `dispose`. */
export interface WebGPUBackend extends Backend {
  readonly device: 'webgpu';
  /** The device, buffer pool and pipeline cache (from `@recurrent/kernels-webgpu`). */
  readonly runtime: GpuRuntime;
  /**
   * Whether the adapter is a software fallback (`adapter.info.isFallbackAdapter`, or the older
   * `adapter.isFallbackAdapter`): WebGPU then runs on the CPU, and the label says so.
   */
  readonly fallback: boolean;
  /** Live buffers and bytes, queue submits, readbacks, pipelines created, uploads. */
  stats(): RuntimeStats;
  /** Releases every GPU buffer and the device (if this backend created it); later calls throw. Idempotent. */
  dispose(): void;
}

/**
 * Creates the WebGPU backend on a new device (or `options.device` / `options.adapter`). In browsers it
 * uses `navigator.gpu`; in Node the `webgpu` package, found automatically. Rejects with how to get
 * WebGPU when there is no adapter.
 *
 * `rnn.to(backend)` moves a module's parameters (lazily, once); `forward` then takes CPU or GPU tensors
 * and returns GPU tensors: read them with `await t.data()`, release them with `t.dispose()`. One forward
 * is one command buffer and one queue submit, with no readback, for every cell (RNN, LSTM, GRU), packed
 * batches (`PackedSequence`) included: they compute only each sequence's real steps.
 * Modules train here too: a training forward moves their parameters to the GPU (`module.toAsync` brings
 * them back), the backward through time (`rnnBackward`), the heads' backward, the losses, gradient
 * clipping and the optimizers' steps run on the GPU, one submit each, and nothing is read back until you
 * read a value (`await loss.data()`). `Linear`, `Embedding` and `Dropout` compute here too, and `backend.argmax` / `softmax` / `logSoftmax`
 * return GPU tensors (argmax's int32), so a generation step reads back only the chosen token.
 */
export async function createWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  const runtime = await createRuntime(options);
  const persistent = options.persistent ?? true;
  const fallback = runtime.fallback;
  const label =
    `webgpu (${runtime.adapterName || 'unknown adapter'}` +
    `${fallback ? ' — software fallback: batch-1 models run far slower than on the CPU' : ''})`;
  let disposed = false;
  const alive = (): void => {
    if (disposed)
      throw new Error(
        `the backend '${label}' (${runtime.label}) was disposed; create a new backend to continue`,
      );
  };
  return Object.freeze({
    device: 'webgpu' as const,
    label,
    runtime,
    fallback,
    get disposed(): boolean {
      return disposed;
    },
    owns: (t: Tensor): boolean => t.storage instanceof GpuStorage && t.storage.owner === runtime,
    fromCpu: (t: Tensor): Tensor => {
      alive();
      return runtime.fromCpu(t);
    },
    clone: (t: Tensor): Tensor => {
      alive();
      const source = runtime.bufferOf(t, 'clone');
      const bytes = t.numel() * 4;
      const copy = runtime.acquire(Math.max(4, bytes), STORAGE_USAGE, `a copy of (${t.shape.join(', ')})`);
      const rec = runtime.recorder();
      rec.copy(source, 0, copy, 0, bytes);
      rec.submit();
      return runtime.tensor(copy, t.shape, t.dtype);
    },
    rnn: (args: RnnArgs): RnnResult => {
      alive();
      return rnnWebGPU(runtime, args, persistent);
    },
    rnnTrain: (args: RnnArgs): RnnTrainResult => {
      alive();
      return rnnTrainWebGPU(runtime, args);
    },
    rnnBackward: (
      args: RnnArgs,
      saved: unknown,
      grads: RnnGradOutputs,
      options?: RnnBackwardOptions,
    ): RnnGrads => {
      alive();
      return rnnBackwardWebGPU(runtime, args, saved, grads, options?.retainSaved ?? false);
    },
    linear: (args: LinearArgs): Tensor<'float32'> => {
      alive();
      return linearWebGPU(runtime, args);
    },
    embedding: (args: EmbeddingArgs): Tensor<'float32'> => {
      alive();
      return embeddingWebGPU(runtime, args);
    },
    linearBackward: (args: LinearArgs, grad: Tensor, needs: readonly boolean[]) => {
      alive();
      return linearBackwardWebGPU(runtime, args, grad, needs);
    },
    embeddingBackward: (args: EmbeddingArgs, grad: Tensor): Tensor<'float32'> => {
      alive();
      return embeddingBackwardWebGPU(runtime, args, grad);
    },
    gatherRows: (args: GatherRowsArgs): Tensor<'float32'> => {
      alive();
      return gatherRowsWebGPU(runtime, args);
    },
    argmax: (args: LastDimArgs): Tensor<'int32'> => {
      alive();
      return argmaxWebGPU(runtime, args);
    },
    softmax: (args: LastDimArgs): Tensor<'float32'> => {
      alive();
      return softmaxWebGPU(runtime, args, 'softmax');
    },
    logSoftmax: (args: LastDimArgs): Tensor<'float32'> => {
      alive();
      return softmaxWebGPU(runtime, args, 'logSoftmax');
    },
    dropout: (args: ElementDropoutArgs): Tensor<'float32'> => {
      alive();
      return dropoutWebGPU(runtime, args);
    },
    dropoutTrain: (args: ElementDropoutArgs) => {
      alive();
      return dropoutTrainWebGPU(runtime, args);
    },
    dropoutBackward: (grad: Tensor, mask: Tensor | null, p: number): Tensor<'float32'> => {
      alive();
      return dropoutMaskWebGPU(runtime, grad, mask, p, 'Dropout gradient');
    },
    stats: (): RuntimeStats => runtime.stats(),
    dispose: (): void => {
      if (disposed) return;
      disposed = true;
      runtime.dispose();
    },
  });
}

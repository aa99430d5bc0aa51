import { WASM32_MAX_BYTES, type WasmExecutor } from '@recurrent/kernels-wasm';
import type { Tensor } from '@recurrent/tensor';
import { cpuBackend } from './cpu.js';
import { recurrentCpuBackward as cpuBackward, recurrentCpuTrain as cpuTrain } from './cpu-grad.js';
import { linearBackward } from './cpu-grad-heads.js';
import { trainBytes, type WasmSaved, wasmTrainForward } from './cpu-wasm-grad.js';
import { wasmBackward } from './cpu-wasm-grad-back.js';
import { linearBytes, linearFlops, wasmLinear, wasmLinearBackward } from './cpu-wasm-linear.js';
import { planForward } from './cpu-wasm-plan.js';
import { prepareReady, type ReadyForward, readyEligible, readyKey, sameKey } from './cpu-wasm-ready.js';
import { pendingWeightBytes, prepareAll, recurrentWasm } from './cpu-wasm-rnn.js';
import { PreparedWeights } from './cpu-wasm-weights.js';
import { forwardFlops, seqGeometry } from './geometry.js';
import { ResultPool } from './result-pool.js';
import type {
  Backend,
  LinearArgs,
  RnnArgs,
  RnnBackwardOptions,
  RnnGradOutputs,
  RnnGrads,
  RnnResult,
  RnnTrainResult,
} from './types.js';

/** Options of {@link wasmCpuBackend}. */
export interface WasmCpuBackendOptions {
  /**
   * Forwards (recurrent, or a `Linear`'s, and their backwards) under this many FLOPs (of their GEMMs) run on
   * the plain TypeScript path, where copying into WebAssembly memory and back costs more than the
   * arithmetic. Default 16384; 0 sends every forward to WebAssembly.
   */
  minFlops?: number;
  /**
   * The most one forward's buffers (input, gate inputs, outputs, states) take in the kernels' memory.
   * A forward that needs more runs in time chunks that fit, carrying h (and c) from chunk to chunk, with
   * the same results. Default 64 MiB. (A training forward keeps every step's activations anyway: it
   * runs whole, or on the TypeScript path where the memory's limit cannot hold it.)
   */
  chunkBytes?: number;
  /**
   * WebAssembly memory never shrinks: when a forward leaves more than this many bytes of the kernels'
   * memory unused (beyond the prepared parameters, which stay in use), the backend drops its executor
   * (and a pool's workers) and makes a fresh one at the next forward, which prepares the parameters
   * again. Default 256 MiB.
   */
  releaseBytes?: number;
  /**
   * The most the kernels' memory may grow to; a forward that cannot fit, even one time step at a time,
   * is refused with a RangeError before anything is allocated. Default (and most) 4 GiB, the wasm32
   * limit.
   */
  memoryLimit?: number;
}

/** The backend of {@link wasmCpuBackend}: a CPU backend with the threads its kernels run on. */
export interface WasmCpuBackend extends Backend {
  readonly device: 'cpu';
  /** Threads the kernels run on, the calling one included. */
  readonly threads: number;
  /**
   * The executor the kernels run on now (`executor.arena.stats()` for its memory): null after a forward
   * that left more than `releaseBytes` of memory unused, until the next forward makes a fresh one, and
   * after `dispose()`.
   */
  readonly executor: WasmExecutor | null;
}

const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;
const DEFAULT_RELEASE_BYTES = 256 * 2 ** 20;

/**
 * The CPU backend on the WebAssembly SIMD kernels of `@recurrent/kernels-wasm`, run by `executor`:
 * `initWasm()` / `initWasmSync()` for one thread, `createWasmPool(threads)` for workers sharing the
 * kernels' memory. Every cell (Elman, LSTM with its projection, GRU), rectangular or packed batches
 * (a `PackedSequence` costs its real steps only), PyTorch's numbers within float32 rounding. Tensors
 * stay plain CPU tensors (`device` `'cpu'`), so modules move between this and `cpuBackend` freely.
 * The label names the kernels' build: `'cpu (WebAssembly SIMD + FMA, 1 thread)'` for the relaxed-SIMD
 * one (fused multiply-adds), `'cpu (WebAssembly SIMD, 2 threads)'` for the plain.
 *
 * Training: `rnnTrain` runs the same kernels saving what the backward reads (the activated gates and
 * states), and `rnnBackward` is cuDNN's split on the kernels, the numbers of `cpuBackend`'s within
 * float32 rounding: one kernel call per layer-direction for the pass through time (the gate derivatives
 * fused with the per-step GEMM `dh = dgates·W_hh`), whole-sequence GEMMs for the weights and the input.
 * What `rnnTrain` saves stays in the kernels' memory until `rnnBackward`, which frees it layer by layer (or
 * until the tape is collected without a backward); with `retainSaved` (a `retainGraph` backward) it keeps it
 * for the next backward.
 *
 * A `Linear` runs on the kernels too (`linear`, `linearBackward`): one GEMM with the bias fused, W packed
 * once per version, rows split over the threads; dx = g·W, dW = gᵀ·x and db as column sums for its
 * backward. The other head ops (embedding, softmax, argmax, dropout) run on `cpuBackend`'s TypeScript.
 *
 * Parameters are packed into the kernels' memory once per parameter version (an optimizer's in-place
 * step packs them again) and stay there for later forwards; inputs and states are copied in per forward
 * and results copied out. The buffers and kernel calls of the last whole inference forward stay ready
 * for the next forward of the same shape and parameters (a stream's steps, a served model), which then
 * costs little more than its arithmetic. Long sequences run in time chunks of at most `chunkBytes`; after a forward
 * that leaves more than `releaseBytes` unused, the memory is given back (see the options). Tiny problems
 * run on the plain TypeScript path. The backend owns the executor: `dispose()` stops its workers, and
 * every later `rnn()` or `linear()` throws.
 */
export function wasmCpuBackend(executor: WasmExecutor, options: WasmCpuBackendOptions = {}): WasmCpuBackend {
  const minFlops = options.minFlops ?? 16_384;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const releaseBytes = options.releaseBytes ?? DEFAULT_RELEASE_BYTES;
  const limit = Math.min(options.memoryLimit ?? WASM32_MAX_BYTES, WASM32_MAX_BYTES);
  const threads = executor.threads;
  // `current` is null while released: `last` (disposed) still knows how to make a fresh one
  let last = executor;
  let current: WasmExecutor | null = executor;
  let weights: PreparedWeights | null = new PreparedWeights(executor);
  // the last whole inference forward's buffers and calls, for the next of the same shape and parameters
  let ready: ReadyForward | null = null;
  // the arrays of released stream states (`recycle`), for the next ready forward's hN and cN
  const results = new ResultPool();
  let disposed = false;

  function dropReady(): void {
    ready?.free();
    ready = null;
  }

  function release(): void {
    dropReady();
    weights?.clear();
    current?.dispose();
    weights = null;
    current = null;
  }

  /** The executor and prepared parameters, a fresh pair after a release. */
  function acquire(): [WasmExecutor, PreparedWeights] {
    if (disposed) {
      throw new Error('wasmCpuBackend: backend disposed; create a new one (createCpuBackend) to run again');
    }
    if (!current || !weights) {
      current = last.renew();
      last = current;
      weights = new PreparedWeights(current);
    }
    return [current, weights];
  }

  /** Runs `f`, then gives the memory back when it leaves more than `releaseBytes` unused. */
  function releasing<R>(ex: WasmExecutor, f: () => R): R {
    try {
      return f();
    } finally {
      // what the memory holds beyond the blocks still in use (prepared parameters) is never given back;
      // a ready forward's buffers count as unused, as they would be had the forward freed them
      const { capacity, bytes } = ex.arena.stats();
      if (capacity - bytes + (ready?.bytes ?? 0) > releaseBytes) release();
    }
  }

  function wasmForward(args: RnnArgs, g: ReturnType<typeof seqGeometry>): RnnResult {
    const [ex, prepared] = acquire();
    const eligible = readyEligible(args);
    if (eligible && ready) {
      const params = prepareAll(prepared, args, g.N);
      if (sameKey(ready.key, readyKey(args, g, params))) {
        const r = ready;
        return releasing(ex, () => r.run(args));
      }
    }
    const plan = planForward(g, args, {
      chunkBytes,
      limit,
      top: ex.arena.stats().top,
      newWeightBytes: pendingWeightBytes(prepared, args, g.N),
    });
    // planned (or refused) first: a forward that cannot fit leaves everything as it was
    dropReady();
    return releasing(ex, () => {
      const params = prepareAll(prepared, args, g.N);
      if (!eligible || plan.chunks !== 1) return recurrentWasm(ex, params, args, g, plan);
      ready = prepareReady(ex, params, args, g, readyKey(args, g, params), results);
      return ready.run(args);
    });
  }

  /**
   * The executor and prepared parameters a linear (or its backward) runs on: null (the TypeScript path)
   * under `minFlops`, for an empty GEMM, or where its buffers would pass the memory's limit.
   */
  function linearOn(args: LinearArgs, backward: boolean): [WasmExecutor, PreparedWeights] | null {
    if (disposed) {
      throw new Error('wasmCpuBackend: backend disposed; create a new one (createCpuBackend) to run again');
    }
    const flops = linearFlops(args);
    if (flops === 0 || flops < minFlops) return null;
    const [ex, prepared] = acquire();
    const bytes = linearBytes(prepared, args, backward, ex.threads);
    return ex.arena.stats().top + bytes > limit ? null : [ex, prepared];
  }

  function rnnTrain(args: RnnArgs): RnnTrainResult {
    const g = seqGeometry(args);
    const [ex, prepared] = acquire();
    // the whole sequence at once: below minFlops, or where it cannot fit, the TypeScript training forward
    const need = ex.arena.stats().top + 2 * pendingWeightBytes(prepared, args, g.N) + 2 * trainBytes(g, args);
    if (forwardFlops(g) < minFlops || need > limit) {
      const { result, saved } = cpuTrain(args);
      return { result, saved: { kind: 'cpu', saved } };
    }
    return releasing(ex, () => wasmTrainForward(ex, prepareAll(prepared, args, g.N), args, g));
  }

  function rnnBackward(
    args: RnnArgs,
    saved: unknown,
    grads: RnnGradOutputs,
    options: RnnBackwardOptions = {},
  ): RnnGrads {
    const s = saved as WasmSaved | { kind: 'cpu'; saved: unknown };
    if (s.kind === 'cpu') return cpuBackward(args, s.saved, grads);
    const [ex, prepared] = acquire();
    return releasing(ex, () =>
      wasmBackward(ex, prepared, args, s, grads, options.retainSaved ?? false, options.inputGrad ?? true),
    );
  }

  return Object.freeze({
    device: 'cpu' as const,
    label: `cpu (WebAssembly SIMD${executor.fma ? ' + FMA' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`,
    threads,
    owns: (t: Tensor): boolean => t.device === 'cpu',
    fromCpu: cpuBackend.fromCpu,
    clone: cpuBackend.clone,
    linear(args: LinearArgs): Tensor<'float32'> {
      const on = linearOn(args, false);
      if (!on) return cpuBackend.linear(args);
      const [ex, prepared] = on;
      return releasing(ex, () => wasmLinear(ex, prepared, args));
    },
    linearBackward(args: LinearArgs, grad: Tensor, needs: readonly boolean[]): (Tensor<'float32'> | null)[] {
      const on = linearOn(args, true);
      if (!on) return linearBackward(args.input, args.weight, args.bias !== null, grad, needs);
      const [ex, prepared] = on;
      return releasing(ex, () => wasmLinearBackward(ex, prepared, args, grad, needs));
    },
    // the other head ops run on the TypeScript CPU backend
    embedding: cpuBackend.embedding,
    gatherRows: cpuBackend.gatherRows,
    argmax: cpuBackend.argmax,
    softmax: cpuBackend.softmax,
    logSoftmax: cpuBackend.logSoftmax,
    dropout: cpuBackend.dropout,
    rnnTrain,
    rnnBackward,
    rnn(args: RnnArgs): RnnResult {
      if (disposed) {
        throw new Error('wasmCpuBackend: backend disposed; create a new one (createCpuBackend) to run again');
      }
      const g = seqGeometry(args);
      return forwardFlops(g) < minFlops ? cpuBackend.rnn(args) : wasmForward(args, g);
    },
    recycle(t: Tensor): void {
      // only the arrays `results` handed out go back (a ready forward's hN and cN)
      if (t.device === 'cpu' && t.dtype === 'float32') results.give(t.dataSync() as Float32Array);
    },
    get executor(): WasmExecutor | null {
      return current;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      release();
      last.dispose();
    },
    get disposed(): boolean {
      return disposed;
    },
  });
}

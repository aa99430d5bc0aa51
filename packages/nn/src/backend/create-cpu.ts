import { createWasmPool, hardwareThreads, initWasm } from '@recurrent/kernels-wasm';
import { cpuBackend } from './cpu.js';
import { wasmCpuBackend } from './cpu-wasm.js';
import type { Backend } from './types.js';

/** Options of {@link createCpuBackend}. */
export interface CpuBackendOptions {
  /** Use the WebAssembly SIMD kernels where the engine has them. Default true. */
  wasm?: boolean;
  /**
   * Threads for the WebAssembly kernels, this one included. Default 1; at most 4× the machine's
   * hardware threads. Above 1, workers share the kernels' memory: Node `worker_threads`, or Web Workers
   * where the page is cross-origin isolated (SharedArrayBuffer); elsewhere the backend quietly runs on
   * one thread. A page's main thread cannot block, so there the calling thread spins while it waits for
   * the workers.
   */
  threads?: number;
  /**
   * The kernels' relaxed-SIMD build, with fused multiply-adds, where the engine has relaxed SIMD (Chrome
   * ≥ 114, Node ≥ 22, Node 20 with `--experimental-wasm-relaxed-simd`); false keeps the
   * plain SIMD build. Default true. The label says which runs (`'cpu (WebAssembly SIMD + FMA, 1 thread)'`).
   */
  fma?: boolean;
}

/** A backend from {@link createCpuBackend}: `dispose()` stops its worker threads, if it has any. */
export interface CpuBackend extends Backend {
  /** The threads the kernels run on (1 without workers). */
  readonly threads: number;
}

/**
 * The fastest CPU backend this engine supports: the WebAssembly SIMD kernels (compiled without
 * blocking, so this works on a browser's main thread) on `threads` threads, or the plain TypeScript
 * `cpuBackend` where WebAssembly SIMD is missing or `wasm: false`. Every variant computes the same
 * numbers (within float32 rounding) and produces ordinary CPU tensors.
 *
 * `cpuBackend` itself stays available synchronously everywhere; in Node, workers and other places
 * that allow synchronous compiles, `wasmCpuBackend(kernels)` with `kernels = initWasmSync()` (from
 * `@recurrent/kernels-wasm`; null without WebAssembly SIMD) gives the one-thread WASM backend without
 * awaiting.
 */
export async function createCpuBackend(options: CpuBackendOptions = {}): Promise<CpuBackend> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`createCpuBackend: threads must be a positive integer, received ${threads}`);
  }
  const cores = await hardwareThreads();
  if (threads > 4 * cores) {
    throw new RangeError(
      `createCpuBackend: threads must be at most ${4 * cores} (4 × the ${cores} hardware threads here), ` +
        `received ${threads}`,
    );
  }
  const plain = Object.freeze({ ...cpuBackend, threads: 1 });
  if (options.wasm === false) return plain;
  const build = { fma: options.fma ?? true };
  const pool = threads > 1 ? await createWasmPool(threads, build) : null;
  if (pool) return wasmCpuBackend(pool);
  const kernels = await initWasm(build);
  return kernels ? wasmCpuBackend(kernels) : plain;
}

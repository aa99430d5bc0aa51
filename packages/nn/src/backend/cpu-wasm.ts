import type { WasmExecutor } from '@recurrent/kernels-wasm';
import type { Tensor } from '@recurrent/tensor';
import { cpuBackend } from './cpu.js';
import { recurrentWasm } from './cpu-wasm-rnn.js';
import { PreparedWeights } from './cpu-wasm-weights.js';
import { forwardFlops, seqGeometry } from './geometry.js';
import type { Backend, RnnArgs, RnnResult } from './types.js';

/** Options of {@link wasmCpuBackend}. */
export interface WasmCpuBackendOptions {
  /**
   * Forwards under this many FLOPs (of their GEMMs) run on the plain TypeScript path, where copying
   * into WebAssembly memory and back costs more than the arithmetic. Default 16384; 0 sends every
   * forward to WebAssembly.
   */
  minFlops?: number;
}

/** The backend of {@link wasmCpuBackend}: a CPU backend with the threads its kernels run on. */
export interface WasmCpuBackend extends Backend {
  readonly device: 'cpu';
  /** Threads the kernels run on, the calling one included. */
  readonly threads: number;
}

/**
 * The CPU backend on the WebAssembly SIMD kernels of `@recurrent/kernels-wasm`, run by `executor`:
 * `initWasm()` / `initWasmSync()` for one thread, `createWasmPool(threads)` for workers sharing the
 * kernels' memory. Every cell (Elman, LSTM with its projection, GRU), PyTorch's numbers within float32
 * rounding. Tensors stay plain CPU tensors (`device` `'cpu'`), so modules move between this and
 * `cpuBackend` freely.
 *
 * Parameters are packed into the kernels' memory once per parameter tensor and stay there for later
 * forwards; inputs and states are copied in per forward and results copied out. Tiny problems run on
 * the plain TypeScript path. The backend owns the executor: `dispose()` stops its workers, and every
 * later `rnn()` throws.
 */
export function wasmCpuBackend(executor: WasmExecutor, options: WasmCpuBackendOptions = {}): WasmCpuBackend {
  const minFlops = options.minFlops ?? 16_384;
  const weights = new PreparedWeights(executor);
  const threads = executor.threads;
  let disposed = false;
  return Object.freeze({
    device: 'cpu' as const,
    label: `cpu (WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'})`,
    threads,
    owns: (t: Tensor): boolean => t.device === 'cpu',
    fromCpu: cpuBackend.fromCpu,
    clone: cpuBackend.clone,
    rnn(args: RnnArgs): RnnResult {
      if (disposed) {
        throw new Error('wasmCpuBackend: backend disposed; create a new one (createCpuBackend) to run again');
      }
      const g = seqGeometry(args);
      return forwardFlops(g) < minFlops ? cpuBackend.rnn(args) : recurrentWasm(executor, weights, args, g);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      weights.clear();
      executor.dispose();
    },
    get disposed(): boolean {
      return disposed;
    },
  });
}

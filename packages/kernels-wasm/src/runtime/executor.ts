import type { Arena } from './arena.js';
import type { KernelExports } from './module.js';

/** The kernels a job may call: the exports of assembly/index.ts that run work. */
export type KernelName =
  | 'gemm'
  | 'gemmPacked'
  | 'packBlocks'
  | 'packPanels'
  | 'recur'
  | 'projectRecur'
  | 'recurBackward'
  | 'activateRows'
  | 'columnSums';

/** Every kernel a job may call, in a fixed order: workers receive a job as its index here. */
export const KERNEL_NAMES: readonly KernelName[] = Object.freeze([
  'gemm',
  'gemmPacked',
  'packBlocks',
  'packPanels',
  'recur',
  'activateRows',
  'recurBackward',
  'columnSums',
  'projectRecur',
]);

/** The most arguments a kernel takes (a worker's job slot holds this many). */
export const MAX_JOB_ARGS = 38;

/**
 * One kernel call. Made by the typed builders (`gemmJob`, `packedGemmJob`, `packJob`, `recurJob`,
 * `recurBackwardJob`, `activateJob`, `columnSumsJob`), which know each kernel's argument order; an
 * executor runs it.
 */
export interface Job {
  readonly kernel: KernelName;
  readonly args: readonly number[];
}

/**
 * Runs jobs on the kernels: `WasmKernels` on the calling thread, `WasmPool` on it and worker threads
 * sharing its memory. Either way the pointers of every job point into `arena`.
 */
export interface WasmExecutor {
  /** Jobs that run at once: 1, or the pool's threads (the calling one included). */
  readonly threads: number;
  /** Whether the kernels are the relaxed-SIMD build (fused multiply-adds) rather than plain SIMD. */
  readonly fma: boolean;
  /** The memory the jobs' pointers point into. */
  readonly arena: Arena;
  /**
   * Runs every job and returns when all have finished: up to `threads` at once (in waves, `jobs[i]` of
   * a wave on thread i, the first on the calling thread), so the jobs of one call must not depend on
   * each other. Synchronous. A kernel that traps throws here, after every other job has finished.
   */
  run(jobs: readonly Job[]): void;
  /** Stops the workers, if any; afterwards `run` throws. Idempotent. */
  dispose(): void;
  readonly disposed: boolean;
  /**
   * A new executor like this one (the same compiled kernels, the same threads) on a fresh memory, so
   * that this one's can be collected once it is disposed and unreferenced: WebAssembly memory never
   * shrinks. Synchronous, and allowed on a disposed executor. A pool's new workers start in the
   * background; until they are ready its jobs run on the calling thread.
   */
  renew(): WasmExecutor;
}

/** Calls a job's kernel on an instance's exports. */
export function callKernel(exports: KernelExports, job: Job): void {
  (exports[job.kernel] as (...args: number[]) => void)(...job.args);
}

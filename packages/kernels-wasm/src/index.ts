/**
 * WebAssembly SIMD kernels for `@recurrent/nn` and a typed runtime for them: a memory arena that hands
 * out typed blocks, job builders (`gemmJob`, `packedGemmJob`, `packJob`, `recurJob`, `recurBackwardJob`,
 * `activateJob`) and one executor interface, run on the calling thread (`initWasm`) or on a worker pool
 * sharing the memory (`createWasmPool`).
 */
export { type ActivateJobArgs, type Activation, activateJob } from './jobs/activation.js';
export { type ColumnSumsJobArgs, columnSumsJob } from './jobs/colsum.js';
export {
  type GemmJobArgs,
  gemmJob,
  gemmPackFloats,
  type PackedGemmJobArgs,
  packedGemmJob,
} from './jobs/gemm.js';
export { type PackJobArgs, type PackLayout, packedFloats, packJob, packTransposedJob } from './jobs/pack.js';
export {
  type CellMode,
  cellGates,
  packedSteps,
  projectRecurJob,
  type RecurJobArgs,
  recurJob,
  recurLayout,
  recurSaveFloats,
  recurScratchFloats,
} from './jobs/recur.js';
export {
  type RecurBackwardJobArgs,
  recurBackwardJob,
  recurBackwardScratchFloats,
} from './jobs/recur-backward.js';
export type { WasmMemory, WasmModule } from './runtime/api.js';
export {
  Arena,
  type ArenaStats,
  Block,
  NULL_PTR,
  type Ptr,
  Scratch,
  WASM32_MAX_BYTES,
} from './runtime/arena.js';
export { type Job, KERNEL_NAMES, type KernelName, type WasmExecutor } from './runtime/executor.js';
export { initWasm, initWasmSync } from './runtime/init.js';
export { WasmKernels } from './runtime/kernels.js';
export {
  compileKernels,
  compileKernelsSync,
  hasWasmRelaxedSimd,
  hasWasmSimd,
  type KernelBuildOptions,
  type KernelExports,
} from './runtime/module.js';
export { createWasmPool, WasmPool } from './runtime/pool.js';
export { hardwareThreads } from './runtime/threads.js';

// @recurrent/kernels-wasm's WebAssembly SIMD kernels, compiled by AssemblyScript (scripts/build-wasm.mjs)
// with the stub runtime into a module that imports its memory: pointers are byte offsets, and the
// host (src/runtime/) owns the memory and places every array in it. No static data, globals or start
// function: worker threads instantiate the module on one shared memory, and must not overwrite it or
// share scratch space (src/runtime/kernels.test.ts checks the binary for this). The host calls
// initConstants() once per memory, before any kernel (it writes the vector constants at byte 1024).
export { activateRows, initConstants } from './activation';
export { columnSums } from './colsum';
export { gemm, gemmPacked, packBlocks, packBytes, packPanels } from './gemm';
export { projectRecur } from './project-recur';
export { recur } from './recur';
export { recurBackward } from './recur-back';

/** Bit 0: this is the relaxed-SIMD build (Vec.madd is a fused multiply-add). */
export function features(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

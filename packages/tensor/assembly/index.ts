// @recurrent/tensor's WebAssembly SIMD kernels, compiled by AssemblyScript (scripts/build-wasm.mjs)
// with the stub runtime into a module that imports its memory: pointers are byte offsets, and the
// host (src/wasm/) owns the memory and places every array in it. No static data, globals or start
// function: worker threads instantiate the module on one shared memory, and must not overwrite it or
// share scratch space (src/wasm/kernels.test.ts checks the binary for this).
export { activateRows } from './activation';
export { gemm, packB, packBytes, panelGemm } from './gemm';
export { rnnRecur } from './rnn';
export { packB32 } from './row';

import { WasmKernels } from './kernels.js';
import { compileKernels, compileKernelsSync } from './module.js';

/**
 * The WebAssembly SIMD kernels, compiled without blocking: use this in browsers, whose main thread
 * refuses synchronous compiles of modules this size. Resolves to null where the engine has no
 * WebAssembly SIMD; callers then keep the plain TypeScript kernels.
 */
export async function initWasm(): Promise<WasmKernels | null> {
  const module = await compileKernels();
  return module ? new WasmKernels(module) : null;
}

/**
 * The WebAssembly SIMD kernels, compiled synchronously (Node, Deno, Bun, web workers), or null where
 * that is refused (a browser's main thread) or SIMD is missing: there, `await initWasm()`.
 */
export function initWasmSync(): WasmKernels | null {
  const module = compileKernelsSync();
  return module ? new WasmKernels(module) : null;
}

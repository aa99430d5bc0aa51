import { WasmKernels } from './kernels.js';
import { compileKernels, compileKernelsSync, type KernelBuildOptions } from './module.js';

/**
 * The WebAssembly SIMD kernels, compiled without blocking: use this in browsers, whose main thread
 * refuses synchronous compiles of modules this size. Resolves to null where the engine has no
 * WebAssembly SIMD; callers then keep the plain TypeScript kernels. The relaxed-SIMD build (fused
 * multiply-adds) where the engine has relaxed SIMD, unless `options.fma` is false; `kernels.fma` says
 * which.
 */
export async function initWasm(options: KernelBuildOptions = {}): Promise<WasmKernels | null> {
  const module = await compileKernels(false, options);
  return module ? new WasmKernels(module) : null;
}

/**
 * The WebAssembly SIMD kernels, compiled synchronously (Node, Deno, Bun, web workers), or null where
 * that is refused (a browser's main thread) or SIMD is missing: there, `await initWasm()`.
 */
export function initWasmSync(options: KernelBuildOptions = {}): WasmKernels | null {
  const module = compileKernelsSync(false, options);
  return module ? new WasmKernels(module) : null;
}

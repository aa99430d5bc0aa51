// Test-only (not built or published): turns on relaxed SIMD where the engine has it behind a flag (Node 20,
// `--experimental-wasm-relaxed-simd`), so one test run checks both builds of the kernels. V8 reads the
// flag when it validates and compiles a module, so setting it before the first compile is enough; a test
// file runs in a process of its own.
import { setFlagsFromString } from 'node:v8';
import { hasWasmRelaxedSimd } from '../runtime/module.js';

/** Whether relaxed SIMD is on after trying (false only on an engine without it at all). */
export function enableRelaxedSimd(): boolean {
  if (!hasWasmRelaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return hasWasmRelaxedSimd();
}

import {
  KERNELS_WASM,
  KERNELS_WASM_FMA,
  KERNELS_WASM_SHARED,
  KERNELS_WASM_SHARED_FMA,
} from '../kernels.generated.js';
import { decodeBase64, type WasmModule, wasmApi } from './api.js';

/**
 * The raw exports of the kernels module (assembly/index.ts): pointers are byte offsets into memory,
 * strides in elements. Call them through jobs (`gemmJob`, `recurJob`, …) and an executor.
 */
export interface KernelExports {
  gemm(
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    sai: number,
    sak: number,
    b: number,
    sbp: number,
    sbj: number,
    beta: number,
    c: number,
    ldc: number,
    act: number,
    pack: number,
  ): void;
  gemmPacked(
    M: number,
    N: number,
    K: number,
    a: number,
    sai: number,
    sak: number,
    packed: number,
    bias: number,
    beta: number,
    c: number,
    ldc: number,
    act: number,
    rowsFrom: number,
    rowsTo: number,
  ): void;
  packBlocks(b: number, sbp: number, sbj: number, K: number, N: number, dst: number): void;
  packPanels(b: number, sbp: number, sbj: number, K: number, N: number, dst: number, width: number): void;
  packBytes(N: number, K: number): number;
  recur(
    mode: number,
    T: number,
    N: number,
    H: number,
    P: number,
    gx: number,
    gxRow: number,
    gxStep: number,
    out: number,
    outRow: number,
    outStep: number,
    h0: number,
    c: number,
    whh: number,
    bhh: number,
    whr: number,
    scratch: number,
    reverse: number,
    rowsFrom: number,
    rowsTo: number,
    steps: number,
    save: number,
    saveRow: number,
    saveStep: number,
  ): void;
  /** `gemmPacked` (its 14 arguments), then `recur` (its 24). */
  projectRecur(...args: number[]): void;
  recurBackward(
    mode: number,
    T: number,
    N: number,
    H: number,
    P: number,
    strideT: number,
    strideN: number,
    gates: number,
    gLd: number,
    save: number,
    sLd: number,
    dOut: number,
    oLd: number,
    dh: number,
    dc: number,
    dGx: number,
    dGh: number,
    dhAll: number,
    whh: number,
    whr: number,
    scratch: number,
    reverse: number,
    rowsFrom: number,
    rowsTo: number,
    steps: number,
  ): void;
  activateRows(c: number, rows: number, cols: number, ld: number, act: number): void;
  columnSums(a: number, rows: number, ld: number, out: number, colsFrom: number, colsTo: number): void;
  /** Writes the vector constants (at byte 1024) the activations read: once per memory, before any kernel. */
  initConstants(): void;
  /** Bit 0 set in the relaxed-SIMD build (fused multiply-adds). */
  features(): number;
}

/** Which build of the kernels to compile. */
export interface KernelBuildOptions {
  /**
   * The relaxed-SIMD build, whose multiply-adds are fused (`f32x4.relaxed_madd`: one FMA instruction
   * where the CPU has one) where the engine supports relaxed SIMD (Chrome ≥ 114, Node ≥ 22;
   * Node 20 with `--experimental-wasm-relaxed-simd`); elsewhere the plain SIMD build. Default true; false
   * always takes the plain build. Results differ from the plain build's by float32 rounding only.
   */
  readonly fma?: boolean;
}

/** Whether this engine has WebAssembly with SIMD (the smallest module using a v128 validates). */
export function hasWasmSimd(): boolean {
  if (!wasmApi) return false;
  // (module (func (result v128) v128.const i32x4 0 0 0 0))
  const probe = Uint8Array.from([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  return wasmApi.validate(probe);
}

/**
 * Whether this engine has relaxed SIMD: the smallest module using `f32x4.relaxed_madd` validates.
 * Node 20 has it only under `--experimental-wasm-relaxed-simd`.
 */
export function hasWasmRelaxedSimd(): boolean {
  if (!wasmApi) return false;
  // (module (func (param v128 v128 v128) (result v128)
  //   local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
  const probe = Uint8Array.from([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0,
    32, 1, 32, 2, 253, 133, 2, 11,
  ]);
  return wasmApi.validate(probe);
}

/**
 * The kernels module's bytes: the shared-memory build for threads, else the plain one; with `fma`, the
 * relaxed-SIMD build of either.
 */
export function kernelBytes(shared: boolean, fma = false): Uint8Array {
  if (fma) return decodeBase64(shared ? KERNELS_WASM_SHARED_FMA : KERNELS_WASM_FMA);
  return decodeBase64(shared ? KERNELS_WASM_SHARED : KERNELS_WASM);
}

/** Whether to compile the relaxed-SIMD build for `options` here. */
function useFma(options: KernelBuildOptions): boolean {
  return options.fma !== false && hasWasmRelaxedSimd();
}

/**
 * Compiles the kernels synchronously, or returns null where the engine refuses (Chrome's main
 * thread refuses synchronous compiles over 4 KB; Node and workers do not).
 */
export function compileKernelsSync(shared = false, options: KernelBuildOptions = {}): WasmModule | null {
  if (!wasmApi || !hasWasmSimd()) return null;
  try {
    return new wasmApi.Module(kernelBytes(shared, useFma(options)));
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** Compiles the kernels without blocking; null where WebAssembly SIMD is missing. */
export async function compileKernels(
  shared = false,
  options: KernelBuildOptions = {},
): Promise<WasmModule | null> {
  if (!wasmApi || !hasWasmSimd()) return null;
  return wasmApi.compile(kernelBytes(shared, useFma(options)));
}

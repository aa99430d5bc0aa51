import { scaleC } from '../gemm.js';
import { checkSgemmArgs } from '../gemm-args.js';
import { type WasmMemory, type WasmModule, wasmApi } from './api.js';
import type { KernelExports } from './module.js';

const PAGE = 65536;
/** Below this the module keeps its static data; the arena starts here. */
const HEAP_BASE = PAGE;
/** Arena blocks are 64-byte aligned, and end at least 32 bytes before the next (partial-row reads). */
const ALIGN = 64;

/** Activation codes of the kernels (assembly/activation.ts). */
export const ACT_NONE = 0;
export const ACT_TANH = 1;
export const ACT_RELU = 2;

/**
 * An instance of the WebAssembly SIMD kernels with its memory, and a scratch arena in that memory.
 * Callers copy their arrays into arena blocks (`alloc`, then `f32.set`), call the kernels on byte
 * offsets, and copy results out; `reset` frees the whole arena at once. Memory only grows: the most
 * a call ever needed stays reserved for this instance's lifetime.
 */
export class WasmKernels {
  readonly exports: KernelExports;
  readonly memory: WasmMemory;
  #top = HEAP_BASE;
  #view: Float32Array;

  constructor(module: WasmModule, memory?: WasmMemory) {
    if (!wasmApi) throw new Error('WasmKernels: this engine has no WebAssembly');
    this.memory = memory ?? new wasmApi.Memory({ initial: 2 });
    this.exports = new wasmApi.Instance(module, { env: { memory: this.memory } })
      .exports as unknown as KernelExports;
    this.#view = new Float32Array(this.memory.buffer);
  }

  /** A float32 view of the whole memory, current after any growth. */
  get f32(): Float32Array {
    if (this.#view.buffer !== this.memory.buffer || this.#view.length * 4 !== this.memory.buffer.byteLength) {
      this.#view = new Float32Array(this.memory.buffer);
    }
    return this.#view;
  }

  /** Frees every block `alloc` handed out. */
  reset(): void {
    this.#top = HEAP_BASE;
  }

  /** A block of `floats` float32s in memory (byte offset, 64-byte aligned), growing memory if needed. */
  alloc(floats: number): number {
    const at = this.#top;
    this.#top = at + Math.ceil((floats * 4 + 32) / ALIGN) * ALIGN;
    const have = this.memory.buffer.byteLength;
    if (this.#top > have) this.memory.grow(Math.ceil((this.#top - have) / PAGE));
    return at;
  }

  /** Copies `src` into a new block; returns its byte offset. */
  put(src: Float32Array): number {
    const at = this.alloc(src.length);
    this.f32.set(src, at / 4);
    return at;
  }

  /**
   * `sgemm` of `@recurrent/tensor` on the SIMD kernels: C = alpha·op(A)·op(B) + beta·C, row-major with
   * leading dimensions, the same arguments and errors. The spans of A, B and C are copied through
   * the arena, so the arrays may be any Float32Array (the arena is reset).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    aOffset: number,
    lda: number,
    B: Float32Array,
    bOffset: number,
    ldb: number,
    beta: number,
    C: Float32Array,
    cOffset: number,
    ldc: number,
  ): void {
    checkSgemmArgs(
      'WasmKernels.sgemm',
      transA,
      transB,
      M,
      N,
      K,
      A,
      aOffset,
      lda,
      B,
      bOffset,
      ldb,
      C,
      cOffset,
      ldc,
    );
    if (M === 0 || N === 0) return;
    if (K === 0 || alpha === 0) {
      scaleC(M, N, beta, C, cOffset, ldc);
      return;
    }
    const span = (rows: number, cols: number, ld: number): number => (rows - 1) * ld + cols;
    const aSpan = transA ? span(K, M, lda) : span(M, K, lda);
    const bSpan = transB ? span(N, K, ldb) : span(K, N, ldb);
    const cSpan = span(M, N, ldc);
    this.reset();
    const a = this.put(A.subarray(aOffset, aOffset + aSpan));
    const b = this.put(B.subarray(bOffset, bOffset + bSpan));
    const c = this.put(C.subarray(cOffset, cOffset + cSpan));
    const pack = this.alloc(this.exports.packBytes(N, K) / 4);
    const [sai, sak] = transA ? [1, lda] : [lda, 1];
    const [sbp, sbj] = transB ? [1, ldb] : [ldb, 1];
    this.exports.gemm(M, N, K, alpha, a, sai, sak, b, sbp, sbj, beta, c, ldc, ACT_NONE, pack);
    C.set(this.f32.subarray(c / 4, c / 4 + cSpan), cOffset);
  }
}

import { checkSgemmArgs, sgemm } from '@recurrent/tensor';
import { gemmJob, gemmPackFloats } from '../jobs/gemm.js';
import { type WasmMemory, type WasmModule, wasmApi } from './api.js';
import { Arena } from './arena.js';
import { callKernel, type Job, type WasmExecutor } from './executor.js';
import type { KernelExports } from './module.js';

/**
 * Below this sit the kernels' constants (bytes 1024–1455, written by `initConstants`) and a pool's
 * control block (from 4096); the arena starts here.
 */
export const HEAP_BASE = 65536;

/**
 * One instance of the WebAssembly SIMD kernels with its memory and an arena over it: the executor for
 * one thread. Callers copy their arrays into arena blocks, run jobs on pointers into them, and copy
 * results out.
 */
export class WasmKernels implements WasmExecutor {
  /** The compiled kernels this instance runs (the shared-memory build in a pool). */
  readonly module: WasmModule;
  readonly exports: KernelExports;
  readonly memory: WasmMemory;
  readonly arena: Arena;
  readonly threads: number = 1;
  readonly fma: boolean;
  #disposed = false;

  constructor(module: WasmModule, memory?: WasmMemory) {
    if (!wasmApi) throw new Error('WasmKernels: this engine has no WebAssembly');
    this.module = module;
    this.memory = memory ?? new wasmApi.Memory({ initial: 2 });
    this.exports = new wasmApi.Instance(module, { env: { memory: this.memory } })
      .exports as unknown as KernelExports;
    this.fma = (this.exports.features() & 1) !== 0;
    // before any kernel runs, and before a pool's workers instantiate the module on this memory
    this.exports.initConstants();
    this.arena = new Arena(this.memory, HEAP_BASE);
  }

  /** New kernels on a fresh memory of their own, from the same compiled module. */
  renew(): WasmKernels {
    return new WasmKernels(this.module);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Runs the jobs one after another on this thread. */
  run(jobs: readonly Job[]): void {
    if (this.#disposed) throw new Error('WasmKernels: disposed; create new kernels with initWasm()');
    for (const job of jobs) callKernel(this.exports, job);
  }

  /** Marks the kernels disposed (there are no threads to stop); later `run` calls throw. */
  dispose(): void {
    this.#disposed = true;
  }

  /**
   * `sgemm` of `@recurrent/tensor` on the SIMD kernels: C = alpha·op(A)·op(B) + beta·C, row-major with
   * leading dimensions, the same arguments and errors. The spans of A, B and C are copied through
   * scratch blocks, so the arrays may be any Float32Array.
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
    const args = [M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc] as const;
    checkSgemmArgs('WasmKernels.sgemm', transA, transB, ...args);
    if (M === 0 || N === 0) return;
    if (K === 0 || alpha === 0) {
      // C = beta·C: nothing for the kernels to do
      sgemm(transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc);
      return;
    }
    const span = (rows: number, cols: number, ld: number): number => (rows - 1) * ld + cols;
    const aSpan = transA ? span(K, M, lda) : span(M, K, lda);
    const bSpan = transB ? span(N, K, ldb) : span(K, N, ldb);
    const cSpan = span(M, N, ldc);
    this.arena.withScratch((s) => {
      const a = s.put(A.subarray(aOffset, aOffset + aSpan));
      const b = s.put(B.subarray(bOffset, bOffset + bSpan));
      const c = s.put(C.subarray(cOffset, cOffset + cSpan));
      const pack = s.alloc(gemmPackFloats(N, K));
      this.run([
        gemmJob({
          M,
          N,
          K,
          alpha,
          a: a.at(),
          sai: transA ? 1 : lda,
          sak: transA ? lda : 1,
          b: b.at(),
          sbp: transB ? 1 : ldb,
          sbj: transB ? ldb : 1,
          beta,
          c: c.at(),
          ldc,
          pack: pack.at(),
        }),
      ]);
      C.set(c.f32, cOffset);
    });
  }
}

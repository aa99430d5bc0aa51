// Test-only (not built or published): random sgemm operands laid out as a case says, shared by the
// TypeScript GEMM's tests and the WASM kernels' tests (packages/kernels-wasm imports it by path).

/** One sgemm call: transposes, sizes, scalars and padding. */
export interface GemmCase {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha?: number;
  beta?: number;
  /** Extra elements before each matrix and added to each leading dimension. */
  pad?: number;
}

/** A deterministic pseudo-random float in [-1, 1) per seed (mulberry32). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

/** `n` floats from `rnd`. */
export function fill(n: number, rnd: () => number): Float32Array {
  return Float32Array.from({ length: n }, rnd);
}

/** Random A, B, C for `c`, each starting `pad` elements in, with leading dimensions padded by `pad`. */
export function gemmOperands(
  { transA, transB, M, N, K, pad = 0 }: GemmCase,
  seed = 1,
): { A: Float32Array; B: Float32Array; C: Float32Array; lda: number; ldb: number; ldc: number } {
  const rnd = random(seed + M * 7919 + N * 104729 + K * 31);
  const lda = Math.max(1, transA ? M : K) + pad;
  const ldb = Math.max(1, transB ? K : N) + pad;
  const ldc = Math.max(1, N) + pad;
  const A = fill(pad + lda * (transA ? K : M), rnd);
  const B = fill(pad + ldb * (transB ? N : K), rnd);
  const C = fill(pad + ldc * M, rnd);
  return { A, B, C, lda, ldb, ldc };
}

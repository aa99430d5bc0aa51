/**
 * Single-precision GEMM in plain TypeScript: C = alpha·op(A)·op(B) + beta·C, row-major, BLAS-like.
 *
 * One 4×3 register-blocked micro-kernel reads op(A) and op(B) through strides, so it runs both on the
 * caller's arrays and on packed panels. It runs in place where packing would not pay: small M or N (a
 * recurrent step's batch, every tiny problem) and the X·Wᵀ layout (transB without transA), whose kernel
 * loads already walk contiguous rows of A and B. Otherwise op(A) is packed into 4-row slivers and op(B)
 * into 3-column panels, both k-major, so loads walk forward through memory whatever the transposition.
 * Panels stay Float32Array so the kernel sees one array type and V8 keeps its loads monomorphic
 * (Float64Array panels made the in-place path 30% slower). Sums are JS doubles, rounded to float32 once
 * per KC-deep block.
 */

import { checkSgemmArgs } from './gemm-args.js';

const MR = 4; // rows of C per micro-kernel call
const NR = 3; // columns of C per micro-kernel call
const KC = 256; // depth of a packed block: a 4×256 sliver of A and a 256×3 panel of B fit in L1
const MC = 64; // rows per packed block of A (64×256 floats = 64 KiB, kept in L2)
const NC = 3072; // columns per packed block of B (a 256×3072 block, 3 MiB, stays in L3)
const PACK_MIN = 128; // packing pays off only when M and N both reach this (each panel is reused that often)

let packA = new Float32Array(0);
let packB = new Float32Array(0);

/**
 * C[M×N] = alpha·op(A)·op(B) + beta·C with row-major storage and leading dimensions, like BLAS `sgemm`.
 * op(A) is M×K (A stored M×K, or K×M when `transA`); op(B) is K×N (B stored K×N, or N×K when `transB`,
 * e.g. an (H, K) weight for X·Wᵀ). `beta = 0` overwrites C without reading it; `alpha = 0` skips A and B.
 */
export function sgemm(
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
  checkSgemmArgs('sgemm', transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
  if (M === 0 || N === 0) return;
  if (K === 0 || alpha === 0) {
    scaleC(M, N, beta, C, cOffset, ldc);
    return;
  }

  // op(A)[i][p] = A[aOffset + i·sai + p·sap] and op(B)[p][j] = B[bOffset + p·sbp + j·sbj].
  const sai = transA ? 1 : lda;
  const sap = transA ? lda : 1;
  const sbj = transB ? ldb : 1;
  const sbp = transB ? 1 : ldb;
  const m4 = M - (M % MR);
  const n3 = N - (N % NR);
  if (m4 > 0 && n3 > 0)
    blocked(m4, n3, K, alpha, A, aOffset, sai, sap, B, bOffset, sbj, sbp, beta, C, cOffset, ldc);
  // The ragged edge: the last M % 4 rows, then the last N % 3 columns of the other rows.
  const n8 = N - (N % 8);
  for (let i = m4; i < M; i++) {
    const a = aOffset + i * sai;
    const c = cOffset + i * ldc;
    for (let j = 0; j < n8; j += 8) row8(K, alpha, A, a, sap, B, bOffset + j * sbj, sbj, sbp, beta, C, c + j);
    direct(i, i + 1, n8, N, K, alpha, A, aOffset, sai, sap, B, bOffset, sbj, sbp, beta, C, cOffset, ldc);
  }
  direct(0, m4, n3, N, K, alpha, A, aOffset, sai, sap, B, bOffset, sbj, sbp, beta, C, cOffset, ldc);
}

/** The M×N product for M, N multiples of 4 and 3: depth blocks of KC, packed when M is large enough. */
function blocked(
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  aOffset: number,
  sai: number,
  sap: number,
  B: Float32Array,
  bOffset: number,
  sbj: number,
  sbp: number,
  beta: number,
  C: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  const inPlace = M < PACK_MIN || N < PACK_MIN || (sap === 1 && sbp === 1);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    const bet = pc === 0 ? beta : 1; // later depth blocks accumulate onto the first
    const a0 = aOffset + pc * sap;
    const b0 = bOffset + pc * sbp;
    if (inPlace) {
      for (let i = 0; i < M; i += MR) {
        const c = cOffset + i * ldc;
        for (let j = 0; j < N; j += NR) {
          kernel(kc, A, a0 + i * sai, sai, sap, B, b0 + j * sbj, sbj, sbp, alpha, bet, C, c + j, ldc);
        }
      }
      continue;
    }
    if (packA.length < MC * KC) packA = new Float32Array(MC * KC);
    if (packB.length < Math.min(N, NC) * kc) packB = new Float32Array(Math.min(N, NC) * KC);
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      // packB: panel q holds op(B)[p][jc + 3q + j] at 3q·kc + 3p + j.
      for (let j = 0; j < nc; j++) {
        let s = b0 + (jc + j) * sbj;
        let d = (j - (j % NR)) * kc + (j % NR);
        for (let p = 0; p < kc; p++, s += sbp, d += NR) packB[d] = B[s] as number;
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        // packA: sliver q holds op(A)[ic + 4q + i][p] at 4q·kc + 4p + i.
        for (let i = 0; i < mc; i++) {
          let s = a0 + (ic + i) * sai;
          let d = (i - (i % MR)) * kc + (i % MR);
          for (let p = 0; p < kc; p++, s += sap, d += MR) packA[d] = A[s] as number;
        }
        const c = cOffset + ic * ldc + jc;
        for (let j = 0; j < nc; j += NR) {
          for (let i = 0; i < mc; i += MR)
            kernel(kc, packA, i * kc, 1, MR, packB, j * kc, 1, NR, alpha, bet, C, c + i * ldc + j, ldc);
        }
      }
    }
  }
}

/** The 4×3 micro-kernel: C[c..] = alpha·Σ_p a(i,p)·b(p,j) + beta·C for i < 4, j < 3, in 12 registers. */
function kernel(
  K: number,
  A: Float32Array,
  a: number,
  sai: number,
  sap: number,
  B: Float32Array,
  b: number,
  sbj: number,
  sbp: number,
  alpha: number,
  beta: number,
  C: Float32Array,
  c: number,
  ldc: number,
): void {
  const a1 = sai;
  const a2 = 2 * sai;
  const a3 = 3 * sai;
  const b1 = sbj;
  const b2 = 2 * sbj;
  // biome-ignore format: the 4×3 accumulator grid reads best as a grid
  let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0, c20 = 0, c21 = 0, c22 = 0, c30 = 0, c31 = 0, c32 = 0;
  // biome-ignore format: one row of C per line
  for (let p = 0; p < K; p++, a += sap, b += sbp) {
    const x0 = A[a] as number;
    const x1 = A[a + a1] as number;
    const x2 = A[a + a2] as number;
    const x3 = A[a + a3] as number;
    const y0 = B[b] as number;
    const y1 = B[b + b1] as number;
    const y2 = B[b + b2] as number;
    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2;
    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2;
    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2;
    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2;
  }
  put3(C, c, c00, c01, c02, alpha, beta);
  put3(C, c + ldc, c10, c11, c12, alpha, beta);
  put3(C, c + 2 * ldc, c20, c21, c22, alpha, beta);
  put3(C, c + 3 * ldc, c30, c31, c32, alpha, beta);
}

/** One row of C times 8 columns: the M % 4 leftover rows (and M = 1, a batch of one) run here. */
function row8(
  K: number,
  alpha: number,
  A: Float32Array,
  a: number,
  sap: number,
  B: Float32Array,
  b: number,
  sbj: number,
  sbp: number,
  beta: number,
  C: Float32Array,
  c: number,
): void {
  const b2 = 2 * sbj;
  const b3 = 3 * sbj;
  const b4 = 4 * sbj;
  const b5 = 5 * sbj;
  const b6 = 6 * sbj;
  const b7 = 7 * sbj;
  // biome-ignore format: the accumulator row reads best on one line
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
  for (let p = 0; p < K; p++, a += sap, b += sbp) {
    const x = A[a] as number;
    c0 += x * (B[b] as number);
    c1 += x * (B[b + sbj] as number);
    c2 += x * (B[b + b2] as number);
    c3 += x * (B[b + b3] as number);
    c4 += x * (B[b + b4] as number);
    c5 += x * (B[b + b5] as number);
    c6 += x * (B[b + b6] as number);
    c7 += x * (B[b + b7] as number);
  }
  put3(C, c, c0, c1, c2, alpha, beta);
  put3(C, c + 3, c3, c4, c5, alpha, beta);
  put(C, c + 6, c6, alpha, beta);
  put(C, c + 7, c7, alpha, beta);
}

/** Unblocked dot products for rows [i0, i1) and columns [j0, j1) of C: tiny problems and ragged edges. */
function direct(
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  K: number,
  alpha: number,
  A: Float32Array,
  aOffset: number,
  sai: number,
  sap: number,
  B: Float32Array,
  bOffset: number,
  sbj: number,
  sbp: number,
  beta: number,
  C: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      let s = 0;
      for (let p = 0, a = aOffset + i * sai, b = bOffset + j * sbj; p < K; p++, a += sap, b += sbp) {
        s += (A[a] as number) * (B[b] as number);
      }
      put(C, cOffset + i * ldc + j, s, alpha, beta);
    }
  }
}

/** C[c] = alpha·v + beta·C[c], never reading C when beta is 0 (so NaN there does not leak). */
function put(C: Float32Array, c: number, v: number, alpha: number, beta: number): void {
  C[c] = beta === 0 ? alpha * v : alpha * v + beta * (C[c] as number);
}

function put3(
  C: Float32Array,
  c: number,
  v0: number,
  v1: number,
  v2: number,
  alpha: number,
  beta: number,
): void {
  put(C, c, v0, alpha, beta);
  put(C, c + 1, v1, alpha, beta);
  put(C, c + 2, v2, alpha, beta);
}

/** C = beta·C over the M×N block (op(A)·op(B) is empty or scaled by alpha = 0). */
export function scaleC(
  M: number,
  N: number,
  beta: number,
  C: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    const row = cOffset + i * ldc;
    if (beta === 0) C.fill(0, row, row + N);
    else for (let j = row; j < row + N; j++) C[j] = beta * (C[j] as number);
  }
}

// Blocked SGEMM over packed B panels (GotoBLAS loop order): packing per call (`gemm`, for sgemm) or
// once, ahead of time (`packBlocks` + `gemmPacked`, for weights that serve many calls).
import { offset, row1x32, tile2x8, tile4x8 } from './tile';

const KC: i32 = 256; // depth of a packed block: one 256×8 panel (8 KiB) stays in L1
const MC: i32 = 64; // rows of A swept per panel: a 64×256 block of A (64 KiB) stays in L2
const NC: i32 = 2048; // columns per packed block of B (2 MiB)

/** Bytes of pack space `gemm` needs for an N-column problem: a block of B, then one of A. */
export function packBytes(N: i32, K: i32): usize {
  return <usize>(min(K, KC) * (((min(N, NC) + 7) & ~7) + MC)) * 4;
}

/**
 * Packs op(B)[p][j] = B[p·sbp + j·sbj] (strides in elements) for p < K, j < N into panels of `width`
 * columns: panel q holds column width·q + j of row p at dst + ((q·K + p)·width + j)·4, zero-padded past N.
 */
export function packPanels(b: usize, sbp: i32, sbj: i32, K: i32, N: i32, dst: usize, width: i32): void {
  const rowBytes = <usize>width * 4;
  for (let j0 = 0; j0 < N; j0 += width) {
    const panel = dst + <usize>(j0 * K) * 4;
    const w = min(width, N - j0);
    if (w < width) memory.fill(panel, 0, <usize>K * rowBytes);
    for (let j = 0; j < w; j++) {
      let s = b + <usize>((j0 + j) * sbj) * 4;
      let d = panel + <usize>j * 4;
      for (let p = 0; p < K; p++) {
        store<f32>(d, load<f32>(s));
        s += <usize>sbp * 4;
        d += rowBytes;
      }
    }
  }
}

/** `packPanels` with the 8-column panels of the 4×8 tile kernel. */
export function packB(b: usize, sbp: i32, sbj: i32, K: i32, N: i32, dst: usize): void {
  packPanels(b, sbp, sbj, K, N, dst, 8);
}

/**
 * Packs all of op(B) (K×N, strides as `packPanels`) for `gemmPacked`: depth blocks of KC rows, each
 * 8-column panels of the whole width; block pc starts at dst + pc·⌈N/8⌉·8·4. K·⌈N/8⌉·8 floats in all.
 */
export function packBlocks(b: usize, sbp: i32, sbj: i32, K: i32, N: i32, dst: usize): void {
  const rowBytes = <usize>((N + 7) & ~7) * 4;
  for (let pc = 0; pc < K; pc += KC) {
    packB(b + <usize>(pc * sbp) * 4, sbp, sbj, min(KC, K - pc), N, dst + <usize>pc * rowBytes);
  }
}

/**
 * C[M×N] = act(op(A)·B + bias + beta·C) for B packed by `packBlocks`; `bias` N floats or 0 (added
 * before C). A read in place as in `panelGemm`; rows [rowsFrom, rowsTo) of C only (all of it when
 * M = 1). The activation is applied once, on the last depth block.
 */
export function gemmPacked(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  sai: i32,
  sak: i32,
  packed: usize,
  bias: usize,
  beta: f32,
  c: usize,
  ldc: i32,
  act: i32,
  rowsFrom: i32,
  rowsTo: i32,
): void {
  const rowBytes = <usize>((N + 7) & ~7) * 4;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const first = pc === 0;
    panelGemm(
      M,
      N,
      kc,
      1,
      a + <usize>(pc * sak) * 4,
      sai,
      sak,
      packed + <usize>pc * rowBytes,
      first ? beta : 1,
      c,
      ldc,
      pc + kc >= K ? act : 0,
      rowsFrom,
      rowsTo,
      first ? bias : 0,
    );
  }
}

/**
 * C[M×N] = act(alpha·op(A)·P + bias + beta·C) for B already packed (P: panels of K rows, from packB;
 * `bias` N floats or 0). A is read in place: op(A)[i][p] at a + (i·sai + p·sak)·4. ldc in elements.
 * Rows [rowsFrom, rowsTo) only, except M = 1, which writes its one row.
 */
export function panelGemm(
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  a: usize,
  sai: i32,
  sak: i32,
  panels: usize,
  beta: f32,
  c: usize,
  ldc: i32,
  act: i32,
  rowsFrom: i32,
  rowsTo: i32,
  bias: usize,
): void {
  const ps = <usize>(K * 32);
  const sakB = <usize>sak * 4;
  if (M === 1) {
    let j = 0;
    for (; j + 32 <= N; j += 32) {
      const b = panels + <usize>(j >> 3) * ps;
      row1x32(a, sakB, b, ps, K, c + <usize>j * 4, alpha, beta, act, offset(bias, <usize>j * 4));
    }
    for (; j < N; j += 8) {
      tile4x8(
        a,
        a,
        a,
        a,
        sakB,
        panels + <usize>(j >> 3) * ps,
        K,
        c + <usize>j * 4,
        0,
        1,
        min(8, N - j),
        alpha,
        beta,
        act,
        offset(bias, <usize>j * 4),
      );
    }
    return;
  }
  for (let ic = rowsFrom; ic < rowsTo; ic += MC) {
    const icEnd = min(ic + MC, rowsTo);
    for (let j = 0; j < N; j += 8) {
      const panel = panels + <usize>(j >> 3) * ps;
      const cols = min(8, N - j);
      const bj = offset(bias, <usize>j * 4);
      for (let i = ic; i < icEnd; i += 4) {
        const rows = min(4, icEnd - i);
        const a0 = a + <usize>(i * sai) * 4;
        const a1 = rows > 1 ? a0 + <usize>sai * 4 : a0;
        const ci = c + <usize>(i * ldc + j) * 4;
        if (rows <= 2) {
          tile2x8(a0, a1, sakB, panel, K, ci, <usize>ldc * 4, rows, cols, alpha, beta, act, bj);
          continue;
        }
        const a2 = rows > 2 ? a1 + <usize>sai * 4 : a1;
        const a3 = rows > 3 ? a2 + <usize>sai * 4 : a2;
        tile4x8(a0, a1, a2, a3, sakB, panel, K, ci, <usize>ldc * 4, rows, cols, alpha, beta, act, bj);
      }
    }
  }
}

/**
 * C[M×N] = act(alpha·op(A)·op(B) + beta·C), all strides in elements: op(A)[i][p] = A[i·sai + p·sak],
 * op(B)[p][j] = B[p·sbp + j·sbj], C[i][j] = C[i·ldc + j]. `pack` holds packBytes(N, K) bytes. The
 * activation is applied once, on the last depth block. K ≥ 1.
 */
export function gemm(
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  a: usize,
  sai: i32,
  sak: i32,
  b: usize,
  sbp: i32,
  sbj: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  act: i32,
  pack: usize,
): void {
  // A read along k with a stride (a weight gradient's dgatesᵀ): each k of a 4-row tile would touch its
  // own cache line (and, at a 4 KiB stride, the same L1 set), so blocks of A are packed too
  const packA = sak !== 1 && M > 4;
  const aPack = pack + <usize>(min(K, KC) * ((min(N, NC) + 7) & ~7)) * 4;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      packB(b + <usize>(pc * sbp + jc * sbj) * 4, sbp, sbj, kc, nc, pack);
      const last = pc + kc >= K;
      if (packA) {
        for (let ic = 0; ic < M; ic += MC) {
          const mc = min(MC, M - ic);
          packRows4(a + <usize>(ic * sai + pc * sak) * 4, sai, sak, mc, kc, aPack);
          packedAGemm(
            mc,
            nc,
            kc,
            alpha,
            aPack,
            pack,
            pc === 0 ? beta : 1,
            c + <usize>(ic * ldc + jc) * 4,
            ldc,
            last ? act : 0,
          );
        }
        continue;
      }
      panelGemm(
        M,
        nc,
        kc,
        alpha,
        a + <usize>(pc * sak) * 4,
        sai,
        sak,
        pack,
        pc === 0 ? beta : 1,
        c + <usize>jc * 4,
        ldc,
        last ? act : 0,
        0,
        M,
        0,
      );
    }
  }
}

/**
 * Packs op(A)[i][p] = A[i·sai + p·sak] (i < M, p < K) into groups of 4 rows, k-major: row 4g + r of
 * depth p at dst + ((g·K + p)·4 + r)·4, zero past M.
 */
function packRows4(a: usize, sai: i32, sak: i32, M: i32, K: i32, dst: usize): void {
  const kStep = <usize>sak * 4;
  const iStep = <usize>sai * 4;
  for (let i = 0; i < M; i += 4) {
    const rows = min(4, M - i);
    let s = a + <usize>i * iStep;
    let d = dst + <usize>(i * K) * 4;
    if (rows === 4 && sai === 1) {
      for (let p = 0; p < K; p++) {
        v128.store(d, v128.load(s));
        s += kStep;
        d += 16;
      }
      continue;
    }
    for (let p = 0; p < K; p++) {
      for (let r = 0; r < 4; r++)
        store<f32>(d + <usize>r * 4, r < rows ? load<f32>(s + <usize>r * iStep) : 0);
      s += kStep;
      d += 16;
    }
  }
}

/** `panelGemm` over all M rows for A packed by `packRows4` (K deep) and B by `packB`; no bias. */
function packedAGemm(
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  ap: usize,
  panels: usize,
  beta: f32,
  c: usize,
  ldc: i32,
  act: i32,
): void {
  const ps = <usize>(K * 32);
  const gs = <usize>(K * 16);
  const ldcB = <usize>ldc * 4;
  for (let j = 0; j < N; j += 8) {
    const panel = panels + <usize>(j >> 3) * ps;
    const cols = min(8, N - j);
    for (let i = 0; i < M; i += 4) {
      const rows = min(4, M - i);
      const g = ap + <usize>(i >> 2) * gs;
      const ci = c + <usize>(i * ldc + j) * 4;
      if (rows <= 2) {
        tile2x8(g, g + 4, 16, panel, K, ci, ldcB, rows, cols, alpha, beta, act, 0);
        continue;
      }
      tile4x8(g, g + 4, g + 8, g + 12, 16, panel, K, ci, ldcB, rows, cols, alpha, beta, act, 0);
    }
  }
}

// The recurrence of one RNN layer-direction, all time steps in one call.
import { activateRows } from './activation';
import { panelGemm } from './gemm';
import { rowGemm } from './row';

/**
 * In place on `out`, which holds each step's input projection plus both biases: step t's N rows
 * (`ld` elements apart, step t at out + t·stepStride elements) become act(out_t + h_{t−1}·W_hhᵀ),
 * and serve as h_{t−1} of the next step. `w` is W_hhᵀ packed with K = H: by packB32 when N = 1 (the
 * row kernel), else by packB. h0 (N rows of H,
 * contiguous) or 0 for zeros. Rows [rowsFrom, rowsTo) only, so threads can split the batch.
 */
export function rnnRecur(
  out: usize,
  ld: i32,
  stepStride: i32,
  T: i32,
  N: i32,
  H: i32,
  w: usize,
  h0: usize,
  act: i32,
  reverse: i32,
  rowsFrom: i32,
  rowsTo: i32,
): void {
  let prev = h0;
  let prevLd = H;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const cur = out + <usize>(t * stepStride) * 4;
    if (prev === 0) {
      activateRows(cur + <usize>(rowsFrom * ld) * 4, rowsTo - rowsFrom, H, ld, act);
    } else {
      if (N === 1) rowGemm(prev, 4, w, H, H, cur, 1, act);
      else panelGemm(N, H, H, 1, prev, prevLd, 1, w, 1, cur, ld, act, rowsFrom, rowsTo);
    }
    prev = cur;
    prevLd = ld;
  }
}

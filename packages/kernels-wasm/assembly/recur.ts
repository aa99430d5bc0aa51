// The recurrence of one layer-direction of any cell (Elman tanh/relu, LSTM with its projection, GRU),
// all time steps in one call, in PyTorch's order of operations: per step gh = h_{t−1}·W_hhᵀ + b_hh as
// one GEMM over the stacked gates, then the gate nonlinearities and the state update fused after it.
import { ACT_RELU, ACT_TANH } from './activation';
import { CELL_GRU, CELL_LSTM, CELL_RNN_RELU, cellRow } from './cell';
import { gemmPacked } from './gemm';
import { recurPacked } from './recur-packed';
import { rowGemm } from './row';

/**
 * Every step t (reverse: from the last) of N batch rows:
 * - gh = h_{t−1}·W_hhᵀ + b_hh into `scratch` (row n at scratch + n·G·H floats);
 * - Elman: h = act(gh + gx); LSTM: gates = gh + gx in PyTorch's order i, f, g, o, c = f⊙c + i⊙g,
 *   h = o⊙tanh(c), then with a projection h = h·W_hrᵀ; GRU: chunks r, z, n,
 *   r = σ(gh_r + gx_r), z = σ(gh_z + gx_z), n = tanh(gx_n + r⊙gh_n), h = (h_{t−1} − n)⊙z + n.
 *
 * Rows (t, n) of `gx` (G·H gate inputs x·W_ihᵀ + b_ih) sit at gx + t·gxStep + n·gxRow and of `out`
 * (P = `projSize || H` features) at out + t·outStep + n·outRow (strides in elements); gx may be `out`
 * itself for the Elman cell (in place). h0: N rows of P, contiguous (zeros when the caller has none:
 * 0·W_hh still runs, as PyTorch's does, so NaN in W_hh propagates). c: LSTM only, N rows of H, holding
 * c0 and left holding the last step's c. W_hhᵀ (K = P, G·H columns) and W_hrᵀ (K = H, P columns, or 0
 * for none) are packed by packPanels(…, 32) when N = 1 (the row kernel), else by packBlocks; b_hh is G·H
 * floats or 0. `scratch` holds N rows of G·H floats, plus N rows of H with a projection (an Elman cell in
 * place, gx = out, needs none: its GEMM's store adds b_hh, then gx, then activates). Rows
 * [rowsFrom, rowsTo) only, so threads split the batch with no synchronization per step.
 *
 * Packed (`steps` ≠ 0, PyTorch's PackedSequence): `steps` holds T pairs of int32 (row offset, batch size);
 * step t runs rows [rowsFrom, min(rowsTo, size_t)) only (sizes non-increasing, size_0 ≤ N), whose gx and
 * out rows are contiguous from the step's offset: row (t, n) at gx + (offset_t − offset_0 + n)·gxRow, and
 * likewise in out (gxStep and outStep unused). h0 is then the state: N rows of P holding h0, read by each
 * row's first step and left holding its last h (a row that has finished keeps its last h, one that has
 * not yet started its h0, as the reverse direction needs), and c likewise.
 *
 * Training (`save` ≠ 0): row (t, n) of `save` (at save + t·saveStep + n·saveRow floats, packed like gx)
 * receives what the backward reads (`cellRow`: h_{t−1}, then the cell's states), and gx is overwritten
 * with the activated gates (the Elman cell in place has its output as its gates).
 */
export function recur(
  mode: i32,
  T: i32,
  N: i32,
  H: i32,
  P: i32,
  gx: usize,
  gxRow: i32,
  gxStep: i32,
  out: usize,
  outRow: i32,
  outStep: i32,
  h0: usize,
  c: usize,
  whh: usize,
  bhh: usize,
  whr: usize,
  scratch: usize,
  reverse: i32,
  rowsFrom: i32,
  rowsTo: i32,
  steps: usize,
  save: usize,
  saveRow: i32,
  saveStep: i32,
): void {
  if (steps) {
    recurPacked(
      mode,
      T,
      N,
      H,
      P,
      gx,
      gxRow,
      out,
      outRow,
      h0,
      c,
      whh,
      bhh,
      whr,
      scratch,
      reverse,
      rowsFrom,
      rowsTo,
      steps,
      save,
      saveRow,
    );
    return;
  }
  const G = mode === CELL_LSTM ? 4 : mode === CELL_GRU ? 3 : 1;
  const GH = G * H;
  const hc = scratch + <usize>(N * GH) * 4; // o⊙tanh(c) before the projection
  const act = mode === CELL_RNN_RELU ? ACT_RELU : ACT_TANH;
  // Elman in place: the GEMM's store computes act((h·W_hhᵀ + b_hh) + gx) itself, over gx
  const fused = G === 1 && gx === out && gxRow === outRow && gxStep === outStep;
  let prev = h0;
  let prevRow = P;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const xt = gx + <usize>(t * gxStep) * 4;
    const ot = out + <usize>(t * outStep) * 4;
    const st = save + <usize>(t * saveStep) * 4;
    if (fused && save) {
      for (let n = rowsFrom; n < rowsTo; n++) {
        memory.copy(st + <usize>(n * saveRow) * 4, prev + <usize>(n * prevRow) * 4, <usize>P * 4);
      }
    }
    if (fused) {
      if (N === 1) rowGemm(prev, 4, whh, P, H, ot, 1, act, bhh);
      else gemmPacked(N, H, P, prev, prevRow, 1, whh, bhh, 1, ot, outRow, act, rowsFrom, rowsTo);
    } else {
      if (N === 1) rowGemm(prev, 4, whh, P, GH, scratch, 0, 0, bhh);
      else gemmPacked(N, GH, P, prev, prevRow, 1, whh, bhh, 0, scratch, GH, 0, rowsFrom, rowsTo);
      for (let n = rowsFrom; n < rowsTo; n++) {
        const g = scratch + <usize>(n * GH) * 4;
        const x = xt + <usize>(n * gxRow) * 4;
        const h = ot + <usize>(n * outRow) * 4;
        const hcn = whr ? hc + <usize>(n * H) * 4 : 0;
        const sv = save ? st + <usize>(n * saveRow) * 4 : 0;
        const pn = prev + <usize>(n * prevRow) * 4;
        cellRow(mode, g, x, c + <usize>(n * H) * 4, h, pn, hcn, H, P, act, sv);
      }
      if (whr) {
        if (N === 1) rowGemm(hc, 4, whr, H, P, ot, 0, 0, 0);
        else gemmPacked(N, P, H, hc, H, 1, whr, 0, 0, ot, outRow, 0, rowsFrom, rowsTo);
      }
    }
    prev = ot;
    prevRow = outRow;
  }
}

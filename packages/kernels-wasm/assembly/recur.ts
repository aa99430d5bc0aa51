// The recurrence of one layer-direction of any cell (Elman tanh/relu, LSTM with its projection, GRU),
// all time steps in one call, in PyTorch's order of operations: per step gh = h_{t−1}·W_hhᵀ + b_hh as
// one GEMM over the stacked gates, then the gate nonlinearities and the state update fused after it.
import { ACT_RELU, ACT_TANH, activate4, Vec } from './activation';
import { gemmPacked } from './gemm';
import { rowGemm } from './row';

/** Cell codes (the `CellSpec` modes of `@recurrent/nn`). */
export const CELL_RNN_TANH: i32 = 0;
export const CELL_RNN_RELU: i32 = 1;
export const CELL_LSTM: i32 = 2;
export const CELL_GRU: i32 = 3;

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
): void {
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
        if (mode === CELL_LSTM) lstmRow(g, x, c + <usize>(n * H) * 4, whr ? hc + <usize>(n * H) * 4 : h, H);
        else if (mode === CELL_GRU) gruRow(g, x, prev + <usize>(n * prevRow) * 4, h, H);
        else elmanRow(g, x, h, H, act);
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

/**
 * The per-vector bodies of the cell updates: `n` lanes (≤ 4) at byte offset `o`. The row loops call them
 * with n = 4 for every whole vector, a constant once inlined (plain loads and stores, no lane branches),
 * and once more for a partial last vector.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: the only form of @inline that biome can parse
class Cell {
  /** g = σ(g + x) or tanh(g + x). */
  @inline
  static gate(g: usize, x: usize, o: usize, n: i32, sigmoid: bool): void {
    const v = f32x4.add(Vec.get(g + o, n), Vec.get(x + o, n));
    Vec.put(g + o, sigmoid ? Vec.sigmoid(v) : Vec.tanh(v), n);
  }

  /** h = act(g + x). */
  @inline
  static elman(g: usize, x: usize, h: usize, o: usize, n: i32, act: i32): void {
    Vec.put(h + o, activate4(f32x4.add(Vec.get(g + o, n), Vec.get(x + o, n)), act), n);
  }

  /** c = f⊙c + i⊙g; h = o⊙tanh(c), from the activated gates at g (`b` bytes apart). */
  @inline
  static lstm(g: usize, b: usize, c: usize, h: usize, o: usize, n: i32): void {
    const ig = f32x4.mul(Vec.get(g + o, n), Vec.get(g + 2 * b + o, n));
    const cn = Vec.madd(Vec.get(g + b + o, n), Vec.get(c + o, n), ig);
    Vec.put(c + o, cn, n);
    Vec.put(h + o, f32x4.mul(Vec.get(g + 3 * b + o, n), Vec.tanh(cn)), n);
  }

  /** n = tanh(gx_n + r⊙gh_n); h = (h_{t−1} − n)⊙z + n, from r and z activated at g. */
  @inline
  static gru(g: usize, x: usize, b: usize, prev: usize, h: usize, o: usize, n: i32): void {
    const r = Vec.get(g + o, n);
    const ng = Vec.tanh(Vec.madd(r, Vec.get(g + 2 * b + o, n), Vec.get(x + 2 * b + o, n)));
    const z = Vec.get(g + b + o, n);
    Vec.put(h + o, Vec.madd(f32x4.sub(Vec.get(prev + o, n), ng), z, ng), n);
  }
}

/**
 * gh = σ(gh + gx) (or tanh) in place over `len` floats: one independent vector per iteration, so the
 * iterations overlap (the cell update that follows has one transcendental per vector, not five).
 */
function gates(g: usize, x: usize, len: i32, sigmoid: bool): void {
  const full = len & ~3;
  let j = 0;
  for (; j < full; j += 4) Cell.gate(g, x, <usize>j * 4, 4, sigmoid);
  if (j < len) Cell.gate(g, x, <usize>j * 4, len - j, sigmoid);
}

/** h = act(gh + gx), for an Elman cell whose gx is not its output. */
function elmanRow(g: usize, x: usize, h: usize, H: i32, act: i32): void {
  const full = H & ~3;
  let j = 0;
  for (; j < full; j += 4) Cell.elman(g, x, h, <usize>j * 4, 4, act);
  if (j < H) Cell.elman(g, x, h, <usize>j * 4, H - j, act);
}

/** i, f, o = σ(gh + gx), g = tanh(gh + gx); c = f⊙c + i⊙g; h = o⊙tanh(c). */
function lstmRow(g: usize, x: usize, c: usize, h: usize, H: i32): void {
  const b = <usize>H * 4;
  gates(g, x, 2 * H, true);
  gates(g + 2 * b, x + 2 * b, H, false);
  gates(g + 3 * b, x + 3 * b, H, true);
  const full = H & ~3;
  let j = 0;
  for (; j < full; j += 4) Cell.lstm(g, b, c, h, <usize>j * 4, 4);
  if (j < H) Cell.lstm(g, b, c, h, <usize>j * 4, H - j);
}

/** r, z = σ(gh + gx); n = tanh(gx_n + r⊙gh_n); h = (h_{t−1} − n)⊙z + n. */
function gruRow(g: usize, x: usize, prev: usize, h: usize, H: i32): void {
  const b = <usize>H * 4;
  gates(g, x, 2 * H, true);
  const full = H & ~3;
  let j = 0;
  for (; j < full; j += 4) Cell.gru(g, x, b, prev, h, <usize>j * 4, 4);
  if (j < H) Cell.gru(g, x, b, prev, h, <usize>j * 4, H - j);
}

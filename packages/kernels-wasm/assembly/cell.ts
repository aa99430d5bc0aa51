// The per-row cell updates of the recurrence (assembly/recur.ts, recur-packed.ts): the gate
// nonlinearities and the state update on a row's gh (h·W_hhᵀ + b_hh) and gx (x·W_ihᵀ + b_ih).
import { activate4, Vec } from './activation';

/** Cell codes (the `CellSpec` modes of `@recurrent/nn`). */
export const CELL_RNN_TANH: i32 = 0;
export const CELL_RNN_RELU: i32 = 1;
export const CELL_LSTM: i32 = 2;
export const CELL_GRU: i32 = 3;

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

  /** n = tanh(gx_n + r⊙gh_n); h = (h_{t−1} − n)⊙z + n, from r and z activated at g; `keep`: n over gx_n. */
  @inline
  static gru(g: usize, x: usize, b: usize, prev: usize, h: usize, o: usize, n: i32, keep: bool): void {
    const r = Vec.get(g + o, n);
    const ng = Vec.tanh(Vec.madd(r, Vec.get(g + 2 * b + o, n), Vec.get(x + 2 * b + o, n)));
    if (keep) Vec.put(x + 2 * b + o, ng, n);
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
export function elmanRow(g: usize, x: usize, h: usize, H: i32, act: i32): void {
  const full = H & ~3;
  let j = 0;
  for (; j < full; j += 4) Cell.elman(g, x, h, <usize>j * 4, 4, act);
  if (j < H) Cell.elman(g, x, h, <usize>j * 4, H - j, act);
}

/** i, f, o = σ(gh + gx), g = tanh(gh + gx); c = f⊙c + i⊙g; h = o⊙tanh(c). */
export function lstmRow(g: usize, x: usize, c: usize, h: usize, H: i32): void {
  const b = <usize>H * 4;
  gates(g, x, 2 * H, true);
  gates(g + 2 * b, x + 2 * b, H, false);
  gates(g + 3 * b, x + 3 * b, H, true);
  const full = H & ~3;
  let j = 0;
  for (; j < full; j += 4) Cell.lstm(g, b, c, h, <usize>j * 4, 4);
  if (j < H) Cell.lstm(g, b, c, h, <usize>j * 4, H - j);
}

/** r, z = σ(gh + gx); n = tanh(gx_n + r⊙gh_n); h = (h_{t−1} − n)⊙z + n. `keep`: n written over gx_n. */
export function gruRow(g: usize, x: usize, prev: usize, h: usize, H: i32, keep: bool = false): void {
  const b = <usize>H * 4;
  gates(g, x, 2 * H, true);
  const full = H & ~3;
  let j = 0;
  if (keep) {
    for (; j < full; j += 4) Cell.gru(g, x, b, prev, h, <usize>j * 4, 4, true);
    if (j < H) Cell.gru(g, x, b, prev, h, <usize>j * 4, H - j, true);
    return;
  }
  for (; j < full; j += 4) Cell.gru(g, x, b, prev, h, <usize>j * 4, 4, false);
  if (j < H) Cell.gru(g, x, b, prev, h, <usize>j * 4, H - j, false);
}

/**
 * One row's cell update (not the Elman cell in place), saving for a training backward when `sv` ≠ 0:
 * the row's h_{t−1} (P floats) at sv, then LSTM: c_{t−1}, c_t and (with a projection, `hc` ≠ 0)
 * o⊙tanh(c_t), H each; GRU: gh_n = h_{t−1}·W_hnᵀ + b_hn (H). The activated gates (LSTM i, f, g, o;
 * GRU r, z, n) are then written over the row's gx.
 */
export function cellRow(
  mode: i32,
  g: usize,
  x: usize,
  c: usize,
  h: usize,
  prev: usize,
  hc: usize,
  H: i32,
  P: i32,
  act: i32,
  sv: usize,
): void {
  const hb = <usize>H * 4;
  if (sv) memory.copy(sv, prev, <usize>P * 4);
  const s = sv + <usize>P * 4;
  if (mode === CELL_LSTM) {
    if (sv) memory.copy(s, c, hb);
    lstmRow(g, x, c, hc ? hc : h, H);
    if (!sv) return;
    memory.copy(x, g, 4 * hb);
    memory.copy(s + hb, c, hb);
    if (hc) memory.copy(s + 2 * hb, hc, hb);
  } else if (mode === CELL_GRU) {
    if (!sv) {
      gruRow(g, x, prev, h, H);
      return;
    }
    memory.copy(s, g + 2 * hb, hb);
    gruRow(g, x, prev, h, H, true);
    memory.copy(x, g, 2 * hb);
  } else elmanRow(g, x, h, H, act);
}

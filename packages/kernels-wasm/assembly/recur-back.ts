// Backpropagation through time of one layer-direction (the backward-data pass of `recur`), all steps
// in one call: per step the gate derivatives of every row, fused, then dh_{t−1} = dgates·W_hh as one GEMM.
import { Vec } from './activation';
import { CELL_GRU, CELL_LSTM, CELL_RNN_RELU } from './cell';
import { gemmPacked } from './gemm';

/** The per-vector derivative bodies: `n` lanes (≤ 4) at byte offset `o`, as in cell.ts. */
// biome-ignore lint/complexity/noStaticOnlyClass: the only form of @inline that biome can parse
class Back {
  /** dg = dh·(1 − y²) (tanh) or dh·[y > 0] (relu), y the cell's output. */
  @inline
  static elman(y: usize, dhc: usize, dg: usize, o: usize, n: i32, relu: bool): void {
    const yv = Vec.get(y + o, n);
    const dv = Vec.get(dhc + o, n);
    const one = f32x4.splat(1);
    const d = relu
      ? v128.and(dv, f32x4.gt(yv, f32x4.splat(0)))
      : f32x4.mul(dv, f32x4.sub(one, f32x4.mul(yv, yv)));
    Vec.put(dg + o, d, n);
  }

  /** From the gates i, f, g, o at g and the saved c_{t−1}, c_t at s (`b` bytes apart); dc in place. */
  @inline
  static lstm(g: usize, s: usize, b: usize, dhc: usize, dc: usize, dg: usize, o: usize, n: i32): void {
    const one = f32x4.splat(1);
    const ig = Vec.get(g + o, n);
    const fg = Vec.get(g + b + o, n);
    const cg = Vec.get(g + 2 * b + o, n);
    const og = Vec.get(g + 3 * b + o, n);
    const tc = Vec.tanh(Vec.get(s + b + o, n));
    const dhv = Vec.get(dhc + o, n);
    const dcv = f32x4.add(
      Vec.get(dc + o, n),
      f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))),
    );
    Vec.put(dc + o, f32x4.mul(dcv, fg), n);
    Vec.put(dg + o, f32x4.mul(f32x4.mul(f32x4.mul(dcv, cg), ig), f32x4.sub(one, ig)), n);
    const df = f32x4.mul(f32x4.mul(f32x4.mul(dcv, Vec.get(s + o, n)), fg), f32x4.sub(one, fg));
    Vec.put(dg + b + o, df, n);
    Vec.put(dg + 2 * b + o, f32x4.mul(f32x4.mul(dcv, ig), f32x4.sub(one, f32x4.mul(cg, cg))), n);
    Vec.put(dg + 3 * b + o, f32x4.mul(f32x4.mul(f32x4.mul(dhv, tc), og), f32x4.sub(one, og)), n);
  }

  /** From r, z, n at g and the saved h_{t−1}, gh_n at s (`p`, `b` bytes in); dh = dhc⊙z (direct path). */
  @inline
  static gru(
    g: usize,
    s: usize,
    p: usize,
    b: usize,
    dhc: usize,
    dh: usize,
    dx: usize,
    dr: usize,
    o: usize,
    n: i32,
  ): void {
    const one = f32x4.splat(1);
    const r = Vec.get(g + o, n);
    const z = Vec.get(g + b + o, n);
    const nn = Vec.get(g + 2 * b + o, n);
    const dhv = Vec.get(dhc + o, n);
    const dn = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(nn, nn)));
    const dz = f32x4.mul(f32x4.mul(f32x4.mul(dhv, f32x4.sub(Vec.get(s + o, n), nn)), z), f32x4.sub(one, z));
    const drv = f32x4.mul(f32x4.mul(f32x4.mul(dn, Vec.get(s + p + o, n)), r), f32x4.sub(one, r));
    Vec.put(dx + o, drv, n);
    Vec.put(dx + b + o, dz, n);
    Vec.put(dx + 2 * b + o, dn, n);
    Vec.put(dr + o, drv, n);
    Vec.put(dr + b + o, dz, n);
    Vec.put(dr + 2 * b + o, f32x4.mul(dn, r), n);
    Vec.put(dh + o, f32x4.mul(dhv, z), n);
  }
}

/** One row's derivatives (H features) into dGx (and dGh), from its gates g and saved row s. */
function rowBack(
  mode: i32,
  H: i32,
  P: i32,
  g: usize,
  s: usize,
  dhc: usize,
  dc: usize,
  dh: usize,
  dx: usize,
  dr: usize,
): void {
  const b = <usize>H * 4;
  const p = <usize>P * 4;
  const full = H & ~3;
  let j = 0;
  if (mode === CELL_LSTM) {
    for (; j < full; j += 4) Back.lstm(g, s + p, b, dhc, dc, dx, <usize>j * 4, 4);
    if (j < H) Back.lstm(g, s + p, b, dhc, dc, dx, <usize>j * 4, H - j);
  } else if (mode === CELL_GRU) {
    for (; j < full; j += 4) Back.gru(g, s, p, b, dhc, dh, dx, dr, <usize>j * 4, 4);
    if (j < H) Back.gru(g, s, p, b, dhc, dh, dx, dr, <usize>j * 4, H - j);
  } else if (mode === CELL_RNN_RELU) {
    for (; j < full; j += 4) Back.elman(g, dhc, dx, <usize>j * 4, 4, true);
    if (j < H) Back.elman(g, dhc, dx, <usize>j * 4, H - j, true);
  } else {
    for (; j < full; j += 4) Back.elman(g, dhc, dx, <usize>j * 4, 4, false);
    if (j < H) Back.elman(g, dhc, dx, <usize>j * 4, H - j, false);
  }
}

/**
 * The backward-data pass of one direction over all T steps, from the forward's last step to its first
 * (`reverse`: the reverse direction, so t = 0 first). Row (t, n) of every sequence buffer is row index
 * t·strideT + n·strideN (packed, `steps` ≠ 0 as in `recur`: offset_t − offset_0 + n), each buffer with
 * its own row length in floats: `gates` (gLd: the activated gates, or the Elman cell's output), `save`
 * (sLd: `recur`'s saved rows), `dOut` (oLd: the output's gradient, P used), dGx and dGh (G·H), dhAll (P).
 * Per step and row: dhy = dh + dOut (copied to dhAll with a projection; then dhc = dhy·W_hr), the gate
 * derivatives into dGx (GRU: dGh too, its n block dn⊙r, and dh = dhy⊙z), then dh = dGh_t·W_hh (+ dh for
 * the GRU). dh (N rows of P) comes in holding hN's gradient and leaves holding h0's; dc (LSTM) likewise.
 * W_hh (K = G·H, N = P) and W_hr (K = P, N = H, or 0) packed as is by packBlocks. `scratch`: N·P floats,
 * plus N·H with a projection. Rows [rowsFrom, rowsTo) only, so threads split the batch.
 */
export function recurBackward(
  mode: i32,
  T: i32,
  N: i32,
  H: i32,
  P: i32,
  strideT: i32,
  strideN: i32,
  gates: usize,
  gLd: i32,
  save: usize,
  sLd: i32,
  dOut: usize,
  oLd: i32,
  dh: usize,
  dc: usize,
  dGx: usize,
  dGh: usize,
  dhAll: usize,
  whh: usize,
  whr: usize,
  scratch: usize,
  reverse: i32,
  rowsFrom: i32,
  rowsTo: i32,
  steps: usize,
): void {
  const G = mode === CELL_LSTM ? 4 : mode === CELL_GRU ? 3 : 1;
  const GH = G * H;
  const gru = mode === CELL_GRU;
  const dA = gru ? dGh : dGx;
  const dhy = scratch;
  const draw = scratch + <usize>(N * P) * 4;
  const first = steps ? load<i32>(steps) : 0;
  const sN = steps ? 1 : strideN;
  const pb = <usize>P * 4;
  for (let i = 0; i < T; i++) {
    const t = reverse ? i : T - 1 - i;
    let to = rowsTo;
    let base = t * strideT;
    if (steps) {
      to = min(rowsTo, load<i32>(steps + ((<usize>t) << 3), 4));
      base = load<i32>(steps + ((<usize>t) << 3)) - first;
    }
    if (to <= rowsFrom) continue;
    for (let n = rowsFrom; n < to; n++) {
      const row = base + n * sN;
      const y = dhy + <usize>n * pb;
      const h = dh + <usize>n * pb;
      const d = dOut + <usize>(row * oLd) * 4;
      let j = 0;
      for (; j + 4 <= P; j += 4) {
        const o = <usize>j * 4;
        v128.store(y + o, f32x4.add(v128.load(h + o), v128.load(d + o)));
      }
      for (; j < P; j++) {
        const o = <usize>j * 4;
        store<f32>(y + o, load<f32>(h + o) + load<f32>(d + o));
      }
      if (dhAll) memory.copy(dhAll + <usize>row * pb, y, pb);
    }
    if (whr) gemmPacked(N, H, P, dhy, P, 1, whr, 0, 0, draw, H, 0, rowsFrom, to);
    for (let n = rowsFrom; n < to; n++) {
      const row = base + n * sN;
      const dhc = whr ? draw + <usize>(n * H) * 4 : dhy + <usize>n * pb;
      rowBack(
        mode,
        H,
        P,
        gates + <usize>(row * gLd) * 4,
        save + <usize>(row * sLd) * 4,
        dhc,
        dc + <usize>(n * H) * 4,
        dh + <usize>n * pb,
        dGx + <usize>(row * GH) * 4,
        dGh + <usize>(row * GH) * 4,
      );
    }
    gemmPacked(
      N,
      P,
      GH,
      dA + <usize>(base * GH) * 4,
      sN * GH,
      1,
      whh,
      0,
      gru ? 1 : 0,
      dh,
      P,
      0,
      rowsFrom,
      to,
    );
  }
}

// The GEMM micro-kernels: a 4×8 tile of C (eight f32x4 accumulators), a 2×8 one for partial tiles,
// and a 1×32 row for M = 1.
// A is read in place through row pointers and a k-stride (bytes), so row-major A, transposed A and
// the hidden state of an RNN step need no packing; B comes as packed panels of 8 columns, k-major.
import { ACT_NONE, ACT_TANH, activate4, Vec } from './activation';
import { loadLanes, storeLanes } from './lanes';

/** `bias + bytes`, or 0 (no bias) when `bias` is 0. */
export function offset(bias: usize, bytes: usize): usize {
  return bias ? bias + bytes : 0;
}

/**
 * Writes one row of up to 8 columns: act((alpha·acc + bias) + beta·C), `bias` a row of floats (0 for
 * none). beta = 0 never reads C, so NaN or garbage there cannot leak in. Partial rows load and store
 * lane by lane, with the same vector arithmetic in between.
 */
export function storeRow(
  c: usize,
  v0: v128,
  v1: v128,
  cols: i32,
  alpha: f32,
  beta: f32,
  act: i32,
  bias: usize,
): void {
  if (alpha !== 1) {
    v0 = f32x4.mul(v0, f32x4.splat(alpha));
    v1 = f32x4.mul(v1, f32x4.splat(alpha));
  }
  if (bias) {
    v0 = f32x4.add(v0, cols === 8 ? v128.load(bias) : loadLanes(bias, min(cols, 4)));
    v1 = f32x4.add(v1, cols === 8 ? v128.load(bias, 16) : loadLanes(bias + 16, cols - 4));
  }
  if (beta !== 0) {
    let c0 = cols === 8 ? v128.load(c) : loadLanes(c, min(cols, 4));
    let c1 = cols === 8 ? v128.load(c, 16) : loadLanes(c + 16, cols - 4);
    if (beta !== 1) {
      c0 = f32x4.mul(c0, f32x4.splat(beta));
      c1 = f32x4.mul(c1, f32x4.splat(beta));
    }
    v0 = f32x4.add(v0, c0);
    v1 = f32x4.add(v1, c1);
  }
  // tanh (the Elman cell's step) inlined, the others called
  if (act === ACT_TANH) {
    v0 = Vec.tanh(v0);
    v1 = Vec.tanh(v1);
  } else if (act !== ACT_NONE) {
    v0 = activate4(v0, act);
    v1 = activate4(v1, act);
  }
  if (cols === 8) {
    v128.store(c, v0);
    v128.store(c, v1, 16);
  } else {
    storeLanes(c, v0, min(cols, 4));
    storeLanes(c + 16, v1, cols - 4);
  }
}

/**
 * C[rows × cols] (rows ≤ 4, cols ≤ 8; ldc in bytes) = act(alpha·Σ_p a_i[p]·panel[p] + bias + beta·C).
 * a0…a3 point at the rows of op(A) (repeat a row for rows < 4), `sak` bytes apart along k.
 */
export function tile4x8(
  a0: usize,
  a1: usize,
  a2: usize,
  a3: usize,
  sak: usize,
  b: usize,
  K: i32,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  alpha: f32,
  beta: f32,
  act: i32,
  bias: usize,
): void {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0),
    c10 = f32x4.splat(0),
    c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0),
    c21 = f32x4.splat(0),
    c30 = f32x4.splat(0),
    c31 = f32x4.splat(0);
  for (let p = 0; p < K; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const x0 = v128.load32_splat(a0);
    const x1 = v128.load32_splat(a1);
    const x2 = v128.load32_splat(a2);
    const x3 = v128.load32_splat(a3);
    c00 = Vec.madd(x0, b0, c00);
    c01 = Vec.madd(x0, b1, c01);
    c10 = Vec.madd(x1, b0, c10);
    c11 = Vec.madd(x1, b1, c11);
    c20 = Vec.madd(x2, b0, c20);
    c21 = Vec.madd(x2, b1, c21);
    c30 = Vec.madd(x3, b0, c30);
    c31 = Vec.madd(x3, b1, c31);
    a0 += sak;
    a1 += sak;
    a2 += sak;
    a3 += sak;
    b += 32;
  }
  if (cols === 8 && alpha === 1 && beta === 0 && act === 0) {
    // a projection or a recurrence's gates: plain stores (plus bias) without storeRow's calls
    if (bias) {
      const b0 = v128.load(bias);
      const b1 = v128.load(bias, 16);
      c00 = f32x4.add(c00, b0);
      c01 = f32x4.add(c01, b1);
      c10 = f32x4.add(c10, b0);
      c11 = f32x4.add(c11, b1);
      c20 = f32x4.add(c20, b0);
      c21 = f32x4.add(c21, b1);
      c30 = f32x4.add(c30, b0);
      c31 = f32x4.add(c31, b1);
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    if (rows > 1) {
      v128.store(c + ldc, c10);
      v128.store(c + ldc, c11, 16);
    }
    if (rows > 2) {
      v128.store(c + 2 * ldc, c20);
      v128.store(c + 2 * ldc, c21, 16);
    }
    if (rows > 3) {
      v128.store(c + 3 * ldc, c30);
      v128.store(c + 3 * ldc, c31, 16);
    }
    return;
  }
  storeRow(c, c00, c01, cols, alpha, beta, act, bias);
  if (rows > 1) storeRow(c + ldc, c10, c11, cols, alpha, beta, act, bias);
  if (rows > 2) storeRow(c + 2 * ldc, c20, c21, cols, alpha, beta, act, bias);
  if (rows > 3) storeRow(c + 3 * ldc, c30, c31, cols, alpha, beta, act, bias);
}

/**
 * `tile4x8` for rows ≤ 2 (a0, a1; repeat a0 for one row): a partial tile at the end of a range of rows,
 * as a packed batch's shrinking steps leave, at half the multiply-adds. The same order of operations
 * per element, so the same results.
 */
export function tile2x8(
  a0: usize,
  a1: usize,
  sak: usize,
  b: usize,
  K: i32,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  alpha: f32,
  beta: f32,
  act: i32,
  bias: usize,
): void {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0),
    c10 = f32x4.splat(0),
    c11 = f32x4.splat(0);
  for (let p = 0; p < K; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const x0 = v128.load32_splat(a0);
    const x1 = v128.load32_splat(a1);
    c00 = Vec.madd(x0, b0, c00);
    c01 = Vec.madd(x0, b1, c01);
    c10 = Vec.madd(x1, b0, c10);
    c11 = Vec.madd(x1, b1, c11);
    a0 += sak;
    a1 += sak;
    b += 32;
  }
  storeRow(c, c00, c01, cols, alpha, beta, act, bias);
  if (rows > 1) storeRow(c + ldc, c10, c11, cols, alpha, beta, act, bias);
}

/**
 * One row of C times four full panels (32 columns): the M = 1 case (a batch of one), where a 4-row
 * tile would waste three quarters of its work. `ps` is the byte distance between panels.
 */
export function row1x32(
  a: usize,
  sak: usize,
  b: usize,
  ps: usize,
  K: i32,
  c: usize,
  alpha: f32,
  beta: f32,
  act: i32,
  bias: usize,
): void {
  let s0 = f32x4.splat(0),
    s1 = f32x4.splat(0),
    s2 = f32x4.splat(0),
    s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0),
    s5 = f32x4.splat(0),
    s6 = f32x4.splat(0),
    s7 = f32x4.splat(0);
  const b1 = b + ps;
  const b2 = b + 2 * ps;
  const b3 = b + 3 * ps;
  // Two depths per iteration, summed before they join the accumulators: half as long a dependency
  // chain per accumulator, which is what bounds a single row (the recurrence of a batch of one).
  const end = <usize>K * 32;
  const pairs = <usize>(K & ~1) * 32;
  const sak2 = sak * 2;
  let o: usize = 0;
  for (; o < pairs; o += 64) {
    const x = v128.load32_splat(a);
    const y = v128.load32_splat(a + sak);
    s0 = f32x4.add(s0, Vec.madd(x, v128.load(b + o), f32x4.mul(y, v128.load(b + o, 32))));
    s1 = f32x4.add(s1, Vec.madd(x, v128.load(b + o, 16), f32x4.mul(y, v128.load(b + o, 48))));
    s2 = f32x4.add(s2, Vec.madd(x, v128.load(b1 + o), f32x4.mul(y, v128.load(b1 + o, 32))));
    s3 = f32x4.add(s3, Vec.madd(x, v128.load(b1 + o, 16), f32x4.mul(y, v128.load(b1 + o, 48))));
    s4 = f32x4.add(s4, Vec.madd(x, v128.load(b2 + o), f32x4.mul(y, v128.load(b2 + o, 32))));
    s5 = f32x4.add(s5, Vec.madd(x, v128.load(b2 + o, 16), f32x4.mul(y, v128.load(b2 + o, 48))));
    s6 = f32x4.add(s6, Vec.madd(x, v128.load(b3 + o), f32x4.mul(y, v128.load(b3 + o, 32))));
    s7 = f32x4.add(s7, Vec.madd(x, v128.load(b3 + o, 16), f32x4.mul(y, v128.load(b3 + o, 48))));
    a += sak2;
  }
  if (o < end) {
    const x = v128.load32_splat(a);
    s0 = Vec.madd(x, v128.load(b + o), s0);
    s1 = Vec.madd(x, v128.load(b + o, 16), s1);
    s2 = Vec.madd(x, v128.load(b1 + o), s2);
    s3 = Vec.madd(x, v128.load(b1 + o, 16), s3);
    s4 = Vec.madd(x, v128.load(b2 + o), s4);
    s5 = Vec.madd(x, v128.load(b2 + o, 16), s5);
    s6 = Vec.madd(x, v128.load(b3 + o), s6);
    s7 = Vec.madd(x, v128.load(b3 + o, 16), s7);
  }
  storeRow(c, s0, s1, 8, alpha, beta, act, bias);
  storeRow(c + 32, s2, s3, 8, alpha, beta, act, offset(bias, 32));
  storeRow(c + 64, s4, s5, 8, alpha, beta, act, offset(bias, 64));
  storeRow(c + 96, s6, s7, 8, alpha, beta, act, offset(bias, 96));
}

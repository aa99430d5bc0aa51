// One row times a matrix, for the recurrence of a batch of one: B packed in panels of 32 columns, so
// each depth step reads one contiguous 128-byte line per panel.
import { Vec } from './activation';
import { offset, storeRow } from './tile';

/** The half-panel body of `rowGemm`, inlined into it (one call fewer per 16 columns of each step). */
// biome-ignore lint/complexity/noStaticOnlyClass: the only form of @inline that biome can parse
class Row {
  /** Σ_p a[p]·P[p][q..q+16) of one panel: four accumulators, two depths per iteration. */
  @inline
  static half(
    a: usize,
    sak: usize,
    b: usize,
    K: i32,
    c: usize,
    beta: f32,
    act: i32,
    bias: usize,
    cols: i32,
  ): void {
    let s0 = f32x4.splat(0),
      s1 = f32x4.splat(0),
      s2 = f32x4.splat(0),
      s3 = f32x4.splat(0);
    const pairs = b + <usize>(K & ~1) * 128;
    let x_ = a;
    let p = b;
    for (; p < pairs; p += 256) {
      const x = v128.load32_splat(x_);
      const y = v128.load32_splat(x_ + sak);
      s0 = f32x4.add(s0, Vec.madd(x, v128.load(p), f32x4.mul(y, v128.load(p, 128))));
      s1 = f32x4.add(s1, Vec.madd(x, v128.load(p, 16), f32x4.mul(y, v128.load(p, 144))));
      s2 = f32x4.add(s2, Vec.madd(x, v128.load(p, 32), f32x4.mul(y, v128.load(p, 160))));
      s3 = f32x4.add(s3, Vec.madd(x, v128.load(p, 48), f32x4.mul(y, v128.load(p, 176))));
      x_ += sak * 2;
    }
    if (K & 1) {
      const x = v128.load32_splat(x_);
      s0 = Vec.madd(x, v128.load(p), s0);
      s1 = Vec.madd(x, v128.load(p, 16), s1);
      s2 = Vec.madd(x, v128.load(p, 32), s2);
      s3 = Vec.madd(x, v128.load(p, 48), s3);
    }
    if (cols >= 16 && beta === 0 && act === 0) {
      if (bias) {
        s0 = f32x4.add(s0, v128.load(bias));
        s1 = f32x4.add(s1, v128.load(bias, 16));
        s2 = f32x4.add(s2, v128.load(bias, 32));
        s3 = f32x4.add(s3, v128.load(bias, 48));
      }
      v128.store(c, s0);
      v128.store(c, s1, 16);
      v128.store(c, s2, 32);
      v128.store(c, s3, 48);
      return;
    }
    storeRow(c, s0, s1, min(8, cols), 1, beta, act, bias);
    if (cols > 8) storeRow(c + 32, s2, s3, min(8, cols - 8), 1, beta, act, offset(bias, 32));
  }
}

/**
 * c[0..N) = act(a·P + bias + beta·c) for P from packPanels(…, 32) (K rows); `bias` N floats or 0. a: K floats
 * `sak` bytes apart. Each panel in two halves of 16 columns, four accumulators and two depths per
 * iteration: few enough live vectors that V8 keeps them in registers.
 */
export function rowGemm(
  a: usize,
  sak: usize,
  panels: usize,
  K: i32,
  N: i32,
  c: usize,
  beta: f32,
  act: i32,
  bias: usize,
): void {
  const ps = <usize>K * 128;
  for (let j = 0; j < N; j += 32) {
    const b = panels + <usize>(j >> 5) * ps;
    const cj = c + <usize>j * 4;
    const cols = N - j;
    const bj = offset(bias, <usize>j * 4);
    Row.half(a, sak, b, K, cj, beta, act, bj, cols);
    if (cols > 16) Row.half(a, sak, b + 64, K, cj + 64, beta, act, offset(bj, 64), cols - 16);
  }
}

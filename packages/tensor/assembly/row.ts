// One row times a matrix, for the recurrence of a batch of one: B packed in panels of 32 columns, so
// each depth step reads one contiguous 128-byte line per panel.
import { packPanels } from './gemm';
import { storeRow } from './tile';

/** `packPanels` with 32-column panels: each depth step of `rowGemm` reads one 128-byte line per panel. */
export function packB32(b: usize, sbp: i32, sbj: i32, K: i32, N: i32, dst: usize): void {
  packPanels(b, sbp, sbj, K, N, dst, 32);
}

/**
 * c[0..N) = act(a·P + beta·c) for P from packB32 (K rows). a: K floats `sak` bytes apart. Two depths
 * per iteration, summed before they join the accumulators, halve each accumulator's dependency chain.
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
): void {
  const ps = <usize>K * 128;
  for (let j = 0; j < N; j += 32) {
    const b = panels + <usize>(j >> 5) * ps;
    let s0 = f32x4.splat(0),
      s1 = f32x4.splat(0),
      s2 = f32x4.splat(0),
      s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0),
      s5 = f32x4.splat(0),
      s6 = f32x4.splat(0),
      s7 = f32x4.splat(0);
    let x_ = a;
    let o: usize = 0;
    const pairs = <usize>(K & ~1) * 128;
    for (; o < pairs; o += 256) {
      const x = v128.load32_splat(x_);
      const y = v128.load32_splat(x_ + sak);
      s0 = f32x4.add(s0, f32x4.add(f32x4.mul(x, v128.load(b + o)), f32x4.mul(y, v128.load(b + o, 128))));
      s1 = f32x4.add(s1, f32x4.add(f32x4.mul(x, v128.load(b + o, 16)), f32x4.mul(y, v128.load(b + o, 144))));
      s2 = f32x4.add(s2, f32x4.add(f32x4.mul(x, v128.load(b + o, 32)), f32x4.mul(y, v128.load(b + o, 160))));
      s3 = f32x4.add(s3, f32x4.add(f32x4.mul(x, v128.load(b + o, 48)), f32x4.mul(y, v128.load(b + o, 176))));
      s4 = f32x4.add(s4, f32x4.add(f32x4.mul(x, v128.load(b + o, 64)), f32x4.mul(y, v128.load(b + o, 192))));
      s5 = f32x4.add(s5, f32x4.add(f32x4.mul(x, v128.load(b + o, 80)), f32x4.mul(y, v128.load(b + o, 208))));
      s6 = f32x4.add(s6, f32x4.add(f32x4.mul(x, v128.load(b + o, 96)), f32x4.mul(y, v128.load(b + o, 224))));
      s7 = f32x4.add(s7, f32x4.add(f32x4.mul(x, v128.load(b + o, 112)), f32x4.mul(y, v128.load(b + o, 240))));
      x_ += sak * 2;
    }
    if (o < ps) {
      const x = v128.load32_splat(x_);
      s0 = f32x4.add(s0, f32x4.mul(x, v128.load(b + o)));
      s1 = f32x4.add(s1, f32x4.mul(x, v128.load(b + o, 16)));
      s2 = f32x4.add(s2, f32x4.mul(x, v128.load(b + o, 32)));
      s3 = f32x4.add(s3, f32x4.mul(x, v128.load(b + o, 48)));
      s4 = f32x4.add(s4, f32x4.mul(x, v128.load(b + o, 64)));
      s5 = f32x4.add(s5, f32x4.mul(x, v128.load(b + o, 80)));
      s6 = f32x4.add(s6, f32x4.mul(x, v128.load(b + o, 96)));
      s7 = f32x4.add(s7, f32x4.mul(x, v128.load(b + o, 112)));
    }
    const cj = c + <usize>j * 4;
    const cols = N - j;
    storeRow(cj, s0, s1, min(8, cols), 1, beta, act);
    if (cols > 8) storeRow(cj + 32, s2, s3, min(8, cols - 8), 1, beta, act);
    if (cols > 16) storeRow(cj + 64, s4, s5, min(8, cols - 16), 1, beta, act);
    if (cols > 24) storeRow(cj + 96, s6, s7, min(8, cols - 24), 1, beta, act);
  }
}

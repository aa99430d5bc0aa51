// Column sums of a row-major float32 matrix in float64 (a bias gradient: Σ over the rows of dgates).

/**
 * out[j] = Σ_r A[r·ld + j] for j in [colsFrom, colsTo), accumulated in float64 row by row (the same
 * order, so the same sums, as a float64 loop over the rows), rounded once to float32. Blocks of 16
 * columns (a cache line of a row) keep eight f64x2 accumulators; the rest go one by one.
 */
export function columnSums(a: usize, rows: i32, ld: i32, out: usize, colsFrom: i32, colsTo: i32): void {
  const rowBytes = <usize>ld * 4;
  let j = colsFrom;
  for (; j + 16 <= colsTo; j += 16) {
    let s0 = f64x2.splat(0),
      s1 = f64x2.splat(0),
      s2 = f64x2.splat(0),
      s3 = f64x2.splat(0);
    let s4 = f64x2.splat(0),
      s5 = f64x2.splat(0),
      s6 = f64x2.splat(0),
      s7 = f64x2.splat(0);
    let p = a + <usize>j * 4;
    for (let r = 0; r < rows; r++) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      const v2 = v128.load(p, 32);
      const v3 = v128.load(p, 48);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
      s4 = f64x2.add(s4, f64x2.promote_low_f32x4(v2));
      s5 = f64x2.add(s5, f64x2.promote_low_f32x4(v128.shuffle<f32>(v2, v2, 2, 3, 0, 1)));
      s6 = f64x2.add(s6, f64x2.promote_low_f32x4(v3));
      s7 = f64x2.add(s7, f64x2.promote_low_f32x4(v128.shuffle<f32>(v3, v3, 2, 3, 0, 1)));
      p += rowBytes;
    }
    const o = out + <usize>j * 4;
    v128.store(o, F64.join(s0, s1));
    v128.store(o, F64.join(s2, s3), 16);
    v128.store(o, F64.join(s4, s5), 32);
    v128.store(o, F64.join(s6, s7), 48);
  }
  for (; j < colsTo; j++) {
    let s: f64 = 0;
    let p = a + <usize>j * 4;
    for (let r = 0; r < rows; r++) {
      s += <f64>load<f32>(p);
      p += rowBytes;
    }
    store<f32>(out + <usize>j * 4, <f32>s);
  }
}

// biome-ignore lint/complexity/noStaticOnlyClass: the only form of @inline that biome can parse
class F64 {
  /** Four floats: the two float64 lanes of lo, then those of hi, each rounded to float32. */
  @inline
  static join(lo: v128, hi: v128): v128 {
    return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
  }
}

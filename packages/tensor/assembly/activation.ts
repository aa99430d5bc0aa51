// Activations on four lanes at once. Compiled by AssemblyScript to WebAssembly SIMD (see index.ts).
import { loadLanes, storeLanes } from './lanes';

export const ACT_NONE: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_RELU: i32 = 2;

/**
 * tanh as Eigen's rational approximation (degree 13 / 6 on x clamped to ±7.9053), a few ulp from the
 * float32 tanh. min/max propagate NaN in WebAssembly, so NaN stays NaN; ±Inf clamp to ±7.9 → ±1; below
 * |x| = 4e-4 tanh(x) = x to float32 precision, which also keeps the sign of −0.
 */
export function tanh4(v: v128): v128 {
  const x = f32x4.max(f32x4.min(v, f32x4.splat(7.905311107635498)), f32x4.splat(-7.905311107635498));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(-2.76076847742355e-16)), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(x, p);
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(1.19825839466702e-6)), f32x4.splat(1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(2.268434632439e-3));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(4.89352518554385e-3));
  const tiny = f32x4.lt(f32x4.abs(v), f32x4.splat(0.0004));
  return v128.bitselect(v, f32x4.div(p, q), tiny);
}

/** max(x, 0), with NaN propagating as in PyTorch (WebAssembly's f32x4.max returns NaN if either is). */
export function relu4(v: v128): v128 {
  return f32x4.max(v, f32x4.splat(0));
}

export function activate4(v: v128, act: i32): v128 {
  if (act === ACT_TANH) return tanh4(v);
  if (act === ACT_RELU) return relu4(v);
  return v;
}

/** act(x) in place over `rows` rows of `cols` floats, `ld` floats apart (ld, cols in elements). */
export function activateRows(c: usize, rows: i32, cols: i32, ld: i32, act: i32): void {
  if (act === ACT_NONE) return;
  for (let i = 0; i < rows; i++) {
    const row = c + <usize>(i * ld) * 4;
    let j = 0;
    for (; j + 4 <= cols; j += 4)
      v128.store(row + <usize>j * 4, activate4(v128.load(row + <usize>j * 4), act));
    if (j < cols) {
      const tail = row + <usize>j * 4;
      storeLanes(tail, activate4(loadLanes(tail, cols - j), act), cols - j);
    }
  }
}

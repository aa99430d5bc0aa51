/**
 * Float helpers shared by kernels. GPUs may assume no NaN/Inf in float comparisons (and compilers fold
 * `x != x` to false), so NaN is detected on the bits; activations let NaN through as PyTorch does.
 */

/** `is_nan(x)`: true for any NaN, decided on the bit pattern (robust to fast-math). */
export const isNan: string = `
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}`;

/**
 * `tanh_safe(x)`: WGSL `tanh()` may be undefined for |x| > ~88 (gpuweb#4458), so tanh is
 * sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|), which saturates to ±1 (±Inf → ±1) and never overflows.
 * Below |x| = 0.1 the Taylor polynomial (error < 3e-10 relative) replaces the form, where 1 − e cancels.
 */
export const tanhSafe: string = `${isNan}
fn tanh_safe(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.1) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * a);
  return sign(x) * (1.0 - e) / (1.0 + e);
}`;

/** `relu_nan(x)`: max(x, 0) that returns NaN for NaN (WGSL `max` may return either operand). */
export const reluNan: string = `${isNan}
fn relu_nan(x: f32) -> f32 {
  return select(select(0.0, x, x > 0.0), x, is_nan(x));
}`;

/** The activation a kernel applies in its epilogue. */
export type Activation = 'none' | 'tanh' | 'relu';

/** WGSL defining `fn act(x: f32) -> f32` for the activation. */
export function activation(kind: Activation): string {
  switch (kind) {
    case 'tanh':
      return `${tanhSafe}\nfn act(x: f32) -> f32 { return tanh_safe(x); }`;
    case 'relu':
      return `${reluNan}\nfn act(x: f32) -> f32 { return relu_nan(x); }`;
    default:
      return 'fn act(x: f32) -> f32 { return x; }';
  }
}

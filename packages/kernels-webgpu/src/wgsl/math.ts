/**
 * Float helpers shared by kernels. GPUs may assume no NaN/Inf in float comparisons (and compilers fold
 * `x != x` to false), so NaN is detected on the bits; activations let NaN through as PyTorch does.
 */

const FUNCTIONS = {
  /** True for any NaN, decided on the bit pattern (robust to fast-math). */
  is_nan: `
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}`,
  /**
   * WGSL `tanh()` may be undefined for |x| > ~88 (gpuweb#4458), so tanh is sign(x)·(1 − e)/(1 + e) with
   * e = exp(−2|x|), which saturates to ±1 (±Inf → ±1) and never overflows. Below |x| = 0.1 the Taylor
   * polynomial (error < 3e-10 relative) replaces the form, where 1 − e cancels.
   */
  tanh_safe: `
fn tanh_safe(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.1) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * a);
  return sign(x) * (1.0 - e) / (1.0 + e);
}`,
  /**
   * σ(x) from e = exp(−|x|) ∈ (0, 1]: 1/(1 + e) for x ≥ 0, e/(1 + e) below, so exp never overflows
   * and σ(±Inf) = 1 / 0 exactly; NaN stays NaN.
   */
  sigmoid_safe: `
fn sigmoid_safe(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}`,
  /** max(x, 0) that returns NaN for NaN (WGSL `max` may return either operand). */
  relu_nan: `
fn relu_nan(x: f32) -> f32 {
  return select(select(0.0, x, x > 0.0), x, is_nan(x));
}`,
} as const;

/** A float helper of `wgslMath`. */
export type MathFunction = keyof typeof FUNCTIONS;

/** WGSL defining the named helpers (`tanh_safe`, `sigmoid_safe`, `relu_nan`, `is_nan`), each once, with what they use. */
export function wgslMath(...names: MathFunction[]): string {
  const all = new Set<MathFunction>(names.length ? ['is_nan', ...names] : []);
  return [...all].map((name) => FUNCTIONS[name]).join('\n');
}

/** The activation a kernel applies in its epilogue. */
export type Activation = 'none' | 'tanh' | 'relu';

/** WGSL defining `fn act(x: f32) -> f32` for the activation (and the helpers it uses, unless `helpers` is false). */
export function activation(kind: Activation, helpers = true): string {
  switch (kind) {
    case 'tanh':
      return `${helpers ? wgslMath('tanh_safe') : ''}\nfn act(x: f32) -> f32 { return tanh_safe(x); }`;
    case 'relu':
      return `${helpers ? wgslMath('relu_nan') : ''}\nfn act(x: f32) -> f32 { return relu_nan(x); }`;
    default:
      return 'fn act(x: f32) -> f32 { return x; }';
  }
}

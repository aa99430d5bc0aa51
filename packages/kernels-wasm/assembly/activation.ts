// Activations on four lanes at once. Compiled by AssemblyScript to WebAssembly SIMD (see index.ts).
import { loadLanes, storeLanes } from './lanes';

export const ACT_NONE: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_RELU: i32 = 2;
export const ACT_SIGMOID: i32 = 3;

/**
 * The vector constants of tanh and sigmoid, splatted, in a table at byte 1024 (below a pool's control
 * block and the host's arena) that `initConstants` fills once: V8 rebuilds a v128.const with three
 * instructions each time a loop uses it, a load from here is one. The module keeps no data segment
 * (threads instantiate it on one shared memory), so code writes the table. Two sets of the rational's
 * constants: tanh's (from TANH), and sigmoid's (from SIGMOID: see `Vec.sigmoid`); then 0.5.
 */
const TABLE: usize = 1024;
const TANH = 0;
const SIGMOID = 13;
const HALF = 26;
// offsets within a set: the clamps, the numerator's coefficients of x^13 … x (of x²'s powers after the
// one x), the denominator's of x^6 … 1
const CLAMP_HI = 0;
const CLAMP_LO = 1;
const P13 = 2;
const P11 = 3;
const P9 = 4;
const P7 = 5;
const P5 = 6;
const P3 = 7;
const P1 = 8;
const Q6 = 9;
const Q4 = 10;
const Q2 = 11;
const Q0 = 12;

/**
 * Whether Vec.madd rounds once: relaxed_madd is a fused multiply-add where the CPU has one (x64 with
 * FMA3, ARM64) and a multiply then an add elsewhere. (1 + 2⁻¹²)² − (1 + 2⁻¹¹) is 2⁻²⁴ fused, 0 unfused
 * (the product's 2⁻²⁴ is half an ulp of 1 and rounds to even, away).
 */
function fusedMadd(): bool {
  const a = f32x4.splat(1 + 1 / 4096);
  return f32x4.extract_lane(Vec.madd(a, a, f32x4.splat(-(1 + 1 / 2048))), 0) !== 0;
}

/** Constant `c` in slot `set + at` of the table, and `c·sigmoidScale` in the sigmoid set's. */
function constant(at: i32, c: f32, sigmoidScale: f32): void {
  v128.store(TABLE + <usize>(TANH + at) * 16, f32x4.splat(c));
  v128.store(TABLE + <usize>(SIGMOID + at) * 16, f32x4.splat(c * sigmoidScale));
}

/** Writes the constants table; the host calls it once per memory, before any kernel runs. */
export function initConstants(): void {
  // Eigen's clamps: where the rational reaches exactly ±1 with two roundings per step, or with one
  const clamp: f32 = fusedMadd() ? 7.998811721801758 : 7.905311107635498;
  // σ(x) = 0.5 + 0.5·tanh(x/2): tanh's rational at x/2, times 0.5, is the rational at x with the
  // coefficient of x^(2k+1) scaled by 2^(−2k−2) and that of x^(2k) by 2^(−2k). Scaling by powers of two
  // is exact, and so is every rounding after it: the same floats as 0.5·tanh(x/2), two operations fewer.
  constant(CLAMP_HI, clamp, 2);
  constant(CLAMP_LO, -clamp, 2);
  constant(P13, -2.76076847742355e-16, 1.0 / 16384);
  constant(P11, 2.00018790482477e-13, 1.0 / 4096);
  constant(P9, -8.60467152213735e-11, 1.0 / 1024);
  constant(P7, 5.12229709037114e-8, 1.0 / 256);
  constant(P5, 1.48572235717979e-5, 1.0 / 64);
  constant(P3, 6.37261928875436e-4, 1.0 / 16);
  constant(P1, 4.89352455891786e-3, 1.0 / 4);
  constant(Q6, 1.19825839466702e-6, 1.0 / 64);
  constant(Q4, 1.18534705686654e-4, 1.0 / 16);
  constant(Q2, 2.268434632439e-3, 1.0 / 4);
  constant(Q0, 4.89352518554385e-3, 1);
  v128.store(TABLE + HALF * 16, f32x4.splat(0.5));
}

/**
 * Vector math the hot loops inline: AssemblyScript inlines decorated functions, and a class's static
 * methods are the decorated functions TypeScript tooling can parse.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: the only form of @inline that biome can parse
export class Vec {
  /**
   * a·b + c. The relaxed-SIMD build (`ASC_FEATURE_RELAXED_SIMD`) emits `f32x4.relaxed_madd`, one fused
   * multiply-add where the CPU has FMA (one rounding instead of two); the plain build a multiply and an add.
   */
  @inline
  static madd(a: v128, b: v128, c: v128): v128 {
    return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(a, b, c) : f32x4.add(f32x4.mul(a, b), c);
  }

  /** Constant `i` of the table, in all four lanes. */
  @inline
  static k(i: i32): v128 {
    return v128.load(TABLE + <usize>i * 16);
  }

  /**
   * x·p(x²)/q(x²) on x clamped to the set's ±clamp, with the constants of `set` (TANH or SIGMOID). NaN
   * stays NaN (pmin/pmax are one instruction each and keep a NaN first operand, as min/max would), ±Inf
   * clamp, and −0 stays −0.
   */
  @inline
  static rational(v: v128, set: i32): v128 {
    const x = f32x4.pmax(f32x4.pmin(v, Vec.k(set + CLAMP_HI)), Vec.k(set + CLAMP_LO));
    const x2 = f32x4.mul(x, x);
    let p = Vec.madd(x2, Vec.k(set + P13), Vec.k(set + P11));
    p = Vec.madd(x2, p, Vec.k(set + P9));
    p = Vec.madd(x2, p, Vec.k(set + P7));
    p = Vec.madd(x2, p, Vec.k(set + P5));
    p = Vec.madd(x2, p, Vec.k(set + P3));
    p = Vec.madd(x2, p, Vec.k(set + P1));
    p = f32x4.mul(x, p);
    let q = Vec.madd(x2, Vec.k(set + Q6), Vec.k(set + Q4));
    q = Vec.madd(x2, q, Vec.k(set + Q2));
    q = Vec.madd(x2, q, Vec.k(set + Q0));
    return f32x4.div(p, q);
  }

  /**
   * tanh as Eigen's rational approximation (degree 13 / 6 on x clamped to ±7.9053, or to ±7.9988 where
   * Vec.madd is fused: each clamp is where the rational reaches exactly ±1), a few ulp from the float32
   * tanh (at most 6 over ±20, 4e-4 and below included: Eigen's tanh(x) = x there costs a compare and a
   * select per vector and is left out). ±Inf give ±1.
   */
  @inline
  static tanh(v: v128): v128 {
    return Vec.rational(v, TANH);
  }

  /**
   * The logistic sigmoid as 0.5 + 0.5·tanh(x/2), the halvings folded into the constants: within 2e-7
   * absolute of 1/(1 + e^−x) (half of tanh's error), NaN stays NaN, ±Inf give 1 and 0, and it never
   * leaves [0, 1].
   */
  @inline
  static sigmoid(v: v128): v128 {
    return f32x4.add(Vec.rational(v, SIGMOID), Vec.k(HALF));
  }

  /** Lanes [0, n) at p (n ≤ 4): one vector load when n = 4, the others 0. */
  @inline
  static get(p: usize, n: i32): v128 {
    return n === 4 ? v128.load(p) : loadLanes(p, n);
  }

  /** Stores lanes [0, n) of v at p (n ≤ 4). */
  @inline
  static put(p: usize, v: v128, n: i32): void {
    if (n === 4) v128.store(p, v);
    else storeLanes(p, v, n);
  }
}

export function tanh4(v: v128): v128 {
  return Vec.tanh(v);
}

export function sigmoid4(v: v128): v128 {
  return Vec.sigmoid(v);
}

/** max(x, 0), with NaN propagating as in PyTorch (pmax keeps a NaN first operand; one instruction). */
export function relu4(v: v128): v128 {
  return f32x4.pmax(v, f32x4.splat(0));
}

export function activate4(v: v128, act: i32): v128 {
  if (act === ACT_TANH) return tanh4(v);
  if (act === ACT_RELU) return relu4(v);
  if (act === ACT_SIGMOID) return sigmoid4(v);
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

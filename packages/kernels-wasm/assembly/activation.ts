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
 * (threads instantiate it on one shared memory), so code writes the table.
 */
const TABLE: usize = 1024;
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
const TINY = 13;
const HALF = 14;

/**
 * Whether Vec.madd rounds once: relaxed_madd is a fused multiply-add where the CPU has one (x64 with
 * FMA3, ARM64) and a multiply then an add elsewhere. (1 + 2⁻¹²)² − (1 + 2⁻¹¹) is 2⁻²⁴ fused, 0 unfused
 * (the product's 2⁻²⁴ is half an ulp of 1 and rounds to even, away).
 */
function fusedMadd(): bool {
  const a = f32x4.splat(1 + 1 / 4096);
  return f32x4.extract_lane(Vec.madd(a, a, f32x4.splat(-(1 + 1 / 2048))), 0) !== 0;
}

/** Writes the constants table; the host calls it once per memory, before any kernel runs. */
export function initConstants(): void {
  // Eigen's clamps: where the rational reaches exactly ±1 with two roundings per step, or with one
  const clamp: f32 = fusedMadd() ? 7.998811721801758 : 7.905311107635498;
  v128.store(TABLE + CLAMP_HI * 16, f32x4.splat(clamp));
  v128.store(TABLE + CLAMP_LO * 16, f32x4.splat(-clamp));
  v128.store(TABLE + P13 * 16, f32x4.splat(-2.76076847742355e-16));
  v128.store(TABLE + P11 * 16, f32x4.splat(2.00018790482477e-13));
  v128.store(TABLE + P9 * 16, f32x4.splat(-8.60467152213735e-11));
  v128.store(TABLE + P7 * 16, f32x4.splat(5.12229709037114e-8));
  v128.store(TABLE + P5 * 16, f32x4.splat(1.48572235717979e-5));
  v128.store(TABLE + P3 * 16, f32x4.splat(6.37261928875436e-4));
  v128.store(TABLE + P1 * 16, f32x4.splat(4.89352455891786e-3));
  v128.store(TABLE + Q6 * 16, f32x4.splat(1.19825839466702e-6));
  v128.store(TABLE + Q4 * 16, f32x4.splat(1.18534705686654e-4));
  v128.store(TABLE + Q2 * 16, f32x4.splat(2.268434632439e-3));
  v128.store(TABLE + Q0 * 16, f32x4.splat(4.89352518554385e-3));
  v128.store(TABLE + TINY * 16, f32x4.splat(0.0004));
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
   * tanh as Eigen's rational approximation (degree 13 / 6 on x clamped to ±7.9053, or to ±7.9988 where
   * Vec.madd is fused: each clamp is where the rational reaches exactly ±1), a few ulp from the float32
   * tanh. NaN stays NaN; ±Inf clamp → ±1; below |x| = 4e-4 tanh(x) = x to float32 precision, which also
   * keeps the sign of −0.
   */
  @inline
  static tanh(v: v128): v128 {
    // pmin/pmax are one instruction each and keep a NaN first operand, as min/max would
    const x = f32x4.pmax(f32x4.pmin(v, Vec.k(CLAMP_HI)), Vec.k(CLAMP_LO));
    const x2 = f32x4.mul(x, x);
    let p = Vec.madd(x2, Vec.k(P13), Vec.k(P11));
    p = Vec.madd(x2, p, Vec.k(P9));
    p = Vec.madd(x2, p, Vec.k(P7));
    p = Vec.madd(x2, p, Vec.k(P5));
    p = Vec.madd(x2, p, Vec.k(P3));
    p = Vec.madd(x2, p, Vec.k(P1));
    p = f32x4.mul(x, p);
    let q = Vec.madd(x2, Vec.k(Q6), Vec.k(Q4));
    q = Vec.madd(x2, q, Vec.k(Q2));
    q = Vec.madd(x2, q, Vec.k(Q0));
    const tiny = f32x4.lt(f32x4.abs(v), Vec.k(TINY));
    return v128.bitselect(v, f32x4.div(p, q), tiny);
  }

  /**
   * The logistic sigmoid as 0.5 + 0.5·tanh(x/2): within 2e-7 absolute of 1/(1 + e^−x) (half of tanh's
   * error), NaN stays NaN, ±Inf give 1 and 0, and it never leaves [0, 1].
   */
  @inline
  static sigmoid(v: v128): v128 {
    const half = Vec.k(HALF);
    return Vec.madd(half, Vec.tanh(f32x4.mul(v, half)), half);
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

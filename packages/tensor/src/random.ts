/**
 * A seedable random generator that reproduces PyTorch 1.13's CPU generator (`CPUGeneratorImpl`, an
 * mt19937 engine) bit for bit, and fills that mirror ATen's CPU kernels for `uniform_`, `normal_` and
 * `bernoulli_(p)` on a contiguous float32 tensor. The fills mirror the kernels an x86-64 build runs with
 * AVX2 (PyTorch's default CPU capability there): the compiler fuses `a * b + c` into FMA instructions, so
 * we round those expressions once (`fma32` / `fma64`) to match.
 */

const N = 624;
const M = 397;
const MASK_24 = 0xffffff;
const MASK_21 = 0x1fffff;
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;
const UINT64_MAX = (1n << 64n) - 1n;

/** PyTorch's `default_rng_seed_val`: the seed of a new `torch.Generator()`. */
export const DEFAULT_SEED: bigint = 67280421310721n;

function toSeed(seed: unknown, op: string): bigint {
  if (typeof seed === 'bigint' && seed >= 0n && seed <= UINT64_MAX) return seed;
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return BigInt(seed);
  const shown = typeof seed === 'bigint' ? `${seed}n` : typeof seed === 'number' ? String(seed) : typeof seed;
  const hint =
    typeof seed === 'number' && Number.isInteger(seed) && seed > 0 ? ' (use a bigint above 2^53 - 1)' : '';
  throw new TypeError(
    `${op}: expected seed to be a non-negative integer below 2^64, received ${shown}${hint}`,
  );
}

/**
 * A random number generator with PyTorch's CPU semantics: an mt19937 engine seeded from the low 32 bits
 * of a 64-bit seed (ATen's `mt19937::init_with_uint32`), plus the cached second Box–Muller sample of
 * `normal_distribution<double>` that `manual_seed` clears.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.Generator.html | torch.Generator}
 */
export class Generator {
  private readonly state = new Uint32Array(N);
  /** The next 624 tempered outputs, produced one twist at a time. */
  private readonly output = new Uint32Array(N);
  private index = N;
  private seedValue = DEFAULT_SEED;
  private hasCachedNormal = false;
  private cachedNormal = 0;

  constructor(seed: number | bigint = DEFAULT_SEED) {
    this.manualSeed(seed);
  }

  /** Reseeds the engine and drops the cached normal sample, like `torch.Generator.manual_seed`. */
  manualSeed(seed: number | bigint): this {
    this.seedValue = toSeed(seed, 'manualSeed');
    const state = this.state;
    state[0] = Number(this.seedValue & 0xffffffffn);
    for (let i = 1; i < N; i++) {
      const prev = state[i - 1] as number;
      state[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
    this.index = N;
    this.hasCachedNormal = false;
    this.cachedNormal = 0;
    return this;
  }

  /** Seeds from `Math.random` (PyTorch reads /dev/urandom) and returns the new seed, like `Generator.seed()`. */
  seed(): bigint {
    const hi = BigInt(Math.floor(Math.random() * TWO_POW_32));
    const lo = BigInt(Math.floor(Math.random() * TWO_POW_32));
    this.manualSeed((hi << 32n) | lo);
    return this.seedValue;
  }

  /** The seed last set, like `Generator.initial_seed()`. */
  initialSeed(): bigint {
    return this.seedValue;
  }

  /** The next 32-bit output of the engine, as a number in [0, 2^32) (ATen's `random()`). */
  random(): number {
    if (this.index >= N) this.twist();
    return this.output[this.index++] as number;
  }

  /** Two draws combined as `first << 32 | second` (ATen's `random64()`). */
  random64(): bigint {
    const hi = this.random();
    const lo = this.random();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * One sample of ATen's `normal_distribution<double>` with mean 0 and std 1: Box–Muller on two double
   * uniforms, returning `r cos θ` and caching `r sin θ` for the next call.
   */
  normal(): number {
    if (this.hasCachedNormal) {
      this.hasCachedNormal = false;
      return this.cachedNormal;
    }
    const u1 = uniformDouble(this);
    const u2 = uniformDouble(this);
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    this.hasCachedNormal = true;
    return r * Math.cos(theta);
  }

  private twist(): void {
    const state = this.state;
    const output = this.output;
    for (let i = 0; i < N; i++) {
      const y = ((state[i] as number) & 0x80000000) | ((state[(i + 1) % N] as number) & 0x7fffffff);
      state[i] = (state[(i + M) % N] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    for (let i = 0; i < N; i++) {
      let y = state[i] as number;
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      output[i] = y;
    }
    this.index = 0;
  }
}

/**
 * The generator the fills use when none is given (PyTorch's default CPU generator). It starts at
 * `DEFAULT_SEED`, so unseeded runs are reproducible; PyTorch seeds its default generator from the OS in
 * each process, so only streams after `manualSeed` are comparable with PyTorch's.
 */
export const defaultGenerator: Generator = new Generator();

/**
 * Seeds the default generator, like `torch.manual_seed`; returns it.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.manual_seed.html | torch.manual_seed}
 */
export function manualSeed(seed: number | bigint): Generator {
  return defaultGenerator.manualSeed(seed);
}

/**
 * Seeds the default generator non-deterministically, like `torch.seed()`; returns the seed.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.seed.html | torch.seed}
 */
export function seed(): bigint {
  return defaultGenerator.seed();
}

/**
 * The default generator's seed, like `torch.initial_seed()`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.initial_seed.html | torch.initial_seed}
 */
export function initialSeed(): bigint {
  return defaultGenerator.initialSeed();
}

/** ATen's `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one draw, times 2^-24. */
function uniformFloat(g: Generator): number {
  return (g.random() & MASK_24) * TWO_POW_M24;
}

/** ATen's `uniform_real_distribution<double>(0, 1)`: the low 53 bits of `random64()`, times 2^-53. */
export function uniformDouble(g: Generator): number {
  const hi = g.random();
  const lo = g.random();
  return ((hi & MASK_21) * TWO_POW_32 + lo) * TWO_POW_M53;
}

/**
 * `a * b + c` rounded once to float32, for float32 inputs (a C `fmaf`). The product is exact in a double,
 * so only the double sum can round twice; that matters only when it lands exactly halfway between two
 * floats, where the sum's rounding error (TwoSum) decides the direction.
 */
function fma32(a: number, b: number, c: number): number {
  const s = a * b + c;
  const r = Math.fround(s);
  if (r === s) return r;
  const other = 2 * s - r;
  if (Math.fround(other) !== other) return r;
  const p = a * b;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r;
  return err > 0 === s > r ? other : r;
}

const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's splitting constant

/** `a * b + c` in doubles with (almost always) one rounding: TwoProduct + TwoSum. */
function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  const ta = SPLITTER * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLITTER * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  const pe = ah * bh - p + ah * bl + al * bh + al * bl;
  const s = p + c;
  const bb = s - p;
  const se = p - (s - bb) + (c - bb);
  return s + (pe + se);
}

function checkOut(out: unknown, op: string): asserts out is Float32Array {
  if (!(out instanceof Float32Array)) {
    const shown = out === null ? 'null' : typeof out === 'object' ? out.constructor.name : typeof out;
    throw new TypeError(`${op}: expected out to be a Float32Array, received ${shown}`);
  }
}

function checkGenerator(generator: unknown, op: string): asserts generator is Generator {
  if (!(generator instanceof Generator)) {
    throw new TypeError(
      `${op}: expected a Generator, received ${generator === null ? 'null' : typeof generator}`,
    );
  }
}

function checkFinite(value: unknown, name: string, op: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${op}: expected ${name} to be a finite number, received ${String(value)}`);
  }
}

/**
 * Fills `out` like `tensor.uniform_(low, high)` on a contiguous float32 tensor (ATen's CPU
 * `uniform_kernel`): per element, `x * (high - low) + low` in float32 with `x` a float uniform in [0, 1).
 */
export function fillUniform(
  out: Float32Array,
  low = 0,
  high = 1,
  generator: Generator = defaultGenerator,
): Float32Array {
  const op = 'fillUniform';
  checkOut(out, op);
  checkGenerator(generator, op);
  checkFinite(low, 'low', op);
  checkFinite(high, 'high', op);
  if (low > high) {
    throw new RangeError(
      `${op}: expected low <= high (a [low, high) range), received low=${low} > high=${high}`,
    );
  }
  const from = Math.fround(low);
  const range = Math.fround(Math.fround(high) - from);
  if (!Number.isFinite(range)) {
    throw new RangeError(`${op}: expected high - low to fit in float32, received low=${low}, high=${high}`);
  }
  for (let i = 0; i < out.length; i++) out[i] = fma32(uniformFloat(generator), range, from);
  return out;
}

// Constants of avx_mathfun.h (cephes polynomials), rounded to float32 as the `_mm256_set1_ps` constants are.
const f = Math.fround;
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const SQRTHF = f(Math.SQRT1_2);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853516e-4);
const DP3 = f(-3.774894977445941e-8);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);
const FOPI = f(1.27323954473516);
const TWO_PI = f(2 * Math.PI);

/**
 * avx_mathfun's `log256_ps` for one lane, for `x = k * 2^-24` with integer k in [1, 2^24] (all the
 * fill feeds it: `1 - u` for a float uniform u). `x = m * 2^e` with m in [0.5, 1) comes from k's bit length.
 */
function avxLog(x: number): number {
  const k = x * 16777216;
  const bitLength = 32 - Math.clz32(k);
  let m = k * 2 ** -bitLength;
  let e = bitLength - 24;
  if (m < SQRTHF) {
    e -= 1;
    m = f(f(m - 1) + m);
  } else {
    m = f(m - 1);
  }
  const z = f(m * m);
  let y = LOG_P[0] as number;
  for (let i = 1; i < LOG_P.length; i++) y = fma32(y, m, LOG_P[i] as number);
  y = f(y * m);
  y = fma32(y, z, f(e * LOG_Q1));
  y = f(y - z * 0.5);
  return fma32(e, LOG_Q2, f(m + y));
}

/** avx_mathfun's `sincos256_ps` for one lane, for `x >= 0`; writes [sin, cos] into `sc`. */
function avxSinCos(x: number, sc: Float64Array): void {
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  // Extended-precision range reduction: x - y·π/4 with π/4 split in three parts.
  x = fma32(y, DP1, x);
  x = fma32(y, DP2, x);
  x = fma32(y, DP3, x);
  const z = f(x * x);
  let yc = fma32(fma32(COS_P0, z, COS_P1), z, COS_P2);
  yc = f(yc * z);
  yc = fma32(yc, z, -z * 0.5);
  yc = f(yc + 1);
  let ys = fma32(fma32(SIN_P0, z, SIN_P1), z, SIN_P2);
  ys = f(ys * z);
  ys = fma32(ys, x, x);
  const swap = (j & 2) !== 0;
  const sin = swap ? yc : ys;
  const cos = swap ? ys : yc;
  sc[0] = j & 4 ? -sin : sin;
  sc[1] = (j - 2) & 4 ? cos : -cos;
}

/** ATen's `normal_fill_16_AVX2`: Box–Muller on `data[o..o+8)` (u1 = 1 - value) and `data[o+8..o+16)` (u2). */
function normalFill16(data: Float32Array, o: number, mean: number, std: number, sc: Float64Array): void {
  for (let j = o; j < o + 8; j++) {
    const u1 = f(1 - (data[j] as number));
    const u2 = data[j + 8] as number;
    const radius = f(Math.sqrt(f(-2 * avxLog(u1))));
    avxSinCos(f(TWO_PI * u2), sc);
    data[j] = fma32(f(radius * (sc[1] as number)), std, mean);
    data[j + 8] = fma32(f(radius * (sc[0] as number)), std, mean);
  }
}

/**
 * Fills `out` like `tensor.normal_(mean, std)` (`torch.randn` when mean 0, std 1) on a contiguous float32
 * tensor, mirroring ATen's CPU `normal_kernel`: 16 elements or more go through `normal_fill_AVX2` (fill all
 * with float uniforms, Box–Muller in blocks of 16 with avx_mathfun's float log/sincos, and when the length
 * is not a multiple of 16 redraw the last 16 uniforms and transform them again); fewer than 16 elements
 * take `normal_distribution<double>` per element, which uses and refills the generator's cached sample.
 */
export function fillNormal(
  out: Float32Array,
  mean = 0,
  std = 1,
  generator: Generator = defaultGenerator,
): Float32Array {
  const op = 'fillNormal';
  checkOut(out, op);
  checkGenerator(generator, op);
  checkFinite(mean, 'mean', op);
  checkFinite(std, 'std', op);
  if (std < 0) throw new RangeError(`${op}: expected std >= 0, received std=${std}`);
  const n = out.length;
  if (n < 16) {
    for (let i = 0; i < n; i++) out[i] = fma64(generator.normal(), std, mean);
    return out;
  }
  const meanF = f(mean);
  const stdF = f(std);
  const sc = new Float64Array(2);
  for (let i = 0; i < n; i++) out[i] = uniformFloat(generator);
  for (let i = 0; i + 16 <= n; i += 16) normalFill16(out, i, meanF, stdF, sc);
  if (n % 16 !== 0) {
    for (let i = n - 16; i < n; i++) out[i] = uniformFloat(generator);
    normalFill16(out, n - 16, meanF, stdF, sc);
  }
  return out;
}

/**
 * Fills `out` with 0/1 like `tensor.bernoulli_(p)` for a float `p` in a PyTorch build without MKL (as
 * Debian's): ATen's serial `bernoulli_kernel`, one `bernoulli_distribution<double>` per element,
 * i.e. 1 when a double uniform is below p.
 */
export function fillBernoulli(
  out: Float32Array,
  p = 0.5,
  generator: Generator = defaultGenerator,
): Float32Array {
  const op = 'fillBernoulli';
  checkOut(out, op);
  checkGenerator(generator, op);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new RangeError(`${op}: expected p to be in [0, 1], received ${String(p)}`);
  }
  for (let i = 0; i < out.length; i++) out[i] = uniformDouble(generator) < p ? 1 : 0;
  return out;
}

/**
 * Fills `out` like `tensor.exponential_(lambd)` on a contiguous float32 tensor in a build without MKL
 * (ATen's serial `exponential_kernel`): per element `-1 / lambd * log(1 - u)` in double, `u` a double
 * uniform in [0, 1), rounded to float32. `multinomial` without replacement draws these.
 */
export function fillExponential(
  out: Float32Array,
  lambd = 1,
  generator: Generator = defaultGenerator,
): Float32Array {
  const op = 'fillExponential';
  checkOut(out, op);
  checkGenerator(generator, op);
  if (typeof lambd !== 'number' || !(lambd > 0) || !Number.isFinite(lambd)) {
    throw new RangeError(`${op}: expected lambd to be a positive finite number, received ${String(lambd)}`);
  }
  for (let i = 0; i < out.length; i++) out[i] = (-1 / lambd) * Math.log(1 - uniformDouble(generator));
  return out;
}

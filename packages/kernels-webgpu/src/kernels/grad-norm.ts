import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, u32 } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';
import { wgslMath } from '../wgsl/math.js';

const THREADS = 256;
const NORM_UNIFORMS = [...u32('length', 'outIndex'), ...f32('p', 'invP')];
type NormUniform = 'length' | 'outIndex' | 'p' | 'invP';

/** `l1`: Σ|x|; `inf`: max |x|; `l2`: √Σx²; `p`: (Σ|x|^p)^(1/p). */
export type NormKind = 'l1' | 'l2' | 'inf' | 'p';

// l2 and p sum (|x| / max|x|)^p and multiply the root by the max, so neither x² nor |x|^p can overflow
// or underflow f32 where the CPU's float64 sum does not; a NaN max (any NaN) or +Inf max is the norm
const SCALED_SUM: Record<NormKind, string> = {
  l1: '',
  inf: '',
  l2: 'r * r',
  p: 'pow(r, p.p)',
};

/**
 * `out[outIndex] = ‖x[0..length)‖_p` in float32, one workgroup of 256 threads for any length (strided
 * loop, then a tree in workgroup memory). A NaN element makes the norm NaN, an infinite one +Inf; length 0
 * gives 0. Sums are in f32 (the CPU sums in float64), in a different order.
 */
export const normKernel: (kind: NormKind) => Kernel<NormUniform> = memoizeKernel(
  'grad-norm',
  (kind: NormKind) => kind,
  (kind, variant) =>
    defineKernel({
      name: 'grad-norm',
      variant,
      uniforms: NORM_UNIFORMS,
      bindings: [
        { name: 'x', access: 'read' },
        { name: 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${wgslMath('is_nan')}
var<workgroup> red: array<f32, ${THREADS}>;

fn finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
// WGSL max may drop a NaN: the NaN wins here
fn max_nan(a: f32, b: f32) -> f32 { return select(select(max(a, b), b, is_nan(b)), a, is_nan(a)); }

fn tree_max(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = max_nan(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red[0]);
  workgroupBarrier(); // red is reused
  return r;
}

fn tree_sum(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = red[li] + red[li + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_index) li: u32) {
  var total = 0.0;
  ${
    kind === 'l1'
      ? `var acc = 0.0;
  for (var k = li; k < p.length; k += ${THREADS}u) { acc += abs(x[k]); }
  total = tree_sum(li, acc);`
      : `var m = 0.0;
  for (var k = li; k < p.length; k += ${THREADS}u) { m = max_nan(m, abs(x[k])); }
  let mx = tree_max(li, m);
  total = mx;`
  }${
    SCALED_SUM[kind]
      ? `
  if (finite(mx) && mx > 0.0) { // uniform: mx is the same for every thread
    var acc = 0.0;
    for (var k = li; k < p.length; k += ${THREADS}u) {
      let r = abs(x[k]) / mx;
      if (r > 0.0) { acc += ${SCALED_SUM[kind]}; }
    }
    let s = tree_sum(li, acc);
    total = mx * ${kind === 'l2' ? 'sqrt(s)' : 'pow(s, p.invP)'};
  }`
      : ''
  }
  if (li == 0u) { out[p.outIndex] = total; }
}`,
    }),
);

export interface NormArgs {
  /** `(length)` floats. */
  x: GPUBuffer;
  length: number;
  /** Floats; element `outIndex` receives the norm (a different buffer from `x`). */
  out: GPUBuffer;
  outIndex: number;
  /** p > 0: 2, 1, `Infinity` or any other. */
  normType: number;
}

/**
 * Records `out[outIndex] = ‖x[0..length)‖_p` (clip-grad's `normOf` in float32): 2 → √Σx², 1 → Σ|x|,
 * `Infinity` → max |x| (NaN if any element is NaN), other p → (Σ|x|^p)^(1/p); length 0 → 0.
 */
export function recordNorm(rec: Recorder, a: NormArgs): void {
  const p = a.normType;
  if (!(p > 0)) throw new RangeError(`recordNorm: normType must be > 0, received ${p}`);
  const kind: NormKind = p === 2 ? 'l2' : p === 1 ? 'l1' : p === Number.POSITIVE_INFINITY ? 'inf' : 'p';
  const uniforms = { length: a.length, outIndex: a.outIndex, p: kind === 'p' ? p : 0, invP: 1 / p };
  rec.dispatch(normKernel(kind), [a.x, a.out], uniforms, [1, 1, 1]);
}

const CLIP_NAMES = ['length', 'gridX', 'totalIndex'] as const;
type ClipUniform = (typeof CLIP_NAMES)[number] | 'maxNorm' | 'eps' | 'atInf';
const CLIP_UNIFORMS = [...u32(...CLIP_NAMES), ...f32('maxNorm', 'eps', 'atInf')];

/**
 * `x *= coef` with `coef = min(maxNorm / (total[totalIndex] + eps), 1)`, each thread reading the total
 * (no readback). A NaN coef stays NaN (WGSL `min` may drop it); at total = +Inf the coef is `atInf`
 * (maxNorm / ∞, computed on the CPU: WGSL division is only specified for finite divisors).
 */
export function clipScaleKernel(): Kernel<ClipUniform> {
  return memoizedClip(null);
}

const memoizedClip = memoizeKernel(
  'clip-scale',
  () => 'inplace',
  (_: unknown, variant) =>
    defineKernel({
      name: 'clip-scale',
      variant,
      uniforms: CLIP_UNIFORMS,
      bindings: [
        { name: 'total', access: 'read' },
        { name: 'x', access: 'read_write' },
      ],
      body: /* wgsl */ `
${wgslMath('is_nan')}
${flatIndex(THREADS)}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.length) { return; }
  let d = total[p.totalIndex] + p.eps;
  let q = select(p.maxNorm / d, p.atInf, bitcast<u32>(d) == 0x7f800000u);
  let coef = select(min(q, 1.0), q, is_nan(q));
  x[e] = x[e] * coef;
}`,
    }),
);

export interface ClipScaleArgs {
  /** `(length)` floats, scaled in place. */
  x: GPUBuffer;
  length: number;
  /** Floats holding the total norm at `totalIndex` (a different buffer from `x`). */
  total: GPUBuffer;
  totalIndex: number;
  maxNorm: number;
}

/**
 * Records `x *= min(f32(maxNorm) / (total[totalIndex] + f32(1e-6)), 1)` in place (clip_grad_norm_'s
 * scaling): a NaN total makes every element NaN, a +Inf total multiplies by 0 (±Inf, NaN → NaN).
 */
export function recordClipScale(rec: Recorder, a: ClipScaleArgs): void {
  if (a.length <= 0) return;
  const groups = grid2d(a.length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const maxNorm = Math.fround(a.maxNorm);
  const uniforms = {
    length: a.length,
    gridX: groups[0],
    totalIndex: a.totalIndex,
    maxNorm,
    eps: Math.fround(1e-6),
    atInf: maxNorm / Number.POSITIVE_INFINITY,
  };
  rec.dispatch(clipScaleKernel(), [a.total, a.x], uniforms, groups);
}

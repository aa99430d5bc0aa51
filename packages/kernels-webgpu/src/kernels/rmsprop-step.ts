import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, flagBits, u32, wgslFlags } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 256;
const FLAGS = { MAXIMIZE: 1, DECAY: 2, CENTERED: 4, MOMENTUM: 8 } as const;
const NAMES = ['length', 'flags', 'gridX'] as const;
const SCALARS = ['wd', 'alpha', 'keep', 'eps', 'momentum', 'negLr', 'nan'] as const;
type RmspropUniform = (typeof NAMES)[number] | (typeof SCALARS)[number];
const UNIFORMS = [...u32(...NAMES), ...f32(...SCALARS)];

/**
 * One step of `torch.optim.RMSprop` (PyTorch 1.13's `_single_tensor_rmsprop`) in place on `(length)`
 * floats, one thread per element, the operations and roundings of `@recurrent/nn`'s CPU `RMSprop`:
 * `g = g + wd·p` (one FMA); `sq = f32(sq·alpha) + f32(f32(keep·g)·g)`; centered `ga = keep·g +
 * f32(ga·alpha)` (one FMA) and `avg = sqrt(sq − ga²)`, else `avg = sqrt(sq)`; `avg += eps`; momentum
 * `buf = f32(buf·momentum) + f32(g/avg)`, `p = p − lr·buf` (one FMA), else `p = p + f32(−lr·g)/avg`.
 * Flag bits select the options.
 * WGSL `fma` rounds once on GPUs with FMA; SwiftShader rounds the product first (an ulp off the CPU).
 */
export function rmspropStepKernel(): Kernel<RmspropUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'rmsprop-step',
  () => 'inplace',
  (_: unknown, variant) =>
    defineKernel({
      name: 'rmsprop-step',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'grad', access: 'read' },
        { name: 'param', access: 'read_write' },
        { name: 'squareAvg', access: 'read_write' },
        { name: 'buf', access: 'read_write' },
        { name: 'gradAvg', access: 'read_write' },
      ],
      body: /* wgsl */ `
${wgslFlags(FLAGS)}
${flatIndex(THREADS)}
fn on(flag: u32) -> bool { return (p.flags & flag) != 0u; }

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.length) { return; }
  let x = param[e];
  var g = select(grad[e], -grad[e], on(MAXIMIZE));
  if (on(DECAY)) { g = fma(p.wd, x, g); }
  // addcmul_: the rounded product, then the sum (a compiler may fuse the two)
  let sq = squareAvg[e] * p.alpha + (p.keep * g) * g;
  squareAvg[e] = sq;
  var avg: f32;
  if (on(CENTERED)) {
    let ga = fma(p.keep, g, gradAvg[e] * p.alpha);
    gradAvg[e] = ga;
    let variance = sq + (-ga) * ga; // addcmul(value=-1)
    // as the CPU: NaN (the uniform) when rounding makes it negative; WGSL leaves sqrt of a negative undefined
    avg = select(sqrt(variance), p.nan, variance < 0.0);
  } else {
    avg = sqrt(sq);
  }
  avg = avg + p.eps;
  if (on(MOMENTUM)) {
    let b = buf[e] * p.momentum + g / avg;
    buf[e] = b;
    param[e] = fma(p.negLr, b, x);
  } else {
    param[e] = x + (p.negLr * g) / avg;
  }
}`,
    }),
);

export interface RmspropStepArgs {
  /** `(length)` floats, updated in place. */
  param: GPUBuffer;
  /** `(length)` floats, read only. */
  grad: GPUBuffer;
  /** `(length)` floats (`square_avg`, zeros before the first step), updated in place. */
  squareAvg: GPUBuffer;
  /** `(length)` floats (`momentum_buffer`, zeros before the first step) when momentum > 0, else null. */
  momentumBuffer: GPUBuffer | null;
  /** `(length)` floats (`grad_avg`, zeros before the first step) when centered, else null. */
  gradAvg: GPUBuffer | null;
  length: number;
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/**
 * Records one RMSprop step of one parameter (the scalars rounded to float32 as the CPU `RMSprop` rounds
 * them). No first-step flag: the state starts as zeros, as the CPU creates it, and the step count is unused.
 */
export function recordRmspropStep(rec: Recorder, a: RmspropStepArgs): void {
  const withMomentum = a.momentum > 0;
  if (withMomentum && !a.momentumBuffer) {
    throw new Error('recordRmspropStep: momentum > 0 needs a momentumBuffer');
  }
  if (a.centered && !a.gradAvg) throw new Error('recordRmspropStep: centered needs gradAvg');
  const groups = grid2d(a.length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const flags = flagBits(FLAGS, {
    MAXIMIZE: a.maximize,
    DECAY: a.weightDecay !== 0,
    CENTERED: a.centered,
    MOMENTUM: withMomentum,
  });
  const fr = Math.fround;
  const uniforms = {
    length: a.length,
    flags,
    gridX: groups[0],
    wd: fr(a.weightDecay),
    alpha: fr(a.alpha),
    keep: fr(1 - a.alpha),
    eps: fr(a.eps),
    momentum: fr(a.momentum),
    negLr: fr(-a.lr),
    nan: Number.NaN,
  };
  const buf = (withMomentum && a.momentumBuffer) || rec.scratch(4);
  const gradAvg = (a.centered && a.gradAvg) || rec.scratch(4);
  rec.dispatch(rmspropStepKernel(), [a.grad, a.param, a.squareAvg, buf, gradAvg], uniforms, groups);
}

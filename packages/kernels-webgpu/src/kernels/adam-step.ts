import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, flagBits, u32, wgslFlags } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';
import { wgslMath } from '../wgsl/math.js';

const THREADS = 256;
const FLAGS = { MAXIMIZE: 1, DECOUPLED: 2, DECAY: 4, AMSGRAD: 8 } as const;
const NAMES = ['length', 'flags', 'gridX'] as const;
const SCALARS = ['shrink', 'wd', 'b1', 'a1', 'b2', 'a2', 'stepSize', 'bc2Sqrt', 'eps'] as const;
type AdamUniform = (typeof NAMES)[number] | (typeof SCALARS)[number];
const UNIFORMS = [...u32(...NAMES), ...f32(...SCALARS)];

/**
 * One step of `torch.optim.Adam` / `AdamW` (PyTorch 1.13's `_single_tensor_adam(w)`) in place on
 * `(length)` floats, one thread per element, the operations and roundings of `@recurrent/nn`'s CPU
 * `adamUpdate`: AdamW `p = f32(p·shrink)`, Adam `g = g + wd·p` (one FMA); `m = a1·g + f32(b1·m)` (one
 * FMA); `v = f32(v·b2) + f32(f32(a2·g)·g)`; amsgrad `vmax = max(vmax, v)` (NaN-propagating, as
 * `torch.maximum`); `p = p + f32(stepSize·m) / (sqrt(v)/bc2Sqrt + eps)`, each op rounded. The options are
 * flag bits, so one pipeline serves every combination.
 * WGSL `fma` rounds once on GPUs with FMA; SwiftShader rounds the product first (an ulp off the CPU).
 */
export function adamStepKernel(): Kernel<AdamUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'adam-step',
  () => 'inplace',
  (_: unknown, variant) =>
    defineKernel({
      name: 'adam-step',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'grad', access: 'read' },
        { name: 'param', access: 'read_write' },
        { name: 'expAvg', access: 'read_write' },
        { name: 'expAvgSq', access: 'read_write' },
        { name: 'maxExpAvgSq', access: 'read_write' },
      ],
      body: /* wgsl */ `
${wgslMath('is_nan')}
${wgslFlags(FLAGS)}
${flatIndex(THREADS)}
fn on(flag: u32) -> bool { return (p.flags & flag) != 0u; }

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.length) { return; }
  var x = param[e];
  var g = select(grad[e], -grad[e], on(MAXIMIZE));
  if (on(DECOUPLED)) { x = x * p.shrink; } else if (on(DECAY)) { g = fma(p.wd, x, g); }
  let m = fma(p.a1, g, expAvg[e] * p.b1);
  // addcmul_: the rounded product, then the sum (a compiler may fuse the two)
  let v = expAvgSq[e] * p.b2 + (p.a2 * g) * g;
  expAvg[e] = m;
  expAvgSq[e] = v;
  var second = v;
  if (on(AMSGRAD)) {
    let old = maxExpAvgSq[e];
    second = select(max(old, v), old + v, is_nan(old) || is_nan(v)); // WGSL max may drop a NaN
    maxExpAvgSq[e] = second;
  }
  let denom = sqrt(second) / p.bc2Sqrt + p.eps;
  param[e] = x + (p.stepSize * m) / denom;
}`,
    }),
);

export interface AdamStepArgs {
  /** `(length)` floats, updated in place. */
  param: GPUBuffer;
  /** `(length)` floats, read only. */
  grad: GPUBuffer;
  /** `(length)` floats (`exp_avg`, zeros before the first step), updated in place. */
  expAvg: GPUBuffer;
  /** `(length)` floats (`exp_avg_sq`, zeros before the first step), updated in place. */
  expAvgSq: GPUBuffer;
  /** amsgrad only (else null): `(length)` floats (`max_exp_avg_sq`, zeros before the first step). */
  maxExpAvgSq: GPUBuffer | null;
  length: number;
  /** The step count after this step's increment (1 at the first step), as the CPU's `step` after `+1`. */
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /**
   * AdamW: p ← p·f32(1 − lr·weightDecay) before the moments; Adam: weight decay added to the gradient.
   */
  decoupled: boolean;
}

/**
 * Records one Adam (or AdamW, `decoupled`) step of one parameter; the bias corrections and step size are
 * computed here in float64 and rounded to float32 as the CPU `adamUpdate` does.
 */
export function recordAdamStep(rec: Recorder, a: AdamStepArgs): void {
  if (a.amsgrad && !a.maxExpAvgSq) throw new Error('recordAdamStep: amsgrad needs maxExpAvgSq');
  const groups = grid2d(a.length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const fr = Math.fround;
  const step = fr(a.step); // the CPU's step is a float32 tensor
  const biasCorrection1 = 1 - a.beta1 ** step;
  const biasCorrection2 = 1 - a.beta2 ** step;
  const flags = flagBits(FLAGS, {
    MAXIMIZE: a.maximize,
    DECOUPLED: a.decoupled,
    DECAY: a.weightDecay !== 0,
    AMSGRAD: a.amsgrad,
  });
  const uniforms = {
    length: a.length,
    flags,
    gridX: groups[0],
    shrink: fr(1 - a.lr * a.weightDecay),
    wd: fr(a.weightDecay),
    b1: fr(a.beta1),
    a1: fr(1 - a.beta1),
    b2: fr(a.beta2),
    a2: fr(1 - a.beta2),
    stepSize: fr(-(a.lr / biasCorrection1)),
    bc2Sqrt: fr(Math.sqrt(biasCorrection2)),
    eps: fr(a.eps),
  };
  const max = (a.amsgrad && a.maxExpAvgSq) || rec.scratch(4);
  rec.dispatch(adamStepKernel(), [a.grad, a.param, a.expAvg, a.expAvgSq, max], uniforms, groups);
}

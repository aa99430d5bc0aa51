import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, flagBits, u32, wgslFlags } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 256;
const FLAGS = { MAXIMIZE: 1, DECAY: 2, MOMENTUM: 4, FIRST: 8, NESTEROV: 16 } as const;
const NAMES = ['length', 'flags', 'gridX'] as const;
const SCALARS = ['wd', 'momentum', 'keep', 'negLr'] as const;
type SgdUniform = (typeof NAMES)[number] | (typeof SCALARS)[number];
const UNIFORMS = [...u32(...NAMES), ...f32(...SCALARS)];

/**
 * One step of `torch.optim.SGD` (PyTorch 1.13's `_single_tensor_sgd`) in place on `(length)` floats, one
 * thread per element, the operations and roundings of `@recurrent/nn`'s CPU `SGD`: `d = g + wd·p` (one
 * FMA), `buf = d` at the first momentum step else `buf = keep·d + f32(momentum·buf)` (one FMA), `d = d +
 * momentum·buf` (nesterov) or `buf`, `p = p − lr·d` (one FMA). The options are flag bits, so one pipeline
 * serves every combination.
 * WGSL `fma` rounds once on GPUs with FMA; SwiftShader rounds the product first (an ulp off the CPU).
 */
export function sgdStepKernel(): Kernel<SgdUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'sgd-step',
  () => 'inplace',
  (_: unknown, variant) =>
    defineKernel({
      name: 'sgd-step',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'grad', access: 'read' },
        { name: 'param', access: 'read_write' },
        { name: 'buf', access: 'read_write' },
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
  var d = select(grad[e], -grad[e], on(MAXIMIZE));
  if (on(DECAY)) { d = fma(p.wd, x, d); }
  if (on(MOMENTUM)) {
    var b = d; // torch.clone(d_p) at the first step
    if (!on(FIRST)) { b = fma(p.keep, d, buf[e] * p.momentum); }
    buf[e] = b;
    d = select(b, fma(p.momentum, b, d), on(NESTEROV));
  }
  param[e] = fma(p.negLr, d, x);
}`,
    }),
);

export interface SgdStepArgs {
  /** `(length)` floats, updated in place. */
  param: GPUBuffer;
  /** `(length)` floats, read only. */
  grad: GPUBuffer;
  length: number;
  /** `(length)` floats (PyTorch's `momentum_buffer`), updated in place; null when momentum = 0. */
  momentumBuffer: GPUBuffer | null;
  /**
   * true at the parameter's first step with momentum: the buffer is set to d (torch.clone(d_p)) instead
   * of updated.
   */
  firstMomentumStep: boolean;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** Records one SGD step of one parameter (the scalars rounded to float32 as the CPU `SGD` rounds them). */
export function recordSgdStep(rec: Recorder, a: SgdStepArgs): void {
  const withMomentum = a.momentum !== 0;
  if (withMomentum && !a.momentumBuffer) {
    throw new Error('recordSgdStep: momentum ≠ 0 needs a momentumBuffer');
  }
  const groups = grid2d(a.length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const flags = flagBits(FLAGS, {
    MAXIMIZE: a.maximize,
    DECAY: a.weightDecay !== 0,
    MOMENTUM: withMomentum,
    FIRST: a.firstMomentumStep,
    NESTEROV: a.nesterov,
  });
  const uniforms = {
    length: a.length,
    flags,
    gridX: groups[0],
    wd: Math.fround(a.weightDecay),
    momentum: Math.fround(a.momentum),
    keep: Math.fround(1 - a.dampening),
    negLr: Math.fround(-a.lr),
  };
  const buf = (withMomentum && a.momentumBuffer) || rec.scratch(4);
  rec.dispatch(sgdStepKernel(), [a.grad, a.param, buf], uniforms, groups);
}

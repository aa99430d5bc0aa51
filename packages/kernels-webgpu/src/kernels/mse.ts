import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, u32, wgslFlags } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 256;
const NAMES = ['length', 'mode', 'gridX'] as const;
type MseUniform = (typeof NAMES)[number] | 'n';
const UNIFORMS = [...u32(...NAMES), ...f32('n')];
/** The `mode` uniform. */
const MODE = { NONE: 0, SUM: 1, MEAN: 2 } as const;

/** How a loss reduces its per-element values (PyTorch's `reduction`). */
export type LossReduction = 'mean' | 'sum' | 'none';

/** The `mode` uniform of a reduction. */
export function reductionMode(r: LossReduction): number {
  return r === 'none' ? MODE.NONE : r === 'sum' ? MODE.SUM : MODE.MEAN;
}

type Pass = 'forward' | 'reduce' | 'backward';
const BODIES: Record<Pass, string> = {
  // 'none': (x − t)², each op rounded as the CPU's sub then mul
  forward: `
  if (e >= p.length) { return; }
  let d = input[e] - tgt[e];
  out[e] = d * d;`,
  // 'sum'/'mean' in one workgroup: strided partial sums, then a tree (the CPU adds in float64)
  reduce: `
  var acc = 0.0;
  for (var k = li; k < p.length; k += ${THREADS}u) {
    let d = input[k] - tgt[k];
    acc += d * d;
  }
  red[li] = acc;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[0] = select(red[0], red[0] / p.n, p.mode == MEAN); }`,
  // v = up·(x − t) (up = g / n for the mean), then v + v: MulBackward's two equal terms, exact
  backward: `
  if (e >= p.length) { return; }
  var up = gradOut[select(0u, e, p.mode == NONE)];
  if (p.mode == MEAN) { up = up / p.n; }
  let v = up * (input[e] - tgt[e]);
  gradIn[e] = v + v;`,
};

/**
 * The mean squared error and its gradient as `meanSquaredError` / `mseLoss` in `@recurrent/nn`'s loss.ts:
 * `forward` writes `(x − t)²` per element ('none'); `reduce` their sum (÷ n for the mean) in one
 * workgroup; `backward` `gradIn = 2·(up·(x − t))` with `up = gradOut[e]` ('none'), `gradOut[0]` ('sum')
 * or `gradOut[0] / n` ('mean'). NaN and ±Inf propagate through the arithmetic.
 */
export const mseKernel: (pass: Pass) => Kernel<MseUniform> = memoizeKernel(
  'mse',
  (pass: Pass) => pass,
  (pass, variant) =>
    defineKernel({
      name: 'mse',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'input', access: 'read' },
        { name: 'tgt', access: 'read' },
        ...(pass === 'backward' ? [{ name: 'gradOut', access: 'read' } as const] : []),
        { name: pass === 'backward' ? 'gradIn' : 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${wgslFlags(MODE)}
${flatIndex(THREADS)}
${pass === 'reduce' ? `var<workgroup> red: array<f32, ${THREADS}>;` : ''}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);${BODIES[pass]}
}`,
    }),
);

export interface MseArgs {
  /** `(length)` float32. */
  input: GPUBuffer;
  /** `(length)` float32 (the input's shape; no broadcasting). */
  target: GPUBuffer;
  length: number;
  reduction: LossReduction;
  /** 'mean'/'sum': 1 element; 'none': `length` elements. */
  out: GPUBuffer;
}

/** mean/sum of (input − target)² (out 1 element) or elementwise (out `length`), as loss.ts's meanSquaredError/mseLoss. */
export function recordMse(rec: Recorder, a: MseArgs): void {
  const none = a.reduction === 'none';
  const groups = none
    ? grid2d(a.length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension)
    : ([1, 1, 1] as const);
  const uniforms = { length: a.length, mode: reductionMode(a.reduction), gridX: groups[0], n: a.length };
  rec.dispatch(mseKernel(none ? 'forward' : 'reduce'), [a.input, a.target, a.out], uniforms, groups);
}

export interface MseBackwardArgs {
  input: GPUBuffer;
  target: GPUBuffer;
  length: number;
  reduction: LossReduction;
  /** The upstream gradient: 1 element ('mean'/'sum') or `length` ('none'). */
  gradOut: GPUBuffer;
  /** `(length)` float32, written: d loss / d input. */
  gradIn: GPUBuffer;
}

/** gradIn = up · 2·(input − target) (up ÷ length for the mean), as loss.ts's MseLossBackward0 computes it. */
export function recordMseBackward(rec: Recorder, a: MseBackwardArgs): void {
  const groups = grid2d(a.length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const uniforms = { length: a.length, mode: reductionMode(a.reduction), gridX: groups[0], n: a.length };
  rec.dispatch(mseKernel('backward'), [a.input, a.target, a.gradOut, a.gradIn], uniforms, groups);
}

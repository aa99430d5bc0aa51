import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, u32, wgslFlags } from '../wgsl/bindings.js';
import { grid2d } from '../wgsl/indexing.js';
import { wgslMath } from '../wgsl/math.js';
import { type LossReduction, reductionMode } from './mse.js';

const THREADS = 64;
const NAMES = ['rows', 'classes', 'gridX', 'ignore', 'mode', 'flags'] as const;
type CrossEntropyUniform = (typeof NAMES)[number] | 'keepNll' | 'lsOverC' | 'nan';
const UNIFORMS = [...u32(...NAMES), ...f32('keepNll', 'lsOverC', 'nan')];
const CONSTS = { NONE: 0, SUM: 1, MEAN: 2, WEIGHTED: 1, SMOOTH: 2 } as const;

const COMMON = /* wgsl */ `
${wgslMath('is_nan')}
${wgslFlags(CONSTS)}
var<workgroup> red: array<f32, ${THREADS}>;
fn tree_sum(li: u32, v: f32) -> f32 {
  workgroupBarrier(); // red may still be read by the previous reduction
  red[li] = v;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}
// loss.ts: nll·(1 − ls) + smooth·(ls / C), each product rounded
fn combine(nll: f32, sm: f32) -> f32 {
  if ((p.flags & SMOOTH) == 0u) { return nll; }
  let a = nll * p.keepNll;
  let b = sm * p.lsOverC;
  return a + b;
}`;

// One workgroup per row: the row's max (NaN wins) and log Σ exp(x − max) as softmax.ts; a row whose max
// is not finite (NaN, +Inf, all −Inf) has NaN log-probabilities, as the CPU's logSoftmax.
const ROW = /* wgsl */ `
fn finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
fn neg_inf(v: f32) -> bool { return bitcast<u32>(v) == 0xff800000u; }
fn wt(c: u32) -> f32 { if ((p.flags & WEIGHTED) != 0u) { return weight[c]; } return 1.0; }
var<private> mx: f32;
var<private> lse: f32;
fn row_stats(base: u32, li: u32) {
  var m = logits[base];
  for (var k = li; k < p.classes; k += ${THREADS}u) {
    let v = logits[base + k];
    if (!is_nan(m) && (is_nan(v) || v > m)) { m = v; }
  }
  red[li] = m;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s && !is_nan(red[li]) && (is_nan(red[li + s]) || red[li + s] > red[li])) { red[li] = red[li + s]; }
    workgroupBarrier();
  }
  mx = workgroupUniformLoad(&red[0]);
  var sum = 0.0;
  for (var k = li; k < p.classes; k += ${THREADS}u) {
    let v = logits[base + k];
    if (!neg_inf(v)) { sum += exp(v - mx); }
  }
  lse = log(tree_sum(li, sum));
}
fn logp(at: u32) -> f32 { return select(p.nan, (logits[at] - mx) - lse, finite(mx)); }
// kept: the target is not ignoreIndex; valid: it is a class (a kept invalid target makes the row NaN)
fn kept(t: i32) -> bool { return bitcast<u32>(t) != p.ignore; }
fn valid(t: i32) -> bool { return t >= 0 && u32(t) < p.classes; }`;

type Pass = 'rows' | 'reduce' | 'backward';
const BODIES: Record<Pass, string> = {
  // per row: −w[t]·logp[t] (0 if ignored), the smoothing term −Σ_c w[c]·logp[c] (× keep), the kept weight;
  // 'none' combines them into out[row], 'sum'/'mean' leave them in part[3·row …] for 'reduce'
  rows: `
  if (row == 0u && li == 0u && p.mode == NONE) { denom[0] = 1.0; }
  let base = row * p.classes;
  row_stats(base, li);
  var sm = 0.0;
  if ((p.flags & SMOOTH) != 0u) {
    var acc = 0.0;
    for (var k = li; k < p.classes; k += ${THREADS}u) { acc += logp(base + k) * wt(k); }
    sm = tree_sum(li, acc);
  }
  if (li != 0u) { return; }
  let t = targets[row];
  var nll = 0.0;
  var w = 0.0;
  if (kept(t)) {
    if (valid(t)) { w = wt(u32(t)); nll = -w * logp(base + u32(t)); } else { w = p.nan; nll = p.nan; }
  }
  sm = -sm * select(0.0, 1.0, kept(t));
  if (p.mode == NONE) { part[row] = combine(nll, sm); return; }
  part[3u * row] = nll;
  part[3u * row + 1u] = sm;
  part[3u * row + 2u] = w;`,
  // one workgroup: Σ nll, Σ smooth, Σ kept weight over the rows; the mean divides both terms by the last
  reduce: `
  var acc = vec3f(0.0);
  for (var r = li; r < p.rows; r += ${THREADS}u) { acc += vec3f(part[3u * r], part[3u * r + 1u], part[3u * r + 2u]); }
  let n = tree_sum(li, acc.x);
  let s = tree_sum(li, acc.y);
  let w = tree_sum(li, acc.z);
  if (li != 0u) { return; }
  if (p.mode == MEAN) {
    // all rows ignored: 0 / 0, NaN as PyTorch (a zero divisor is not left to the hardware)
    let zero = w == 0.0;
    out[0] = select(combine(n / w, s / w), p.nan, zero);
    denom[0] = w;
  } else {
    out[0] = combine(n, s);
    denom[0] = 1.0;
  }`,
  // the chain of loss.ts's autograd: g_c = [c = t]·(−w[t]·un) − (us·keep)·w[c], then LogSoftmaxBackward0
  // gradIn_c = g_c − exp(logp_c)·Σ g (the CPU rounds that once, so one fma)
  backward: `
  let base = row * p.classes;
  row_stats(base, li);
  let t = targets[row];
  let up = gradOut[select(0u, row, p.mode == NONE)];
  var un = up * p.keepNll;
  var us = up * p.lsOverC;
  if (p.mode == MEAN) { un = un / denom[0]; us = us / denom[0]; }
  let bad = kept(t) && !valid(t); // a NaN row, as its loss
  var a = 0.0;
  if (kept(t) && valid(t) && wt(u32(t)) != 0.0) { a = -wt(u32(t)) * un; }
  let ks = us * select(0.0, 1.0, kept(t));
  let smoothing = (p.flags & SMOOTH) != 0u;
  var acc = 0.0;
  for (var k = li; k < p.classes; k += ${THREADS}u) {
    acc += select(0.0, -ks * wt(k), smoothing) + select(0.0, a, i32(k) == t);
  }
  let total = tree_sum(li, acc);
  for (var k = li; k < p.classes; k += ${THREADS}u) {
    let g = select(0.0, -ks * wt(k), smoothing) + select(0.0, a, i32(k) == t);
    let lp = logp(base + k);
    // exp of NaN or −Inf is left to no hardware: NaN, 0
    let e = select(select(exp(lp), 0.0, neg_inf(lp)), lp, is_nan(lp));
    gradIn[base + k] = select(fma(-e, total, g), p.nan, bad);
  }`,
};

const IN = [
  { name: 'logits', access: 'read' },
  { name: 'targets', access: 'read', type: 'i32' },
  { name: 'weight', access: 'read' },
] as const;
const BINDINGS = {
  rows: [...IN, { name: 'part', access: 'read_write' }, { name: 'denom', access: 'read_write' }],
  reduce: [
    { name: 'part', access: 'read' },
    { name: 'out', access: 'read_write' },
    { name: 'denom', access: 'read_write' },
  ],
  backward: [
    ...IN,
    { name: 'gradOut', access: 'read' },
    { name: 'denom', access: 'read' },
    { name: 'gradIn', access: 'read_write' },
  ],
} as const;

/**
 * Cross-entropy with int32 class indices over `(rows, classes)` logits, as `crossEntropyLoss` in
 * `@recurrent/nn`'s loss.ts (logSoftmax, then nll, plus label smoothing): `rows` (one workgroup per row),
 * `reduce` (one workgroup, any rows count), `backward` (one workgroup per row). Row sums run as float32
 * trees where the CPU adds in float64.
 */
export const crossEntropyKernel: (pass: Pass) => Kernel<CrossEntropyUniform> = memoizeKernel(
  'cross-entropy',
  (pass: Pass) => pass,
  (pass, variant) =>
    defineKernel({
      name: 'cross-entropy',
      variant,
      uniforms: UNIFORMS,
      bindings: BINDINGS[pass],
      body: /* wgsl */ `
${COMMON}
${pass === 'reduce' ? '' : ROW}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  ${pass === 'reduce' ? '' : 'let row = wg.y * p.gridX + wg.x;\n  if (row >= p.rows) { return; } // the same for the whole workgroup'}${BODIES[pass]}
}`,
    }),
);

export interface CrossEntropyArgs {
  /** `(rows, classes)` float32. */
  logits: GPUBuffer;
  /** `(rows)` int32 class indices; an index outside [0, classes) that is not ignoreIndex gives a NaN loss (no readback to check). */
  targets: GPUBuffer;
  rows: number;
  /** At least 1. */
  classes: number;
  /** `(classes)` float32 class weights, or null. */
  weight: GPUBuffer | null;
  ignoreIndex: number;
  /** In [0, 1]. */
  labelSmoothing: number;
  reduction: LossReduction;
  /** 'mean'/'sum': 1 element; 'none': rows elements. */
  out: GPUBuffer;
  /**
   * 1 element: the divisor the backward needs (mean: Σ weight[target] over kept rows, the smoothing term's
   * divisor too, as loss.ts; sum/none: 1). Written by the forward.
   */
  denom: GPUBuffer;
}

function uniformsOf(rec: Recorder, a: Omit<CrossEntropyArgs, 'out'>) {
  const groups = grid2d(a.rows, 1, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const ls = a.labelSmoothing;
  const uniforms = {
    ...{ rows: a.rows, classes: a.classes, gridX: groups[0], ignore: a.ignoreIndex >>> 0 },
    ...{
      mode: reductionMode(a.reduction),
      flags: (a.weight ? CONSTS.WEIGHTED : 0) | (ls > 0 ? CONSTS.SMOOTH : 0),
    },
    // loss.ts multiplies by the doubles 1 − ls and ls / C; float32 here
    ...{ keepNll: 1 - ls, lsOverC: ls / a.classes, nan: Number.NaN },
  };
  return { groups, uniforms, weight: a.weight ?? rec.scratch(4) };
}

/**
 * The forward: per row a max-stable log-softmax, −w[t]·logp[t] (0 for ignored rows), label smoothing as
 * loss.ts, then for 'mean'/'sum' the reduction in one single-workgroup pass (per-row partials in a
 * scratch buffer). Also writes `denom`.
 */
export function recordCrossEntropy(rec: Recorder, a: CrossEntropyArgs): void {
  const { groups, uniforms, weight } = uniformsOf(rec, a);
  const none = a.reduction === 'none';
  const part = none ? a.out : rec.scratch(Math.max(4, a.rows * 12), 'cross-entropy partials');
  rec.dispatch(crossEntropyKernel('rows'), [a.logits, a.targets, weight, part, a.denom], uniforms, groups);
  if (!none) rec.dispatch(crossEntropyKernel('reduce'), [part, a.out, a.denom], uniforms, [1, 1, 1]);
}

export interface CrossEntropyBackwardArgs extends Omit<CrossEntropyArgs, 'out'> {
  /** The upstream gradient: 1 element ('mean'/'sum') or rows ('none'). */
  gradOut: GPUBuffer;
  /** `(rows, classes)`, written: d loss / d logits. */
  gradIn: GPUBuffer;
}

/**
 * The backward, loss.ts's autograd chain: `gradIn[r, c] = g_c − softmax_c·Σ_c' g_c'` with
 * `g_c = [c = t]·(−w[t]·up·(1 − ls)) − up·(ls / C)·keep·w[c]` (`up` ÷ `denom` for the mean); ignored rows
 * have g = 0, so 0 gradients. Reads `denom` written by the forward (same recorder or an earlier submit).
 */
export function recordCrossEntropyBackward(rec: Recorder, a: CrossEntropyBackwardArgs): void {
  const { groups, uniforms, weight } = uniformsOf(rec, a);
  const buffers = [a.logits, a.targets, weight, a.gradOut, a.denom, a.gradIn];
  rec.dispatch(crossEntropyKernel('backward'), buffers, uniforms, groups);
}

import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, u32 } from '../wgsl/bindings.js';
import { grid2d } from '../wgsl/indexing.js';
import { wgslMath } from '../wgsl/math.js';

const THREADS = 64;
const NAMES = ['rows', 'size', 'gridX'] as const;
type SoftmaxUniform = (typeof NAMES)[number] | 'nan';
const UNIFORMS = [...u32(...NAMES), ...f32('nan')];

/** `softmax`: `exp(x − max) / Σ exp(x − max)`; `logSoftmax`: `x − max − log Σ exp(x − max)`. */
export type SoftmaxKind = 'softmax' | 'logSoftmax';

/**
 * Softmax or log-softmax of every row of `(rows, size)`, one workgroup per row: the row's max (a tree in
 * workgroup memory), then Σ exp(x − max), then the outputs. Subtracting the max keeps every exp argument
 * ≤ 0 (no overflow; the sum is ≥ 1, so its log is finite). As PyTorch: a row whose max is not finite
 * (it holds a NaN or +Inf, or is all −Inf) is all NaN; a −Inf entry gives 0 (softmax) or −Inf. Both are
 * decided on the bits, not left to `exp` of infinities, which WGSL leaves undefined. NaN comes from the
 * `nan` uniform (a NaN constant would not compile).
 */
export const softmaxKernel: (kind: SoftmaxKind) => Kernel<SoftmaxUniform> = memoizeKernel(
  'softmax',
  (kind: SoftmaxKind) => kind,
  (kind, variant) =>
    defineKernel({
      name: 'softmax',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'x', access: 'read' },
        { name: 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${wgslMath('is_nan')}
var<workgroup> red: array<f32, ${THREADS}>;

fn finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
fn neg_inf(v: f32) -> bool { return bitcast<u32>(v) == 0xff800000u; }

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.y * p.gridX + wg.x;
  if (row >= p.rows) { return; } // the same for the whole workgroup
  let base = row * p.size;
  // the max, NaN winning over everything
  var m = x[base];
  for (var k = li; k < p.size; k += ${THREADS}u) {
    let v = x[base + k];
    if (!is_nan(m) && (is_nan(v) || v > m)) { m = v; }
  }
  red[li] = m;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) {
      let a = red[li];
      let b = red[li + s];
      if (!is_nan(a) && (is_nan(b) || b > a)) { red[li] = b; }
    }
    workgroupBarrier();
  }
  let mx = workgroupUniformLoad(&red[0]); // uniform, so the early return below keeps barriers legal
  if (!finite(mx)) {
    for (var k = li; k < p.size; k += ${THREADS}u) { out[base + k] = p.nan; }
    return;
  }
  var sum = 0.0;
  for (var k = li; k < p.size; k += ${THREADS}u) {
    let v = x[base + k];
    if (!neg_inf(v)) { sum += exp(v - mx); }
  }
  red[li] = sum;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  let total = red[0]; // read after the last barrier
  ${
    kind === 'softmax'
      ? `for (var k = li; k < p.size; k += ${THREADS}u) {
    let v = x[base + k];
    out[base + k] = select(exp(v - mx) / total, 0.0, neg_inf(v));
  }`
      : `let logTotal = log(total);
  for (var k = li; k < p.size; k += ${THREADS}u) {
    out[base + k] = (x[base + k] - mx) - logTotal;
  }`
  }
}`,
    }),
);

export interface SoftmaxArgs {
  kind: SoftmaxKind;
  /** `(rows, size)` floats. */
  x: GPUBuffer;
  /** `(rows, size)` floats (not `x`). */
  out: GPUBuffer;
  rows: number;
  /** Elements per row, at least 1. */
  size: number;
}

/** Records softmax or log-softmax over every row (one workgroup per row). */
export function recordSoftmax(rec: Recorder, a: SoftmaxArgs): void {
  const groups = grid2d(a.rows, 1, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const uniforms = { rows: a.rows, size: a.size, gridX: groups[0], nan: Number.NaN };
  rec.dispatch(softmaxKernel(a.kind), [a.x, a.out], uniforms, groups);
}

import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { u32 } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 64;
const NAMES = ['rows', 'cols', 'gridX'] as const;
type ColumnSumUniform = (typeof NAMES)[number];
const UNIFORMS = u32(...NAMES);

/**
 * `out[j] = Σ_i x[i, j]` over `(rows, cols)`, one thread per column adding rows 0, 1, … in order (the
 * bias gradient of a Linear). The CPU (`linearBackward`) accumulates in float64 and rounds once; here
 * Neumaier's compensated sum carries the rounding error of each float32 add in `c`, so `s + c` is that
 * float64 sum to about 2⁻⁴⁵ relative (the same float32 nearly always). A non-finite `s` (an Inf or NaN
 * row, or overflow) is returned as is, where `c` would be NaN from Inf − Inf.
 */
export function columnSumKernel(): Kernel<ColumnSumUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'column-sum',
  () => 'sequential',
  (_: unknown, variant) =>
    defineKernel({
      name: 'column-sum',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'x', access: 'read' },
        { name: 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${flatIndex(THREADS)}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let j = flat_index(wg, li);
  if (j >= p.cols) { return; }
  var s = 0.0;
  var c = 0.0;
  for (var i = 0u; i < p.rows; i++) {
    let v = x[i * p.cols + j];
    let t = s + v;
    // the exact error of s + v (Neumaier: subtract the larger operand first)
    c += select((v - t) + s, (s - t) + v, abs(s) >= abs(v));
    s = t;
  }
  let finite = (bitcast<u32>(s) & 0x7f800000u) != 0x7f800000u;
  out[j] = select(s, s + c, finite);
}`,
    }),
);

export interface ColumnSumArgs {
  /** `(rows, cols)` float32. */
  x: GPUBuffer;
  rows: number;
  cols: number;
  /** `(cols)` float32, written (0 where `rows` is 0). */
  out: GPUBuffer;
}

/** Records `out = Σ_rows x` (PyTorch's `sum(x, 0)`), one thread per column. */
export function recordColumnSum(rec: Recorder, a: ColumnSumArgs): void {
  const groups = grid2d(a.cols, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  rec.dispatch(columnSumKernel(), [a.x, a.out], { rows: a.rows, cols: a.cols, gridX: groups[0] }, groups);
}

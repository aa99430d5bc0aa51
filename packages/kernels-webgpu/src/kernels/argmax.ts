import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { u32 } from '../wgsl/bindings.js';
import { grid2d } from '../wgsl/indexing.js';
import { wgslMath } from '../wgsl/math.js';

const THREADS = 64;
const NAMES = ['rows', 'size', 'gridX'] as const;
type ArgmaxUniform = (typeof NAMES)[number];
const UNIFORMS = u32(...NAMES);

/**
 * `out[r] = argmax(x[r·size … r·size + size))`: the index of each row's largest element as int32, one
 * workgroup per row (threads stride over the row, then a tree in workgroup memory). PyTorch's order: a
 * NaN beats every number (the first NaN wins) and ties keep the first index, so the result does not
 * depend on how the row is split among threads. Rows must not be empty.
 */
export function argmaxKernel(): Kernel<ArgmaxUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'argmax',
  () => 'lastdim',
  (_: unknown, variant) =>
    defineKernel({
      name: 'argmax',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'x', access: 'read' },
        { name: 'out', access: 'read_write', type: 'i32' },
      ],
      body: /* wgsl */ `
${wgslMath('is_nan')}
const NONE = 0xffffffffu;
var<workgroup> bestV: array<f32, ${THREADS}>;
var<workgroup> bestI: array<u32, ${THREADS}>;

// (v at i) beats (w at j): NaN beats numbers, larger beats smaller, and among equals the lower index
fn beats(v: f32, i: u32, w: f32, j: u32) -> bool {
  if (j == NONE) { return i != NONE; }
  if (i == NONE) { return false; }
  let vn = is_nan(v);
  let wn = is_nan(w);
  if (vn || wn) { return vn && (!wn || i < j); }
  return v > w || (v == w && i < j);
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.y * p.gridX + wg.x;
  if (row >= p.rows) { return; } // the same for the whole workgroup
  let base = row * p.size;
  var bv = 0.0;
  var bi = NONE;
  for (var k = li; k < p.size; k += ${THREADS}u) {
    let v = x[base + k];
    if (beats(v, k, bv, bi)) { bv = v; bi = k; }
  }
  bestV[li] = bv;
  bestI[li] = bi;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s && beats(bestV[li + s], bestI[li + s], bestV[li], bestI[li])) {
      bestV[li] = bestV[li + s];
      bestI[li] = bestI[li + s];
    }
    workgroupBarrier();
  }
  if (li == 0u) { out[row] = i32(bestI[0]); }
}`,
    }),
);

export interface ArgmaxArgs {
  /** `(rows, size)` floats. */
  x: GPUBuffer;
  /** `(rows)` int32. */
  out: GPUBuffer;
  rows: number;
  /** Elements per row, at least 1. */
  size: number;
}

/** Records the argmax of every row (one workgroup per row). */
export function recordArgmax(rec: Recorder, a: ArgmaxArgs): void {
  const groups = grid2d(a.rows, 1, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  rec.dispatch(argmaxKernel(), [a.x, a.out], { rows: a.rows, size: a.size, gridX: groups[0] }, groups);
}

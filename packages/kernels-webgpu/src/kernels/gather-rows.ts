import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, u32 } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 256;
const NAMES = ['count', 'dim', 'rows', 'gridX'] as const;
type GatherUniform = (typeof NAMES)[number] | 'fill';
const UNIFORMS = [...u32(...NAMES), ...f32('fill')];

/**
 * An embedding lookup: `out[i, j] = table[ids[i], j]` for `count` int32 ids into a `(rows, dim)` table,
 * one thread per output element. An id outside [0, rows) cannot throw on the GPU (checking would need a
 * readback), so its output row is `fill`: NaN for an embedding (visible downstream, never a silently
 * valid row), the padding value when packed sequences are unpacked (id −1).
 */
export function gatherRowsKernel(): Kernel<GatherUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'gather-rows',
  () => 'i32',
  (_: unknown, variant) =>
    defineKernel({
      name: 'gather-rows',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'ids', access: 'read', type: 'i32' },
        { name: 'table', access: 'read' },
        { name: 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${flatIndex(THREADS)}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.count * p.dim) { return; }
  let id = ids[e / p.dim];
  if (id < 0 || u32(id) >= p.rows) { out[e] = p.fill; return; }
  out[e] = table[u32(id) * p.dim + e % p.dim];
}`,
    }),
);

export interface GatherRowsArgs {
  /** `(count)` int32 row indices. */
  ids: GPUBuffer;
  /** `(rows, dim)` floats. */
  table: GPUBuffer;
  /** `(count, dim)` floats. */
  out: GPUBuffer;
  count: number;
  rows: number;
  dim: number;
  /** The value of rows whose id is out of range (−1 included). Default NaN. */
  fill?: number;
}

/** Records the lookup of `count` rows (`fill` rows, NaN by default, for ids out of range). */
export function recordGatherRows(rec: Recorder, a: GatherRowsArgs): void {
  const groups = grid2d(a.count * a.dim, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const { count, dim, rows } = a;
  const uniforms = { count, dim, rows, gridX: groups[0], fill: a.fill ?? Number.NaN };
  rec.dispatch(gatherRowsKernel(), [a.ids, a.table, a.out], uniforms, groups);
}

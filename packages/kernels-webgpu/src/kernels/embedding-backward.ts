import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { u32 } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 64;
const NAMES = ['count', 'rows', 'dim', 'pad', 'gridX'] as const;
type EmbeddingBackwardUniform = (typeof NAMES)[number];
const UNIFORMS = u32(...NAMES);
/** `pad` when there is no padding row: no row of a table has this index. */
const NO_PAD = 0xffffffff;

/**
 * The embedding's weight gradient without atomics: one thread per element (row, j) of `out` `(rows, dim)`
 * adds `grad[i, j]` for every i with `ids[i] = row`, i in increasing order, in float32 from 0: the CPU's
 * `embeddingBackward` scatter-add order, so the sums are bit-identical. The `pad` row is 0; an index
 * out of [0, rows) matches no row. Cost rows·dim·count reads of `ids` (broadcast within a workgroup).
 */
export function embeddingBackwardKernel(): Kernel<EmbeddingBackwardUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'embedding-backward',
  () => 'ordered',
  (_: unknown, variant) =>
    defineKernel({
      name: 'embedding-backward',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'ids', access: 'read', type: 'i32' },
        { name: 'grad', access: 'read' },
        { name: 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${flatIndex(THREADS)}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.rows * p.dim) { return; }
  let row = e / p.dim;
  let j = e % p.dim;
  var acc = 0.0;
  if (row != p.pad) {
    for (var i = 0u; i < p.count; i++) {
      // a negative index reads as a huge u32: it matches no row
      if (bitcast<u32>(ids[i]) == row) { acc = acc + grad[i * p.dim + j]; }
    }
  }
  out[e] = acc;
}`,
    }),
);

export interface EmbeddingBackwardArgs {
  /** `(count)` int32 indices. */
  ids: GPUBuffer;
  count: number;
  /** `(count, dim)` float32 upstream gradient. */
  grad: GPUBuffer;
  /** `(rows, dim)` float32, WRITTEN (not accumulated): Σ of the grad rows whose index is that row; the row `paddingIdx` stays 0. */
  out: GPUBuffer;
  rows: number;
  dim: number;
  /** The padding row in [0, rows), or null. */
  paddingIdx: number | null;
}

/** Records the embedding weight gradient `(rows, dim)` (deterministic, no atomics). */
export function recordEmbeddingBackward(rec: Recorder, a: EmbeddingBackwardArgs): void {
  const groups = grid2d(a.rows * a.dim, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const { count, rows, dim } = a;
  const uniforms = { count, rows, dim, pad: a.paddingIdx ?? NO_PAD, gridX: groups[0] };
  rec.dispatch(embeddingBackwardKernel(), [a.ids, a.grad, a.out], uniforms, groups);
}

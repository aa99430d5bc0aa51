import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, u32 } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 256;
const NAMES = ['T', 'N', 'width', 'batchFirst', 'zero', 'gridX'] as const;
type DropoutUniform = (typeof NAMES)[number] | 'scale';
const UNIFORMS = [...u32(...NAMES), ...f32('scale')];

/**
 * Inverted dropout in place on a layer's output `(T·N, width)` rows in the tensor's order:
 * `out[e] *= mask[(t·N + n)·width + j] · scale`, the mask being in sequence-first order (PyTorch's draw
 * order) whatever the output's order. `zero` = 1 multiplies by 0 instead (p = 1: PyTorch draws nothing and
 * multiplies, so ±Inf and NaN become NaN).
 */
export function dropoutKernel(): Kernel<DropoutUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'dropout',
  () => 'inplace',
  (_: unknown, variant) =>
    defineKernel({
      name: 'dropout',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'mask', access: 'read' },
        { name: 'out', access: 'read_write' },
      ],
      body: /* wgsl */ `
${flatIndex(THREADS)}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.T * p.N * p.width) { return; }
  // a literal 0.0 could be folded into a store of 0; the uniform (0 here) keeps Inf·0 = NaN
  if (p.zero != 0u) { out[e] = out[e] * p.scale; return; }
  let row = e / p.width;
  let j = e % p.width;
  var t = row / p.N;
  var n = row % p.N;
  if (p.batchFirst != 0u) { t = row % p.T; n = row / p.T; }
  out[e] = out[e] * mask[(t * p.N + n) * p.width + j] * p.scale;
}`,
    }),
);

export interface DropoutArgs {
  out: GPUBuffer;
  /** `(T, N, width)` of 0/1, or null with `zero`. */
  mask: GPUBuffer | null;
  T: number;
  N: number;
  width: number;
  batchFirst: boolean;
  /** 1 / (1 − p); 0 with `zero`. */
  scale: number;
  zero: boolean;
}

export function recordDropout(rec: Recorder, a: DropoutArgs): void {
  const total = a.T * a.N * a.width;
  const groups = grid2d(total, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  const { T, N, width, scale } = a;
  const uniforms = {
    T,
    N,
    width,
    batchFirst: a.batchFirst ? 1 : 0,
    zero: a.zero ? 1 : 0,
    gridX: groups[0],
    scale,
  };
  rec.dispatch(dropoutKernel(), [a.mask ?? rec.scratch(4), a.out], uniforms, groups);
}

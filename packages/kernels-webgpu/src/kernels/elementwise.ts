import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { f32, type StorageBinding, u32 } from '../wgsl/bindings.js';
import { flatIndex, grid2d } from '../wgsl/indexing.js';

const THREADS = 256;
const NAMES = ['length', 'gridX'] as const;
type ElementwiseUniform = (typeof NAMES)[number] | 's';
const UNIFORMS = [...u32(...NAMES), ...f32('s')];

/** The elementwise operations; `s` is the one scalar uniform (the value, alpha or scale). */
export type ElementwiseOp = 'fill' | 'add' | 'addInPlace' | 'scale';

const OPS: Record<ElementwiseOp, { bindings: StorageBinding[]; body: string }> = {
  fill: { bindings: [{ name: 'out', access: 'read_write' }], body: 'out[e] = p.s;' },
  add: {
    bindings: [
      { name: 'a', access: 'read' },
      { name: 'b', access: 'read' },
      { name: 'out', access: 'read_write' },
    ],
    body: 'out[e] = fma(p.s, b[e], a[e]);',
  },
  addInPlace: {
    bindings: [
      { name: 'x', access: 'read' },
      { name: 'acc', access: 'read_write' },
    ],
    body: 'acc[e] = fma(p.s, x[e], acc[e]);',
  },
  // s = 0 is a uniform, not a literal, so ±Inf·0 and NaN·0 stay NaN
  scale: { bindings: [{ name: 'x', access: 'read_write' }], body: 'x[e] = x[e] * p.s;' },
};

/**
 * One elementwise pass over `length` floats, 256 per workgroup on a 2-D grid (any length): `fill` writes
 * `s`; `add` is `out = fma(s, b, a)` (`a + alpha·b` rounded once, PyTorch's `add(b, alpha)`); `addInPlace`
 * is `acc = fma(s, x, acc)`; `scale` is `x = x·s`. Buffers in the order of the op's bindings.
 */
export const elementwiseKernel: (op: ElementwiseOp) => Kernel<ElementwiseUniform> = memoizeKernel(
  'elementwise',
  (op: ElementwiseOp) => op,
  (op, variant) =>
    defineKernel({
      name: 'elementwise',
      variant,
      uniforms: UNIFORMS,
      bindings: OPS[op].bindings,
      body: /* wgsl */ `
${flatIndex(THREADS)}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = flat_index(wg, li);
  if (e >= p.length) { return; }
  ${OPS[op].body}
}`,
    }),
);

function record(rec: Recorder, op: ElementwiseOp, buffers: GPUBuffer[], length: number, s: number): void {
  if (length <= 0) return;
  const groups = grid2d(length, THREADS, rec.runtime.limits.maxComputeWorkgroupsPerDimension);
  rec.dispatch(elementwiseKernel(op), buffers, { length, gridX: groups[0], s }, groups);
}

export interface FillArgs {
  /** `(length)` floats. */
  out: GPUBuffer;
  length: number;
  /** Any float32, NaN and ±Inf included (a uniform, never a WGSL literal). */
  value: number;
}

/** `out[0..length) = value`; nothing is recorded for length 0. */
export function recordFill(rec: Recorder, a: FillArgs): void {
  record(rec, 'fill', [a.out], a.length, a.value);
}

export interface AddArgs {
  /** `(length)` floats. */
  a: GPUBuffer;
  /** `(length)` floats. */
  b: GPUBuffer;
  /** `(length)` floats, a different buffer from `a` and `b`. */
  out: GPUBuffer;
  length: number;
  /** Default 1 (then exactly `a + b`). */
  alpha?: number;
}

/** `out = a + alpha·b` elementwise as one `fma(alpha, b, a)`; nothing is recorded for length 0. */
export function recordAdd(rec: Recorder, a: AddArgs): void {
  record(rec, 'add', [a.a, a.b, a.out], a.length, a.alpha ?? 1);
}

export interface AddInPlaceArgs {
  /** `(length)` floats, updated in place. */
  acc: GPUBuffer;
  /** `(length)` floats, a different buffer from `acc`. */
  x: GPUBuffer;
  length: number;
  /** Default 1. */
  alpha?: number;
}

/** `acc = acc + alpha·x` as one `fma(alpha, x, acc)` (gradient accumulation); nothing for length 0. */
export function recordAddInPlace(rec: Recorder, a: AddInPlaceArgs): void {
  record(rec, 'addInPlace', [a.x, a.acc], a.length, a.alpha ?? 1);
}

export interface ScaleArgs {
  /** `(length)` floats, scaled in place. */
  x: GPUBuffer;
  length: number;
  /** Any float32; 0 is not special-cased (±Inf·0 and NaN·0 give NaN, as PyTorch's `mul_`). */
  scale: number;
}

/** `x = x·scale` in place; nothing is recorded for length 0. */
export function recordScale(rec: Recorder, a: ScaleArgs): void {
  record(rec, 'scale', [a.x], a.length, a.scale);
}

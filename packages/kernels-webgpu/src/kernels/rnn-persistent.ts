import { defineKernel, type Kernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { u32 } from '../wgsl/bindings.js';
import { seqRow, stepTime } from '../wgsl/indexing.js';
import { type Activation, activation } from '../wgsl/math.js';

const THREADS = 256;
/** Time steps per dispatch: bounds how long one dispatch runs (GPU watchdogs). */
const MAX_STEPS_PER_DISPATCH = 1024;
const UNIFORMS = u32('T', 'N', 'H', 'width', 'strideT', 'strideN', 'rows', 'flags', 't0', 'steps', 'hBase');
const cache = new Map<string, Kernel>();

/** Floats of W_hh that fit in workgroup memory next to the two 256-float hidden-state buffers. */
export function persistentCapacity(limits: GPUSupportedLimits): number {
  return Math.floor(limits.maxComputeWorkgroupStorageSize / 4) - 2 * THREADS;
}

/** Whether `H` fits the persistent kernel on a device with `limits`. */
export function persistentFits(H: number, limits: GPUSupportedLimits): boolean {
  return H <= THREADS && H * H <= persistentCapacity(limits);
}

/**
 * The whole recurrence of one layer in one dispatch (per 1,024 steps): workgroup (g, d) owns batch rows
 * g·rows … of direction d, keeps W_hh_d in workgroup memory and loops over time, thread (r, j) computing
 * `h_t[r, j] = act(xproj_t[r, j] + b_hh[j] + Σ_k h_{t−1}[r, k]·W_hh[j, k])` in place over the projected
 * inputs in `out`. Batch rows are independent, so workgroups never wait for each other; one barrier per
 * step publishes h_t (double-buffered in workgroup memory). `capacity` is baked in (WGSL arrays in
 * workgroup memory need a constant size).
 */
export function persistentKernel(act: Activation, capacity: number): Kernel {
  const variant = `${act}.w${capacity}`;
  const cached = cache.get(variant);
  if (cached) return cached;
  const body = /* wgsl */ `
${activation(act)}
${seqRow}
${stepTime}
var<workgroup> W: array<f32, ${capacity}>;
var<workgroup> hs: array<f32, ${2 * THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let d = wg.y;
  let H = p.H;
  for (var e = li; e < H * H; e += ${THREADS}u) {
    if (d == 0u) { W[e] = w0[e]; } else { W[e] = w1[e]; }
  }
  let r = li / H;
  let j = li % H;
  let n = wg.x * p.rows + r;
  let live = r < p.rows && n < p.N;
  let reverse = d == 1u;
  let col = d * H + j;
  let hAt = p.hBase + (d * p.N + n) * H + j;
  var bias = 0.0;
  if (live) {
    if ((p.flags & 1u) != 0u) { bias = select(b1[j], b0[j], d == 0u); }
    var h = 0.0;
    if (p.t0 > 0u) {
      h = out[seq_row(step_time(p.t0 - 1u, reverse), n) + col];
    } else if ((p.flags & 2u) != 0u) {
      h = h0[hAt];
    }
    hs[r * H + j] = h;
  }
  workgroupBarrier();
  for (var s = 0u; s < p.steps; s++) {
    let cur = (s & 1u) * ${THREADS}u;
    if (live) {
      let at = seq_row(step_time(p.t0 + s, reverse), n) + col;
      var acc = 0.0;
      for (var k = 0u; k < H; k++) { acc += hs[cur + r * H + k] * W[j * H + k]; }
      let v = act(out[at] + (acc + bias));
      out[at] = v;
      hs[${THREADS}u - cur + r * H + j] = v;
    }
    workgroupBarrier();
  }
  if (live) { hN[hAt] = hs[(p.steps & 1u) * ${THREADS}u + r * H + j]; }
}`;
  const kernel = defineKernel({
    name: 'rnn-persistent',
    variant,
    uniforms: UNIFORMS,
    bindings: [
      { name: 'w0', access: 'read' },
      { name: 'w1', access: 'read' },
      { name: 'b0', access: 'read' },
      { name: 'b1', access: 'read' },
      { name: 'h0', access: 'read' },
      { name: 'out', access: 'read_write' },
      { name: 'hN', access: 'read_write' },
    ],
    body,
  });
  cache.set(variant, kernel);
  return kernel;
}

/** One layer's recurrence, all directions (`wHh.length`), over `out` holding `x·W_ihᵀ + b_ih`. */
export interface PersistentArgs {
  T: number;
  N: number;
  H: number;
  /** Floats per row of `out` (D·H); direction d owns columns d·H … d·H + H − 1. */
  width: number;
  strideT: number;
  strideN: number;
  wHh: readonly GPUBuffer[];
  bHh: readonly GPUBuffer[] | null;
  /** `(L·D, N, H)` initial states, or null for zeros; this layer's start at element `hBase`. */
  h0: GPUBuffer | null;
  hBase: number;
  out: GPUBuffer;
  /** `(L·D, N, H)`: final states written at `hBase`. */
  hN: GPUBuffer;
  activation: Activation;
}

export function recordPersistentRecurrence(rec: Recorder, a: PersistentArgs): void {
  const capacity = persistentCapacity(rec.runtime.limits);
  if (!persistentFits(a.H, rec.runtime.limits)) {
    throw new RangeError(
      `rnn-persistent: W_hh of hiddenSize ${a.H} does not fit maxComputeWorkgroupStorageSize ` +
        `(${rec.runtime.limits.maxComputeWorkgroupStorageSize} bytes)`,
    );
  }
  const kernel = persistentKernel(a.activation, capacity);
  const rows = Math.max(1, Math.min(a.N, Math.floor(THREADS / a.H)));
  const w0 = a.wHh[0] as GPUBuffer;
  const b0 = a.bHh?.[0] ?? w0;
  const buffers = [w0, a.wHh[1] ?? w0, b0, a.bHh?.[1] ?? b0, a.h0 ?? w0, a.out, a.hN];
  const flags = (a.bHh ? 1 : 0) | (a.h0 ? 2 : 0);
  for (let t0 = 0; t0 < a.T; t0 += MAX_STEPS_PER_DISPATCH) {
    const steps = Math.min(MAX_STEPS_PER_DISPATCH, a.T - t0);
    const uniforms = [a.T, a.N, a.H, a.width, a.strideT, a.strideN, rows, flags, t0, steps, a.hBase];
    rec.dispatch(kernel, buffers, uniforms, [Math.ceil(a.N / rows), a.wHh.length, 1]);
  }
}

import type { Recorder } from '../runtime/recorder.js';
import { CELL_GATES, type CellKind } from '../wgsl/cell.js';

/**
 * A packed batch (PyTorch's `PackedSequence`) as the recurrence kernels take it: step t holds the first
 * `batchSizes[t]` sequences (non-increasing), its rows starting at `offsets[t]`.
 */
export interface PackedSteps {
  /** `(T)` on the CPU: sequences per step (what sizes the per-step dispatches). */
  readonly batchSizes: Int32Array;
  /** `(T + 1)` on the CPU: prefix sums of `batchSizes`, the first row of each step. */
  readonly offsets: Int32Array;
  /** `(T, 2)` u32 on the GPU: (first row, sequences) per step, what the persistent kernel reads. */
  readonly table: GPUBuffer;
}

/** Uploads the step table of `batchSizes` into `rec` (once per forward: every layer shares it). */
export function packedSteps(rec: Recorder, batchSizes: Int32Array): PackedSteps {
  const T = batchSizes.length;
  const offsets = new Int32Array(T + 1);
  const table = new Int32Array(2 * T);
  for (let t = 0; t < T; t++) {
    table[2 * t] = offsets[t] as number;
    table[2 * t + 1] = batchSizes[t] as number;
    offsets[t + 1] = (offsets[t] as number) + (batchSizes[t] as number);
  }
  return { batchSizes, offsets, table: rec.upload(table) };
}

/**
 * One layer's recurrence, all its directions (`wHh.length`), over the input projections `gx`; what
 * `recordPersistentRecurrence` and `recordStepRecurrence` both take. Sequence matrices are `(T·N, ·)`
 * rows in the input's own order (row (t, n) = t·strideT + n·strideN), or, packed, `(Σ batchSizes, ·)`
 * rows step after step (row (t, n) = offsets[t] + n).
 */
export interface RecurrenceArgs {
  cell: CellKind;
  T: number;
  N: number;
  /** Hidden size: features of the gates and of LSTM's c. */
  H: number;
  /** Features of h: LSTM's projSize, else H. */
  P: number;
  strideT: number;
  strideN: number;
  /** Per direction: `(G·H, P)` W_hh. */
  wHh: readonly GPUBuffer[];
  /** Per direction: `(G·H)` b_hh, or null (no bias). */
  bHh: readonly GPUBuffer[] | null;
  /** Per direction: LSTM's `(P, H)` W_hr, or null (no projection). */
  wHr: readonly GPUBuffer[] | null;
  /** `(T·N, D·G·H)`: `x·W_ihᵀ + b_ih`, direction d at columns d·G·H (gate g at d·G·H + g·H). */
  gx: GPUBuffer;
  /** `(L·D, N, P)` initial h, or null for zeros; this layer's start at element `hBase`. */
  h0: GPUBuffer | null;
  hBase: number;
  /** LSTM: `(L·D, N, H)` initial c, or null for zeros; this layer's start at element `cBase`. */
  c0: GPUBuffer | null;
  cBase: number;
  /** `(T·N, D·P)`: every step's h, direction d at columns d·P. */
  out: GPUBuffer;
  /** `(L·D, N, P)`: the last h of each direction, written at `hBase`. */
  hN: GPUBuffer;
  /** LSTM: `(L·D, N, H)`, the last c written at `cBase`; null for the other cells. */
  cN: GPUBuffer | null;
  /**
   * A packed batch (`strideT`/`strideN` unused): step t updates only its first `batchSizes[t]` rows, so
   * hN/cN hold each sequence's own last state, and the reverse direction starts each sequence at its own
   * end from its h0/c0. Absent or null: rectangular.
   */
  packed?: PackedSteps | null;
}

/** Where the recurrent weights of direction d start in the packed buffer, and their parts. */
export interface PackedWeights {
  readonly buffer: GPUBuffer;
  /** Floats per direction: W_hh (G·H·P) at 0, b_hh (G·H) at `bOff`, W_hr (P·H) at `rOff`. */
  readonly stride: number;
  readonly bOff: number;
  readonly rOff: number;
}

/**
 * The recurrent weights of every direction copied into one buffer, so a kernel binds one buffer for them
 * (WebGPU guarantees only 8 storage buffers per stage). A single direction with nothing but W_hh is used
 * as it is.
 */
export function packWeights(
  rec: Recorder,
  a: Pick<RecurrenceArgs, 'cell' | 'H' | 'P' | 'wHh' | 'bHh' | 'wHr'>,
): PackedWeights {
  const G = CELL_GATES[a.cell];
  const [gates, proj] = [G * a.H, a.wHr ? a.P * a.H : 0];
  const bOff = gates * a.P;
  const rOff = bOff + (a.bHh ? gates : 0);
  const stride = rOff + proj;
  if (a.wHh.length === 1 && stride === bOff) return { buffer: a.wHh[0] as GPUBuffer, stride, bOff, rOff };
  const buffer = rec.scratch(a.wHh.length * stride * 4);
  a.wHh.forEach((w, d) => {
    const at = d * stride * 4;
    rec.copy(w, 0, buffer, at, bOff * 4);
    if (a.bHh) rec.copy(a.bHh[d] as GPUBuffer, 0, buffer, at + bOff * 4, gates * 4);
    if (a.wHr) rec.copy(a.wHr[d] as GPUBuffer, 0, buffer, at + rOff * 4, proj * 4);
  });
  return { buffer, stride, bOff, rOff };
}

/** Names of the uniforms both recurrence kernels share (shapes, strides, state and weight offsets). */
const SHAPES = ['T', 'N', 'H', 'P', 'width', 'gxWidth', 'strideT', 'strideN'] as const;
const OFFSETS = ['hBase', 'cBase', 'wStride', 'bOff', 'rOff'] as const;
export const RECURRENCE_UNIFORMS: readonly RecurrenceUniform[] = [...SHAPES, ...OFFSETS];
export type RecurrenceUniform = (typeof SHAPES)[number] | (typeof OFFSETS)[number];

/** The values of `RECURRENCE_UNIFORMS` for `a`. */
export function recurrenceUniforms(a: RecurrenceArgs, w: PackedWeights): Record<RecurrenceUniform, number> {
  const D = a.wHh.length;
  const { T, N, H, P, strideT, strideN, hBase, cBase } = a;
  const gxWidth = D * CELL_GATES[a.cell] * H;
  const { bOff, rOff } = w;
  return { T, N, H, P, width: D * P, gxWidth, strideT, strideN, hBase, cBase, wStride: w.stride, bOff, rOff };
}

/** Threads of a persistent workgroup: one per (batch row, unit), so H ≤ 256. */
export const PERSISTENT_THREADS = 256;

/** How a layer runs persistently: batch rows per workgroup, workgroup floats, W_hr resident or not. */
export interface PersistentPlan {
  readonly rows: number;
  readonly size: number;
  readonly hrShared: boolean;
}

/**
 * The plan for a cell of hidden size `H` (h of `P` features), or null when it does not fit: one thread
 * per (batch row, unit) so H ≤ 256, and W_hh (G·H·P floats) plus two h buffers (2·P per row; LSTM with
 * a projection also H per row for o⊙tanh c) in `maxComputeWorkgroupStorageSize`. W_hr (P·H) stays in
 * workgroup memory too when it fits, else it is read from storage. The workgroup array is sized to a
 * power of two (≥ 4 KiB) so small cells leave room for other workgroups.
 */
export function persistentPlan(
  cell: CellKind,
  H: number,
  P: number,
  limits: GPUSupportedLimits,
): PersistentPlan | null {
  const cap = Math.floor(limits.maxComputeWorkgroupStorageSize / 4);
  const proj = P !== H;
  const perRow = 2 * P + (proj ? H : 0);
  const weights = CELL_GATES[cell] * H * P;
  if (H > PERSISTENT_THREADS || weights + perRow > cap) return null;
  const hrShared = proj && weights + P * H + perRow <= cap;
  const fixed = weights + (hrShared ? P * H : 0);
  const wanted = fixed + Math.floor(PERSISTENT_THREADS / H) * perRow;
  const size = Math.min(cap, Math.max(1024, 2 ** Math.ceil(Math.log2(wanted))));
  return {
    rows: Math.min(Math.floor(PERSISTENT_THREADS / H), Math.floor((size - fixed) / perRow)),
    size,
    hrShared,
  };
}

/** The largest hidden size (without projection) that runs persistently for `cell` under `limits`. */
export function persistentMaxHidden(cell: CellKind, limits: GPUSupportedLimits): number {
  let H = 0;
  while (persistentPlan(cell, H + 1, H + 1, limits)) H++;
  return H;
}

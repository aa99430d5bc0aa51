import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { flagBits, type StorageBinding, u32, wgslFlags } from '../wgsl/bindings.js';
import { CELL_GATES, type CellKind, gateVec } from '../wgsl/cell.js';
import { BJ, GATE_TILES, gateTileDecls, gateTileMain, type StepTile } from '../wgsl/gate-tile.js';
import { activation, wgslMath } from '../wgsl/math.js';
import { STEP_ROWS, type StepRows } from '../wgsl/step-rows.js';

const SHAPES = ['N', 'H', 'P', 'width', 'gxWidth', 'cWidth', 'offC0', 'offC1', 'offRaw'] as const;
const NAMES = ['wStride', 'bOff', 'flags'] as const;
type TrainUniform = (typeof STEP_ROWS)[number] | (typeof SHAPES)[number] | (typeof NAMES)[number];
const UNIFORMS = u32(...STEP_ROWS, ...SHAPES, ...NAMES);
const FLAGS = { HAS_BIAS: 1, PROJ: 2 } as const;

// the cell update of unit j from its gate pre-activations `pre(k)` = gh + gx, saving what the backward reads
const CELL: Record<CellKind, string> = {
  tanh: 'let y = act(gh.x + gx[gxAt]);\n  gx[gxAt] = y;',
  relu: 'let y = act(gh.x + gx[gxAt]);\n  gx[gxAt] = y;',
  lstm: `let i = sigmoid_safe(gh.x + gx[gxAt]);
  let f = sigmoid_safe(gh.y + gx[gxAt + H]);
  let g = tanh_safe(gh.z + gx[gxAt + 2u * H]);
  let o = sigmoid_safe(gh.w + gx[gxAt + 3u * H]);
  gx[gxAt] = i; gx[gxAt + H] = f; gx[gxAt + 2u * H] = g; gx[gxAt + 3u * H] = o;
  let c = cs[s * H + j];
  let c1 = f * c + i * g;
  let y = o * tanh_safe(c1);
  sv[p.offC0 + cAt] = c; sv[p.offC1 + cAt] = c1; cs[s * H + j] = c1;
  if ((p.flags & PROJ) != 0u) { sv[p.offRaw + cAt] = y; return; }`,
  gru: `let r = sigmoid_safe(gh.x + gx[gxAt]);
  let z = sigmoid_safe(gh.y + gx[gxAt + H]);
  let nn = tanh_safe(gx[gxAt + 2u * H] + r * gh.z);
  gx[gxAt] = r; gx[gxAt + H] = z; gx[gxAt + 2u * H] = nn;
  sv[p.offC1 + cAt] = gh.z;
  let y = (h - nn) * z + nn;`,
};

/**
 * One step of a training forward, every direction (workgroup z): `rnn-step`'s tiled GEMM of all G gates,
 * `gh = h_{t−1}·W_hhᵀ + b_hh` from the state `hsIn` `(D, N, P)`, then the cell update with the gate
 * pre-activations `gx` `(rows, D·G·H)`, which it overwrites with the activated gates (LSTM i, f, g, o; GRU
 * r, z, n; Elman h). It saves into `sv` what the backward reads: h_{t−1} `(rows, D·P)` at 0, LSTM's c
 * before and after the step `(rows, D·H)` at `offC0`/`offC1` (GRU: `W_hn·h + b_hn` at `offC1`), and with a
 * projection o⊙tanh c at `offRaw` (GEMMs then write h). h goes to `out` and to `hsOut` (the states
 * ping-pong between steps; sequences the step does not hold carry theirs), c to `cs` `(D, N, H)`.
 */
export const trainStepKernel: (v: { cell: CellKind; tile: StepTile }) => Kernel<TrainUniform> = memoizeKernel(
  'rnn-train-step',
  (v: { cell: CellKind; tile: StepTile }) => `${v.cell}.${v.tile}`,
  ({ cell, tile }, variant) => {
    const lstm = cell === 'lstm';
    const vec = (e: (g: number) => string) => gateVec(cell, e);
    const bindings: StorageBinding[] = [
      { name: 'w', access: 'read' },
      { name: 'gx', access: 'read_write' },
      { name: 'hsIn', access: 'read' },
      { name: 'hsOut', access: 'read_write' },
      ...(lstm ? [{ name: 'cs', access: 'read_write' } as const] : []),
      { name: 'sv', access: 'read_write' },
      { name: 'out', access: 'read_write' },
    ];
    const math =
      cell === 'tanh' || cell === 'relu' ? activation(cell) : wgslMath('tanh_safe', 'sigmoid_safe');
    const body = /* wgsl */ `
${math}
${wgslFlags(FLAGS)}
${gateTileDecls(cell, tile)}

fn active_of(d: u32) -> u32 { return select(p.active0, p.active1, d == 1u); }

fn finish(d: u32, n: u32, j: u32, sums: vec4<f32>) {
  let H = p.H;
  if (n >= p.N || j >= H) { return; }
  let s = d * p.N + n;
  var h = 0.0;
  if (j < p.P) { h = hsIn[s * p.P + j]; }
  if (n >= active_of(d)) { if (j < p.P) { hsOut[s * p.P + j] = h; } return; }
  let row = select(p.row0, p.row1, d == 1u) + n * p.rs;
  if (j < p.P) { sv[row * p.width + d * p.P + j] = h; }
  var gh = sums;
  if ((p.flags & HAS_BIAS) != 0u) { gh += ${vec((g) => `w[d * p.wStride + p.bOff + ${g}u * H + j]`)}; }
  let gxAt = row * p.gxWidth + d * G * H + j;
  let cAt = row * p.cWidth + d * H + j;
  ${CELL[cell]}
  out[row * p.width + d * p.P + j] = y;
  hsOut[s * p.P + j] = y;
}

${gateTileMain(
  cell,
  tile,
  `var v = 0.0;
      if (n < active_of(d) && k < p.P) { v = hsIn[(d * p.N + n) * p.P + k]; }
      Hs[(e % BK) * BM + e / BK] = v;`,
)}`;
    return defineKernel({ name: 'rnn-train-step', variant, uniforms: UNIFORMS, bindings, body });
  },
);

export interface TrainStepArgs {
  cell: CellKind;
  D: number;
  N: number;
  H: number;
  P: number;
  rows: StepRows;
  /** `packWeights`' buffer of W_hh (and b_hh) per direction. */
  w: { buffer: GPUBuffer; stride: number; bOff: number };
  hasBias: boolean;
  gx: GPUBuffer;
  hsIn: GPUBuffer;
  hsOut: GPUBuffer;
  /** LSTM's c state; null for the other cells. */
  cs: GPUBuffer | null;
  sv: GPUBuffer;
  /** Element offsets of the `(rows, D·H)` regions of `sv`. */
  offC0: number;
  offC1: number;
  offRaw: number;
  out: GPUBuffer;
  proj: boolean;
}

/** Records one step over all N sequences (those the step does not hold only carry their state). */
export function recordTrainStep(rec: Recorder, a: TrainStepArgs): void {
  const { N, H, P, D } = a;
  const tile: StepTile = N > 32 ? 'wide' : 'skinny';
  const buffers = [a.w.buffer, a.gx, a.hsIn, a.hsOut, ...(a.cs ? [a.cs] : []), a.sv, a.out];
  const shapes = { N, H, P, width: D * P, gxWidth: D * CELL_GATES[a.cell] * H, cWidth: D * H };
  const flags = flagBits(FLAGS, { HAS_BIAS: a.hasBias, PROJ: a.proj });
  const offsets = {
    offC0: a.offC0,
    offC1: a.offC1,
    offRaw: a.offRaw,
    wStride: a.w.stride,
    bOff: a.w.bOff,
    flags,
  };
  const groups = [Math.ceil(H / BJ), Math.ceil(N / GATE_TILES[tile].BM), D] as const;
  rec.dispatch(
    trainStepKernel({ cell: a.cell, tile }),
    buffers,
    { ...a.rows, ...shapes, ...offsets },
    groups,
  );
}

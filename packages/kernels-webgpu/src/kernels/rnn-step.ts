import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { flagBits, type StorageBinding, u32, wgslFlags } from '../wgsl/bindings.js';
import { type CellKind, cellUpdate, gateVec } from '../wgsl/cell.js';
import { BJ, GATE_TILES, gateTileDecls, gateTileMain, type StepTile } from '../wgsl/gate-tile.js';
import { seqRow, stepTime } from '../wgsl/indexing.js';
import { recordGemm } from './gemm.js';
import {
  packWeights,
  RECURRENCE_UNIFORMS,
  type RecurrenceArgs,
  type RecurrenceUniform,
  recurrenceUniforms,
} from './recurrence.js';
import { type PackedSchedule, packedSchedule, projectPacked } from './rnn-step-packed.js';

/**
 * Tiles of BM batch rows × 64 units, a thread computing TM rows × 4 units of every gate, over K chunks
 * of 8 staged in workgroup memory: `wide` for N > 32, `skinny` (one row per thread) otherwise.
 */
export type { StepTile } from '../wgsl/gate-tile.js';

const FLAGS = { HAS_BIAS: 1, HAS_H0: 2, HAS_C0: 4, PROJ: 8 } as const;
const NAMES = ['step', 'flags'] as const;
type PackedUniform = keyof PackedSchedule;
/** A packed step's schedule, per direction (0 forward, 1 reverse): see `packedSchedule`. */
const PACKED: readonly PackedUniform[] = [
  'row0',
  'row1',
  'active0',
  'active1',
  'prev0',
  'prev1',
  'carry0',
  'carry1',
  'done0',
  'done1',
];
type StepUniform = RecurrenceUniform | (typeof NAMES)[number] | PackedUniform;
const UNIFORMS = u32(...RECURRENCE_UNIFORMS, ...NAMES);
const PACKED_UNIFORMS = u32(...RECURRENCE_UNIFORMS, ...NAMES, ...PACKED);
const RECTANGULAR = Object.fromEntries(PACKED.map((k) => [k, 0])) as Record<PackedUniform, number>;

/**
 * One time step of a layer, every direction (workgroup z): a tiled GEMM of all G gates at once,
 * `gh = h_{t−1}·W_hhᵀ + b_hh` (h_{t−1} from h0 or zeros at step 0, else from `out`; W_hh·0 is computed,
 * so NaN in W_hh propagates as in PyTorch), then the cell update with `gx` in the epilogue: h into `out` (and hN at the last step), LSTM's c into cN (its live
 * state), or o⊙tanh c into `hr` when an LSTM projection follows (a GEMM per step, see `recordStepRecurrence`).
 *
 * The `packed` variant takes the step's rows from uniforms (`packedSchedule`): only the step's first
 * `active` rows compute, h_{t−1} comes from the previous step's rows for the first `carry` of them and
 * from h0 (or zeros) for the rest (reverse: sequences that start here), and rows from `done` on end here
 * (their h goes to hN).
 */
export const stepKernel: (v: StepVariant) => Kernel<StepUniform> = memoizeKernel(
  'rnn-step',
  (v) => `${v.cell}.${v.tile}${v.packed ? '.packed' : ''}`,
  buildStep,
);

interface StepVariant {
  cell: CellKind;
  tile: StepTile;
  packed?: boolean;
}

/** The WGSL expressions where the packed variant differs: rows, h_{t−1}'s source, the last step. */
function rowMath(packed: boolean) {
  const pk = (name: string) => `select(p.${name}0, p.${name}1, d == 1u)`;
  if (!packed) {
    return {
      limit: 'p.N',
      carried: 'p.step > 0u',
      prevRow: 'seq_row(step_time(p.step - 1u, d == 1u), n)',
      row: 'seq_row(step_time(p.step, d == 1u), n)',
      last: 'p.step == p.T - 1u',
    };
  }
  const [limit, carried, prevRow] = [pk('active'), `n < ${pk('carry')}`, `${pk('prev')} + n`];
  return { limit, carried, prevRow, row: `${pk('row')} + n`, last: `n >= ${pk('done')}` };
}

function buildStep({ cell, tile, packed = false }: StepVariant, variant: string): Kernel<StepUniform> {
  const m = rowMath(packed);
  const lstm = cell === 'lstm';
  const bindings: StorageBinding[] = [
    { name: 'w', access: 'read' },
    { name: 'h0', access: 'read' },
    ...(lstm ? [{ name: 'c0', access: 'read' } as const] : []),
    { name: 'gx', access: 'read' },
    { name: 'out', access: 'read_write' },
    { name: 'hN', access: 'read_write' },
    ...(lstm
      ? ([
          { name: 'cN', access: 'read_write' },
          { name: 'hr', access: 'read_write' },
        ] as const)
      : []),
  ];
  const body = /* wgsl */ `
${cellUpdate(cell)}
${seqRow}
${stepTime}
${wgslFlags(FLAGS)}
${gateTileDecls(cell, tile)}

fn has(flag: u32) -> bool { return (p.flags & flag) != 0u; }

fn h_prev(d: u32, n: u32, k: u32) -> f32 {
  if (n >= ${m.limit} || k >= p.P) { return 0.0; }
  if (${m.carried}) { return out[(${m.prevRow}) * p.width + d * p.P + k]; }
  if (has(HAS_H0)) { return h0[p.hBase + (d * p.N + n) * p.P + k]; }
  return 0.0;
}

/** The cell update of unit j of batch row n from its gate sums h_{t−1}·W_hhᵀ. */
fn finish(d: u32, n: u32, j: u32, sums: vec4<f32>) {
  let H = p.H;
  if (n >= ${m.limit} || j >= H) { return; }
  var gh = sums;
  if (has(HAS_BIAS)) { gh += ${gateVec(cell, (g) => `w[d * p.wStride + p.bOff + ${g}u * H + j]`)}; }
  let row = ${m.row};
  let gxAt = row * p.gxWidth + d * G * H + j;
  var c = 0.0;
  ${lstm ? `let cAt = p.cBase + (d * p.N + n) * H + j;\n  if (${m.carried}) { c = cN[cAt]; } else if (has(HAS_C0)) { c = c0[cAt]; }` : ''}
  let y = cell_update(gh, ${gateVec(cell, (g) => `gx[gxAt + ${g}u * H]`)}, ${cell === 'gru' ? 'h_prev(d, n, j)' : '0.0'}, c);
  ${lstm ? 'cN[cAt] = y.y;\n  if (has(PROJ)) { hr[(d * p.N + n) * H + j] = y.x; return; }' : ''}
  out[row * p.width + d * p.P + j] = y.x;
  if (${m.last}) { hN[p.hBase + (d * p.N + n) * p.P + j] = y.x; }
}

${gateTileMain(cell, tile, 'Hs[(e % BK) * BM + e / BK] = h_prev(d, n, k);')}`;
  const uniforms = packed ? PACKED_UNIFORMS : UNIFORMS;
  return defineKernel<StepUniform>({ name: 'rnn-step', variant, uniforms, bindings, body });
}

/**
 * Records one layer's recurrence as one fused dispatch per step (both directions at once); with LSTM's
 * projection, each step's `h = hr·W_hrᵀ` follows as a GEMM into `out` (and into hN at the last step).
 * Packed, step i's grid covers only the rows its directions hold (`batchSizes` is on the CPU), so the
 * cost follows the real tokens.
 */
export function recordStepRecurrence(rec: Recorder, a: RecurrenceArgs): void {
  const D = a.wHh.length;
  const w = packWeights(rec, a);
  const tile: StepTile = a.N > 32 ? 'wide' : 'skinny';
  const { BM } = GATE_TILES[tile];
  const kernel = stepKernel({ cell: a.cell, tile, packed: !!a.packed });
  const lstm = a.cell === 'lstm';
  const hr = a.wHr ? rec.scratch(D * a.N * a.H * 4) : null;
  const buffers = [w.buffer, a.h0 ?? w.buffer, ...(lstm ? [a.c0 ?? w.buffer] : []), a.gx, a.out, a.hN];
  if (lstm) buffers.push(a.cN ?? rec.scratch(4), hr ?? rec.scratch(4));
  const flags = flagBits(FLAGS, {
    HAS_BIAS: a.bHh !== null,
    HAS_H0: a.h0 !== null,
    HAS_C0: a.c0 !== null,
    PROJ: hr !== null,
  });
  const shared = recurrenceUniforms(a, w);
  const groups = [Math.ceil(a.H / BJ), Math.ceil(a.N / BM), D] as const;
  const width = D * a.P;
  for (let step = 0; step < a.T; step++) {
    if (a.packed) {
      const s = packedSchedule(a.packed, step);
      const rows = D === 2 ? Math.max(s.active0, s.active1) : s.active0;
      rec.dispatch(kernel, buffers, { ...shared, ...s, step, flags }, [groups[0], Math.ceil(rows / BM), D]);
      if (hr && a.wHr) projectPacked(rec, a, hr, a.wHr, s);
      continue;
    }
    rec.dispatch(kernel, buffers, { ...shared, ...RECTANGULAR, step, flags }, groups);
    if (!hr || !a.wHr) continue;
    const t = (d: number) => (d === 1 ? a.T - 1 - step : step);
    const project = { M: a.N, N: a.P, K: a.H, a: hr, aOffset: [0, a.N * a.H], sai: a.H, sap: 1 };
    const weights = { b: a.wHr, sbp: 1, sbj: a.H };
    const cOffset = a.wHh.map((_, d) => t(d) * a.strideT * width + d * a.P);
    recordGemm(rec, { ...project, ...weights, c: a.out, cOffset, ldc: a.strideN * width });
    if (step === a.T - 1) {
      const hOffset = a.wHh.map((_, d) => a.hBase + d * a.N * a.P);
      recordGemm(rec, { ...project, ...weights, c: a.hN, cOffset: hOffset, ldc: a.P });
    }
  }
}

import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { flagBits, type StorageBinding, u32, wgslFlags } from '../wgsl/bindings.js';
import { CELL_GATES, type CellKind, cellUpdate, gateVec } from '../wgsl/cell.js';
import { seqRow, stepTime } from '../wgsl/indexing.js';
import { recordGemm } from './gemm.js';
import {
  packWeights,
  RECURRENCE_UNIFORMS,
  type RecurrenceArgs,
  type RecurrenceUniform,
  recurrenceUniforms,
} from './recurrence.js';

/**
 * Tiles of BM batch rows × 64 units, a thread computing TM rows × 4 units of every gate, over K chunks
 * of 8 staged in workgroup memory: `wide` for N > 32, `skinny` (one row per thread) otherwise.
 */
const TILES = { wide: { BM: 64, TM: 4 }, skinny: { BM: 16, TM: 1 } } as const;
const [BJ, BK, THREADS] = [64, 8, 256];
export type StepTile = keyof typeof TILES;
const FLAGS = { HAS_BIAS: 1, HAS_H0: 2, HAS_C0: 4, PROJ: 8 } as const;
const NAMES = ['step', 'flags'] as const;
type StepUniform = RecurrenceUniform | (typeof NAMES)[number];
const UNIFORMS = u32(...RECURRENCE_UNIFORMS, ...NAMES);

/**
 * One time step of a layer, every direction (workgroup z): a tiled GEMM of all G gates at once,
 * `gh = h_{t−1}·W_hhᵀ + b_hh` (h_{t−1} from h0 or zeros at step 0, else from `out`; W_hh·0 is computed,
 * so NaN in W_hh propagates as in PyTorch), then the cell update with `gx` in the epilogue: h into `out` (and hN at the last step), LSTM's c into cN (its live
 * state), or o⊙tanh c into `hr` when an LSTM projection follows (a GEMM per step, see `recordStepRecurrence`).
 */
export const stepKernel: (v: { cell: CellKind; tile: StepTile }) => Kernel<StepUniform> = memoizeKernel(
  'rnn-step',
  (v) => `${v.cell}.${v.tile}`,
  buildStep,
);

function buildStep({ cell, tile }: { cell: CellKind; tile: StepTile }, variant: string): Kernel<StepUniform> {
  const { BM, TM } = TILES[tile];
  const G = CELL_GATES[cell];
  const lstm = cell === 'lstm';
  const gates = Array.from({ length: G }, (_, g) => g);
  const rows = Array.from({ length: TM }, (_, m) => m);
  const acc = (g: number, m: number) => `acc${g}_${m}`;
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
const G = ${G}u; const BM = ${BM}u; const BJ = ${BJ}u; const BK = ${BK}u;
var<workgroup> Hs: array<f32, ${BK * BM}>; // [k][m]
var<workgroup> Ws: array<vec4<f32>, ${(G * BK * BJ) / 4}>; // [g][k][j / 4]

fn has(flag: u32) -> bool { return (p.flags & flag) != 0u; }

fn h_prev(d: u32, n: u32, k: u32) -> f32 {
  if (n >= p.N || k >= p.P) { return 0.0; }
  if (p.step > 0u) { return out[seq_row(step_time(p.step - 1u, d == 1u), n) * p.width + d * p.P + k]; }
  if (has(HAS_H0)) { return h0[p.hBase + (d * p.N + n) * p.P + k]; }
  return 0.0;
}

/** The cell update of unit j of batch row n from its gate sums h_{t−1}·W_hhᵀ. */
fn finish(d: u32, n: u32, j: u32, sums: vec4<f32>) {
  let H = p.H;
  if (n >= p.N || j >= H) { return; }
  var gh = sums;
  if (has(HAS_BIAS)) { gh += ${gateVec(cell, (g) => `w[d * p.wStride + p.bOff + ${g}u * H + j]`)}; }
  let row = seq_row(step_time(p.step, d == 1u), n);
  let gxAt = row * p.gxWidth + d * G * H + j;
  var c = 0.0;
  ${lstm ? 'let cAt = p.cBase + (d * p.N + n) * H + j;\n  if (p.step > 0u) { c = cN[cAt]; } else if (has(HAS_C0)) { c = c0[cAt]; }' : ''}
  let y = cell_update(gh, ${gateVec(cell, (g) => `gx[gxAt + ${g}u * H]`)}, ${cell === 'gru' ? 'h_prev(d, n, j)' : '0.0'}, c);
  ${lstm ? 'cN[cAt] = y.y;\n  if (has(PROJ)) { hr[(d * p.N + n) * H + j] = y.x; return; }' : ''}
  out[row * p.width + d * p.P + j] = y.x;
  if (p.step == p.T - 1u) { hN[p.hBase + (d * p.N + n) * p.P + j] = y.x; }
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let d = wg.z;
  let base = d * p.wStride;
  let n0 = wg.y * BM;
  let j0 = wg.x * BJ;
  let tr = (li / ${BJ / 4}u) * ${TM}u;
  let tc = li % ${BJ / 4}u;
  ${gates.flatMap((g) => rows.map((m) => `var ${acc(g, m)} = vec4<f32>();`)).join(' ')}
  for (var k0 = 0u; k0 < p.P; k0 += BK) {
    for (var e = li; e < BM * BK; e += ${THREADS}u) { Hs[(e % BK) * BM + e / BK] = h_prev(d, n0 + e / BK, k0 + e % BK); }
    for (var e = li; e < G * BJ * BK; e += ${THREADS}u) {
      let g = e / (BJ * BK);
      let jl = (e / BK) % BJ;
      let k = k0 + e % BK;
      var v = 0.0;
      if (j0 + jl < p.H && k < p.P) { v = w[base + (g * p.H + j0 + jl) * p.P + k]; }
      Ws[(g * BK + e % BK) * ${BJ / 4}u + jl / 4u][jl % 4u] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      ${rows.map((m) => `let h${m} = Hs[k * BM + tr + ${m}u];`).join(' ')}
      ${gates.map((g) => `let w${g} = Ws[(${g}u * BK + k) * ${BJ / 4}u + tc];\n      ${rows.map((m) => `${acc(g, m)} += h${m} * w${g};`).join(' ')}`).join('\n      ')}
    }
    workgroupBarrier();
  }
  for (var jj = 0u; jj < 4u; jj++) {
    ${rows.map((m) => `finish(d, n0 + tr + ${m}u, j0 + tc * 4u + jj, ${gateVec(cell, (g) => `${acc(g, m)}[jj]`)});`).join('\n    ')}
  }
}`;
  return defineKernel({ name: 'rnn-step', variant, uniforms: UNIFORMS, bindings, body });
}

/**
 * Records one layer's recurrence as one fused dispatch per step (both directions at once); with LSTM's
 * projection, each step's `h = hr·W_hrᵀ` follows as a GEMM into `out` (and into hN at the last step).
 */
export function recordStepRecurrence(rec: Recorder, a: RecurrenceArgs): void {
  const D = a.wHh.length;
  const w = packWeights(rec, a);
  const tile: StepTile = a.N > 32 ? 'wide' : 'skinny';
  const { BM } = TILES[tile];
  const kernel = stepKernel({ cell: a.cell, tile });
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
    rec.dispatch(kernel, buffers, { ...shared, step, flags }, groups);
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

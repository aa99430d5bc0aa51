import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { flagBits, type StorageBinding, u32, wgslFlags } from '../wgsl/bindings.js';
import { CELL_GATES, type CellKind } from '../wgsl/cell.js';
import { wgslMath } from '../wgsl/math.js';
import { STEP_ROWS, type StepRows, stepGroups, stepThread } from '../wgsl/step-rows.js';

const SHAPES = ['N', 'H', 'P', 'width', 'gxWidth', 'cWidth', 'offC0', 'offC1', 'ghOff', 'flags'] as const;
type GradUniform = (typeof STEP_ROWS)[number] | (typeof SHAPES)[number];
const UNIFORMS = u32(...STEP_ROWS, ...SHAPES);
const FLAGS = { PROJ: 1 } as const;

// dh: the gradient of the cell's h at this step; the gate gradients go to dg at the gates' place
const CELL: Record<CellKind, string> = {
  tanh: 'let y = gates[gAt];\n  dg[gAt] = dhv * (1.0 - y * y);',
  relu: 'dg[gAt] = select(0.0, dhv, gates[gAt] > 0.0);',
  lstm: `let ig = gates[gAt]; let fg = gates[gAt + H]; let cg = gates[gAt + 2u * H]; let og = gates[gAt + 3u * H];
  let tc = tanh_safe(sv[p.offC1 + cAt]);
  let dcv = dc[s * H + j] + dhv * og * (1.0 - tc * tc);
  dc[s * H + j] = dcv * fg;
  dg[gAt] = dcv * cg * ig * (1.0 - ig);
  dg[gAt + H] = dcv * sv[p.offC0 + cAt] * fg * (1.0 - fg);
  dg[gAt + 2u * H] = dcv * ig * (1.0 - cg * cg);
  dg[gAt + 3u * H] = dhv * tc * og * (1.0 - og);`,
  gru: `let r = gates[gAt]; let z = gates[gAt + H]; let nn = gates[gAt + 2u * H];
  let dn = dhv * (1.0 - z) * (1.0 - nn * nn);
  let dz = dhv * (sv[row * p.width + d * p.P + j] - nn) * z * (1.0 - z);
  let dr = dn * sv[p.offC1 + cAt] * r * (1.0 - r);
  dg[gAt] = dr; dg[gAt + H] = dz; dg[gAt + 2u * H] = dn;
  dg[p.ghOff + gAt] = dr; dg[p.ghOff + gAt + H] = dz; dg[p.ghOff + gAt + 2u * H] = dn * r;
  dh[s * p.P + j] = dhv * z;`,
};

/**
 * One step of backpropagation through time, every direction (workgroup z), one thread per (sequence,
 * unit): the gate derivatives from the gradient of h (`dh` `(D, N, P)`, the next step's `dgates·W_hh`, plus
 * the output's gradient `dOut` `(rows, D·P)`; with a projection, `dhc` `(D, N, H)` = that sum times W_hr) and
 * what `trainStepKernel` saved (activated `gates`, `sv`), written into `dg` `(rows, D·G·H)` (GRU: the
 * gradient of `W_hh·h + b_hh` too, at `ghOff`, whose n block is `dn⊙r`). LSTM carries dc `(D, N, H)`; GRU
 * leaves the direct path `dh⊙z` in dh, the GEMM `dh += dgh·W_hh` adding the rest (the others overwrite it).
 */
export const gradStepKernel: (cell: CellKind) => Kernel<GradUniform> = memoizeKernel(
  'rnn-grad-step',
  (cell: CellKind) => cell,
  (cell, variant) => {
    const lstm = cell === 'lstm';
    const bindings: StorageBinding[] = [
      { name: 'gates', access: 'read' },
      { name: 'sv', access: 'read' },
      { name: 'dOut', access: 'read' },
      ...(lstm ? [{ name: 'dhc', access: 'read' } as const] : []),
      { name: 'dh', access: 'read_write' },
      ...(lstm ? [{ name: 'dc', access: 'read_write' } as const] : []),
      { name: 'dg', access: 'read_write' },
    ];
    const dhv = lstm
      ? 'select(dh[s * p.P + j] + dOut[row * p.width + d * p.P + j], dhc[s * H + j], (p.flags & PROJ) != 0u)'
      : 'dh[s * p.P + j] + dOut[row * p.width + d * p.P + j]';
    const body = /* wgsl */ `
${lstm ? wgslMath('tanh_safe') : ''}
${wgslFlags(FLAGS)}
const G = ${CELL_GATES[cell]}u;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  ${stepThread}
  let gAt = row * p.gxWidth + d * G * H + j;
  let cAt = row * p.cWidth + d * H + j;
  var dhv = 0.0;
  if ((p.flags & PROJ) != 0u || j < p.P) { dhv = ${dhv}; }
  ${CELL[cell]}
}`;
    return defineKernel({ name: 'rnn-grad-step', variant, uniforms: UNIFORMS, bindings, body });
  },
);

export interface GradStepArgs {
  cell: CellKind;
  D: number;
  N: number;
  H: number;
  P: number;
  rows: StepRows;
  gates: GPUBuffer;
  sv: GPUBuffer;
  offC0: number;
  offC1: number;
  dOut: GPUBuffer;
  /** LSTM with a projection: `(D, N, H)`, the gradient of o⊙tanh c; else null. */
  dhc: GPUBuffer | null;
  dh: GPUBuffer;
  /** LSTM: `(D, N, H)`. */
  dc: GPUBuffer | null;
  dg: GPUBuffer;
  /** GRU: where dgh starts in `dg` (elements); 0 for the others. */
  ghOff: number;
}

export function recordGradStep(rec: Recorder, a: GradStepArgs): void {
  const { N, H, P, D } = a;
  const lstm = a.cell === 'lstm';
  const buffers = [a.gates, a.sv, a.dOut];
  if (lstm) buffers.push(a.dhc ?? rec.scratch(4), a.dh, a.dc ?? rec.scratch(4));
  else buffers.push(a.dh);
  buffers.push(a.dg);
  const shapes = { N, H, P, width: D * P, gxWidth: D * CELL_GATES[a.cell] * H, cWidth: D * H };
  const flags = flagBits(FLAGS, { PROJ: a.dhc !== null });
  const offsets = { offC0: a.offC0, offC1: a.offC1, ghOff: a.ghOff, flags };
  rec.dispatch(
    gradStepKernel(a.cell),
    buffers,
    { ...a.rows, ...shapes, ...offsets },
    stepGroups(a.rows, H, D),
  );
}

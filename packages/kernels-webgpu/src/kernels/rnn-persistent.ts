import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { flagBits, type StorageBinding, u32, wgslFlags } from '../wgsl/bindings.js';
import { CELL_GATES, type CellKind, cellUpdate, gateVec } from '../wgsl/cell.js';
import { packedSeqRow, seqRow, stepTime } from '../wgsl/indexing.js';
import {
  packWeights,
  persistentPlan,
  RECURRENCE_UNIFORMS,
  type RecurrenceArgs,
  type RecurrenceUniform,
  recurrenceUniforms,
  PERSISTENT_THREADS as THREADS,
} from './recurrence.js';

/** Time steps per dispatch: bounds how long one dispatch runs (GPU watchdogs). */
const MAX_STEPS_PER_DISPATCH = 1024;
const FLAGS = { HAS_BIAS: 1, HAS_H0: 2, HAS_C0: 4, PROJ: 8, HR_SHARED: 16 } as const;
const NAMES = ['rows', 'flags', 't0', 'steps', 'hrS', 'hsS', 'rawS'] as const;
type PersistentUniform = RecurrenceUniform | (typeof NAMES)[number];
const UNIFORMS = u32(...RECURRENCE_UNIFORMS, ...NAMES);

/**
 * One layer's whole recurrence, every direction, in one dispatch (per 1,024 steps). Workgroup (x, d)
 * owns batch rows x·rows … of direction d, stages its W_hh (and W_hr) in workgroup memory and loops over
 * time; thread (r, j) computes the G gate dot products of unit j, `gh = h_{t−1}·W_hhᵀ + b_hh`, and the
 * cell update with `gx` (c stays in its register). One barrier per step publishes h_t (double-buffered);
 * LSTM's projection `h = (o⊙tanh c)·W_hrᵀ` takes a second. Batch rows are independent, so workgroups never
 * wait for each other. h and c cross dispatches through hN and cN.
 *
 * The `packed` variant reads rows and each step's batch from a `steps` table (`packedSteps`): a row past
 * its step's batch skips the step and carries its h to the next buffer, so a sequence's state stops at
 * its own last step (forward) or still holds its h0/c0 when its first step comes (reverse).
 */
export const persistentKernel: (v: PersistentVariant) => Kernel<PersistentUniform> = memoizeKernel(
  'rnn-persistent',
  (v) => `${v.cell}.s${v.size}${v.packed ? '.packed' : ''}`,
  buildPersistent,
);

interface PersistentVariant {
  cell: CellKind;
  size: number;
  packed?: boolean;
}

function buildPersistent(
  { cell, size, packed }: PersistentVariant,
  variant: string,
): Kernel<PersistentUniform> {
  const G = CELL_GATES[cell];
  const lstm = cell === 'lstm';
  const gates = Array.from({ length: G }, (_, g) => g);
  const bindings: StorageBinding[] = [
    { name: 'w', access: 'read' },
    { name: 'h0', access: 'read' },
    ...(lstm ? [{ name: 'c0', access: 'read' } as const] : []),
    { name: 'gx', access: 'read' },
    { name: 'out', access: 'read_write' },
    { name: 'hN', access: 'read_write' },
    ...(lstm ? [{ name: 'cN', access: 'read_write' } as const] : []),
    ...(packed ? [{ name: 'steps', access: 'read', type: 'u32' } as const] : []),
  ];
  const body = /* wgsl */ `
${cellUpdate(cell)}
${packed ? packedSeqRow : seqRow}
${stepTime}
${wgslFlags(FLAGS)}
const G = ${G}u;
var<workgroup> S: array<f32, ${size}>; // W_hh | W_hr at hrS | h (2 × rows × P) at hsS | o⊙tanh c at rawS

fn has(flag: u32) -> bool { return (p.flags & flag) != 0u; }

fn w_hr(base: u32, k: u32, q: u32) -> f32 {
  if (has(HR_SHARED)) { return S[p.hrS + k * p.H + q]; }
  return w[base + p.rOff + k * p.H + q];
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let d = wg.y;
  let H = p.H;
  let P = p.P;
  let base = d * p.wStride;
  for (var e = li; e < G * H * P; e += ${THREADS}u) { S[e] = w[base + e]; }
  if (has(HR_SHARED)) { for (var e = li; e < P * H; e += ${THREADS}u) { S[p.hrS + e] = w[base + p.rOff + e]; } }
  let r = li / H;
  let j = li % H;
  let n = wg.x * p.rows + r;
  let live = r < p.rows && n < p.N;
  let reverse = d == 1u;
  let hAt = p.hBase + (d * p.N + n) * P + j;
  let rowP = p.rows * P;
  var bias = vec4<f32>();
  var c = 0.0;
  if (live) {
    if (has(HAS_BIAS)) { bias = ${gateVec(cell, (g) => `w[base + p.bOff + ${g}u * H + j]`)}; }
    if (j < P) {
      var h = 0.0;
      if (p.t0 > 0u) { h = hN[hAt]; } else if (has(HAS_H0)) { h = h0[hAt]; }
      S[p.hsS + r * P + j] = h;
    }
    ${lstm ? 'let cAt = p.cBase + (d * p.N + n) * H + j;\n    if (p.t0 > 0u) { c = cN[cAt]; } else if (has(HAS_C0)) { c = c0[cAt]; }' : ''}
  }
  workgroupBarrier();
  for (var s = 0u; s < p.steps; s++) {
    let cur = p.hsS + (s & 1u) * rowP + r * P;
    let nxt = p.hsS + rowP - (s & 1u) * rowP + r * P;
    let t = step_time(p.t0 + s, reverse);
    let row = seq_row(t, n);
    let runs = ${packed ? 'live && n < step_batch(t)' : 'live'};
    if (runs) {
      ${gates.map((g) => `var a${g} = 0.0;`).join(' ')}
      for (var k = 0u; k < P; k++) {
        let hk = S[cur + k];
        ${gates.map((g) => `a${g} += hk * S[(${g}u * H + j) * P + k];`).join('\n        ')}
      }
      let gxAt = row * p.gxWidth + d * G * H + j;
      let gh = ${gateVec(cell, (g) => `a${g}`)} + bias;
      let y = cell_update(gh, ${gateVec(cell, (g) => `gx[gxAt + ${g}u * H]`)}, ${cell === 'gru' ? 'S[cur + j]' : '0.0'}, c);
      c = y.y;
      if (has(PROJ)) {
        S[p.rawS + r * H + j] = y.x;
      } else {
        S[nxt + j] = y.x;
        out[row * p.width + d * P + j] = y.x;
      }
    }${packed ? ' else if (live && j < P) { S[nxt + j] = S[cur + j]; } // h carries over' : ''}
    if (has(PROJ)) {
      workgroupBarrier();
      if (runs && j < P) {
        var v = 0.0;
        for (var q = 0u; q < H; q++) { v += S[p.rawS + r * H + q] * w_hr(base, j, q); }
        S[nxt + j] = v;
        out[row * p.width + d * P + j] = v;
      }
    }
    workgroupBarrier();
  }
  if (live) {
    if (j < P) { hN[hAt] = S[p.hsS + (p.steps & 1u) * rowP + r * P + j]; }
    ${lstm ? 'cN[p.cBase + (d * p.N + n) * H + j] = c;' : ''}
  }
}`;
  return defineKernel({ name: 'rnn-persistent', variant, uniforms: UNIFORMS, bindings, body });
}

/** Records one layer's recurrence with the persistent kernel; throws when the cell does not fit (`persistentPlan`). */
export function recordPersistentRecurrence(rec: Recorder, a: RecurrenceArgs): void {
  const limits = rec.runtime.limits;
  const plan = persistentPlan(a.cell, a.H, a.P, limits);
  if (!plan) {
    throw new RangeError(
      `rnn-persistent: a ${a.cell} cell of hiddenSize ${a.H} (state ${a.P}) does not fit maxComputeWorkgroupStorageSize ` +
        `(${limits.maxComputeWorkgroupStorageSize} bytes)`,
    );
  }
  const w = packWeights(rec, a);
  const kernel = persistentKernel({ cell: a.cell, size: plan.size, packed: !!a.packed });
  const rows = Math.max(1, Math.min(a.N, plan.rows));
  const lstm = a.cell === 'lstm';
  const buffers = [w.buffer, a.h0 ?? w.buffer, ...(lstm ? [a.c0 ?? w.buffer] : []), a.gx, a.out, a.hN];
  if (lstm) buffers.push(a.cN ?? rec.scratch(4));
  if (a.packed) buffers.push(a.packed.table);
  const proj = a.wHr !== null;
  const flags = flagBits(FLAGS, {
    HAS_BIAS: a.bHh !== null,
    HAS_H0: a.h0 !== null,
    HAS_C0: a.c0 !== null,
    PROJ: proj,
    HR_SHARED: proj && plan.hrShared,
  });
  const hrS = CELL_GATES[a.cell] * a.H * a.P;
  const hsS = hrS + (proj && plan.hrShared ? a.P * a.H : 0);
  const layout = { rows, flags, hrS, hsS, rawS: hsS + 2 * rows * a.P };
  for (let t0 = 0; t0 < a.T; t0 += MAX_STEPS_PER_DISPATCH) {
    const steps = Math.min(MAX_STEPS_PER_DISPATCH, a.T - t0);
    const uniforms = { ...recurrenceUniforms(a, w), ...layout, t0, steps };
    rec.dispatch(kernel, buffers, uniforms, [Math.ceil(a.N / rows), a.wHh.length, 1]);
  }
}

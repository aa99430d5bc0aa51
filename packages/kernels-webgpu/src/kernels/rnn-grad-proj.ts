import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { u32 } from '../wgsl/bindings.js';
import { STEP_ROWS, type StepRows, stepGroups, stepThread } from '../wgsl/step-rows.js';

const UNIFORMS = u32(...STEP_ROWS, 'N', 'H', 'P', 'width');
type ProjUniform = (typeof STEP_ROWS)[number] | 'N' | 'H' | 'P' | 'width';

/**
 * The gradient of a projected LSTM's h at one step, every direction (workgroup z): `dhAll[row, d·P + k] =
 * dh[d, n, k] + dOut[row, d·P + k]` for the step's sequences, into the `(rows, D·P)` matrix the backward
 * multiplies by W_hr (this step's rows) and, at the end, by the saved o⊙tanh c (`dW_hr`). A thread per
 * (sequence, feature): `H` in the uniforms is P here.
 */
export function gradProjKernel(): Kernel<ProjUniform> {
  return memoized(null);
}

const memoized = memoizeKernel(
  'rnn-grad-proj',
  () => 'add',
  (_: unknown, variant) =>
    defineKernel({
      name: 'rnn-grad-proj',
      variant,
      uniforms: UNIFORMS,
      bindings: [
        { name: 'dh', access: 'read' },
        { name: 'dOut', access: 'read' },
        { name: 'dhAll', access: 'read_write' },
      ],
      body: /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  ${stepThread}
  let at = row * p.width + d * p.P + j;
  dhAll[at] = dh[s * p.P + j] + dOut[at];
}`,
    }),
);

export interface GradProjArgs {
  D: number;
  N: number;
  P: number;
  rows: StepRows;
  dh: GPUBuffer;
  dOut: GPUBuffer;
  dhAll: GPUBuffer;
}

export function recordGradProj(rec: Recorder, a: GradProjArgs): void {
  const { N, P, D } = a;
  const uniforms = { ...a.rows, N, H: P, P, width: D * P };
  rec.dispatch(gradProjKernel(), [a.dh, a.dOut, a.dhAll], uniforms, stepGroups(a.rows, P, D));
}

import type { Recorder } from '../runtime/recorder.js';
import { recordGemm } from './gemm.js';
import type { PackedSteps, RecurrenceArgs } from './recurrence.js';

/**
 * Iteration `step` of the packed step kernel, per direction (suffix 0: forward at t = step; 1: reverse
 * at t = T − 1 − step): `row` the step's first row, `active` its sequences, `prev` the first row of the
 * step before it in that direction, `carry` how many of the active sequences take h_{t−1} from there (the
 * others start here, from h0), `done` the first sequence that ends here (its h is also hN).
 */
export interface PackedSchedule {
  row0: number;
  row1: number;
  active0: number;
  active1: number;
  prev0: number;
  prev1: number;
  carry0: number;
  carry1: number;
  done0: number;
  done1: number;
}

/** The schedule of iteration `step` (the batch shrinks forward, grows in reverse). */
export function packedSchedule({ batchSizes, offsets }: PackedSteps, step: number): PackedSchedule {
  const T = batchSizes.length;
  const batch = (t: number): number => (t >= 0 && t < T ? (batchSizes[t] as number) : 0);
  const at = (t: number): number => offsets[Math.max(0, Math.min(T, t))] as number;
  const [tf, tr] = [step, T - 1 - step];
  return {
    ...{ row0: at(tf), active0: batch(tf), prev0: at(tf - 1), carry0: step > 0 ? batch(tf) : 0 },
    done0: batch(tf + 1),
    ...{ row1: at(tr), active1: batch(tr), prev1: at(tr + 1), carry1: batch(tr + 1) },
    done1: tr === 0 ? 0 : batch(tr),
  };
}

/**
 * LSTM's projection after a packed step: `h = hr·W_hrᵀ` for each direction's active rows into `out`, and
 * for the rows that end at this step into hN (a GEMM per direction: their row counts differ).
 */
export function projectPacked(
  rec: Recorder,
  a: RecurrenceArgs,
  hr: GPUBuffer,
  wHr: readonly GPUBuffer[],
  s: PackedSchedule,
): void {
  const { N, H, P } = a;
  const width = wHr.length * P;
  wHr.forEach((b, d) => {
    const [row, active, done] = d === 1 ? [s.row1, s.active1, s.done1] : [s.row0, s.active0, s.done0];
    const project = { N: P, K: H, a: hr, sai: H, sap: 1, b: [b], sbp: 1, sbj: H };
    const cOffset = [row * width + d * P];
    recordGemm(rec, { ...project, M: active, aOffset: [d * N * H], c: a.out, cOffset, ldc: width });
    if (done >= active) return;
    const hOffset = [a.hBase + (d * N + done) * P];
    const aOffset = [(d * N + done) * H];
    recordGemm(rec, { ...project, M: active - done, aOffset, c: a.hN, cOffset: hOffset, ldc: P });
  });
}

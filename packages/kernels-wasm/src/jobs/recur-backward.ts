import { NULL_PTR, type Ptr } from '../runtime/arena.js';
import type { Job } from '../runtime/executor.js';
import { CELL_CODES, type CellMode } from './recur.js';

/** Floats of `scratch` a backward of N rows needs: N·P for dhy, plus N·H with a projection. */
export function recurBackwardScratchFloats(N: number, H: number, P: number, projected: boolean): number {
  return N * (P + (projected ? H : 0));
}

/**
 * The backward-data pass through time of one layer-direction (assembly/recur-back.ts), after a `recurJob`
 * that saved (`save`). Row (t, n) of every sequence buffer is row index `t·strideT + n·strideN` (packed:
 * from the `steps` table, as in `recurJob`); each buffer has its own row length in floats (`…Ld`).
 */
export interface RecurBackwardJobArgs {
  /** The cell the forward ran. */
  readonly mode: CellMode;
  /** Time steps. */
  readonly T: number;
  /** Batch rows. */
  readonly N: number;
  /** Hidden size. */
  readonly H: number;
  /** Features of h: the LSTM's projSize, else H. */
  readonly P: number;
  /** Row-index distances between steps and between batch rows (unused when packed). */
  readonly strideT: number;
  readonly strideN: number;
  /** The activated gates `recurJob` left in gx (G·H per row); the Elman cell: its output (P used). */
  readonly gates: Ptr;
  /** Floats per row of `gates`. */
  readonly gatesLd: number;
  /** `recurJob`'s `save` rows (`recurSaveFloats` used). */
  readonly save: Ptr;
  /** Floats per row of `save`. */
  readonly saveLd: number;
  /** The gradient of the output (P used per row). */
  readonly dOut: Ptr;
  /** Floats per row of `dOut`. */
  readonly dOutLd: number;
  /** N rows of P: in, the gradient of hN; out, of h0. */
  readonly dh: Ptr;
  /** LSTM: N rows of H, likewise for c; null otherwise. */
  readonly dc?: Ptr | null;
  /** Out: the gate pre-activations' gradients, G·H per row (the input side). */
  readonly dGx: Ptr;
  /** GRU: the recurrent side (its n block dn⊙r), G·H per row; ignored for the other cells. */
  readonly dGh?: Ptr | null;
  /** With a projection: out, every step's gradient of the projected h, P per row. */
  readonly dhAll?: Ptr | null;
  /** W_hh itself (K = G·H, N = P), packed in `'blocks'`. */
  readonly whh: Ptr;
  /** W_hr itself (K = P, N = H), packed in `'blocks'`, or null. */
  readonly whr?: Ptr | null;
  /** `recurBackwardScratchFloats(…)`; concurrent jobs on disjoint rows may share it. */
  readonly scratch: Ptr;
  /** The reverse direction (its backward runs from t = 0). */
  readonly reverse: boolean;
  /** Packed: `packedSteps(batchSizes)`, or null. */
  readonly steps?: Ptr | null;
}

/** The backward of `r` over batch rows `rows` (default all N): one job per share. */
export function recurBackwardJob(r: RecurBackwardJobArgs, rows: readonly [number, number] = [0, r.N]): Job {
  const [from, to] = rows;
  if (r.mode === 'LSTM' && !r.dc) throw new Error('recurBackwardJob: an LSTM needs the gradient of c');
  if (r.mode === 'GRU' && !r.dGh) throw new Error('recurBackwardJob: a GRU needs dGh');
  if ((r.whr ? 1 : 0) !== (r.dhAll ? 1 : 0)) throw new Error('recurBackwardJob: whr and dhAll go together');
  if (!(from >= 0 && from <= to && to <= r.N)) {
    throw new RangeError(`recurBackwardJob: rows [${from}, ${to}) outside a batch of ${r.N}`);
  }
  return {
    kernel: 'recurBackward',
    // the kernel's argument order (assembly/recur-back.ts)
    args: [
      CELL_CODES[r.mode],
      r.T,
      r.N,
      r.H,
      r.P,
      r.strideT,
      r.strideN,
      r.gates,
      r.gatesLd,
      r.save,
      r.saveLd,
      r.dOut,
      r.dOutLd,
      r.dh,
      r.dc ?? NULL_PTR,
      r.dGx,
      r.dGh ?? r.dGx,
      r.dhAll ?? NULL_PTR,
      r.whh,
      r.whr ?? NULL_PTR,
      r.scratch,
      r.reverse ? 1 : 0,
      from,
      to,
      r.steps ?? NULL_PTR,
    ],
  };
}

import { NULL_PTR, type Ptr } from '../runtime/arena.js';
import type { Job } from '../runtime/executor.js';
import { type PackedGemmJobArgs, packedGemmJob } from './gemm.js';
import type { PackLayout } from './pack.js';

/** A recurrent cell, by PyTorch's name (`torch.nn.RNNBase.mode`). */
export type CellMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** The kernels' cell codes (assembly/recur.ts). */
export const CELL_CODES: Readonly<Record<CellMode, number>> = { RNN_TANH: 0, RNN_RELU: 1, LSTM: 2, GRU: 3 };

/** Gate blocks stacked in W_ih and W_hh: 1 (Elman), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n). */
export function cellGates(mode: CellMode): 1 | 3 | 4 {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

/** The layout `recurJob` reads W_hhᵀ and W_hrᵀ in: the row kernel for a batch of one, else tiles. */
export function recurLayout(N: number): PackLayout {
  return N === 1 ? 'rows' : 'blocks';
}

/** Floats of `scratch` a recurrence of N rows needs: N·G·H for gh, plus N·H with a projection. */
export function recurScratchFloats(mode: CellMode, N: number, H: number, projected: boolean): number {
  return N * (cellGates(mode) * H + (projected ? H : 0));
}

/**
 * One layer-direction of a recurrent cell over all T steps (assembly/recur.ts). Per step: gh =
 * h_{t−1}·W_hhᵀ + b_hh (one GEMM over the G·H stacked gates), then PyTorch's cell update on gh + gx.
 * Row strides are in floats; rows of one step are `…Row` apart, steps `…Step` apart.
 */
export interface RecurJobArgs {
  readonly mode: CellMode;
  readonly T: number;
  /** Batch rows. */
  readonly N: number;
  /** Hidden size: gate width and LSTM cell state. */
  readonly H: number;
  /** Features of h: the LSTM's projSize, else H. */
  readonly P: number;
  /** Gate inputs x·W_ihᵀ + b_ih (G·H per row); for the Elman cells it may be `out` (in place). */
  readonly gx: Ptr;
  readonly gxRow: number;
  readonly gxStep: number;
  /** Each step's h (P per row). */
  readonly out: Ptr;
  readonly outRow: number;
  readonly outStep: number;
  /**
   * N rows of P, contiguous: zeros when there is no h0 (the kernel still computes 0·W_hh). Packed
   * (`steps` given): the state, read and written, left holding each row's h after its last step.
   */
  readonly h0: Ptr;
  /** LSTM: N rows of H holding c0, left holding each row's last c; null otherwise. */
  readonly c?: Ptr | null;
  /** W_hhᵀ (K = P, N = G·H) packed in `recurLayout(N)`. */
  readonly whh: Ptr;
  /** b_hh (G·H floats), or null. */
  readonly bhh?: Ptr | null;
  /** LSTM projection W_hrᵀ (K = H, N = P) packed in `recurLayout(N)`, or null. */
  readonly whr?: Ptr | null;
  /** `recurScratchFloats(…)` floats; concurrent jobs on disjoint rows may share it. */
  readonly scratch: Ptr;
  /** Run from the last step to the first. */
  readonly reverse: boolean;
  /** Batch rows [from, to) of this job; default all N. */
  readonly rows?: readonly [number, number];
  /**
   * A packed batch (PyTorch's PackedSequence), or null for a rectangular one: T pairs of int32 (row
   * offset, batch size), one per step, batch sizes non-increasing and at most N (`packedSteps`). Step t
   * runs only its first `size_t` rows (of this job's `rows`); they are contiguous, row (t, n) of gx at
   * `gx + (offset_t − offset_0 + n)·gxRow` (the offsets are relative to the first step's, so a job may
   * point into the middle of a longer table) and of out likewise; `gxStep` and `outStep` are unused. `h0`
   * is the state then (see there), which the reverse direction needs: a row that has not started yet
   * still holds its h0 when its sequence joins.
   */
  readonly steps?: Ptr | null;
  /**
   * Training: what the backward reads, one row per row of gx (at `save + t·saveStep + n·saveRow`, packed
   * like gx), `recurSaveFloats(mode, H, P, projected)` floats each: h_{t−1} (P), then LSTM c_{t−1}, c_t
   * and with a projection o⊙tanh(c_t) (H each), GRU h_{t−1}·W_hnᵀ + b_hn (H). gx is then overwritten
   * with the activated gates (LSTM i, f, g, o; GRU r, z, n); the Elman cell's gates are its output.
   * Null (default): nothing saved, gx left as given.
   */
  readonly save?: Ptr | null;
  /** Floats between the save rows of consecutive batch rows (default 0). */
  readonly saveRow?: number;
  /** Floats between the save rows of consecutive steps (default 0; unused when packed). */
  readonly saveStep?: number;
}

/** Floats per row of `RecurJobArgs.save`: h_{t−1} and the cell's states. */
export function recurSaveFloats(mode: CellMode, H: number, P: number, projected: boolean): number {
  return P + (mode === 'LSTM' ? (projected ? 3 : 2) * H : mode === 'GRU' ? H : 0);
}

/**
 * The `steps` table of a packed batch with these batch sizes: (row offset, batch size) per step, the
 * offsets the prefix sums of the sizes. 2·T int32.
 */
export function packedSteps(batchSizes: ArrayLike<number>): Int32Array {
  const table = new Int32Array(2 * batchSizes.length);
  let offset = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    const size = batchSizes[t] as number;
    table[2 * t] = offset;
    table[2 * t + 1] = size;
    offset += size;
  }
  return table;
}

/** The recurrence of `r`, over batch rows `rows` (default `r.rows`, else all N): one job per share. */
export function recurJob(r: RecurJobArgs, rows: readonly [number, number] = r.rows ?? [0, r.N]): Job {
  const [from, to] = rows;
  if (r.mode === 'LSTM' && !r.c) throw new Error('recurJob: an LSTM needs its cell state c');
  if (r.whr && r.mode !== 'LSTM') throw new Error(`recurJob: only an LSTM has a projection, not ${r.mode}`);
  if (r.mode !== 'LSTM' && r.P !== r.H) throw new Error(`recurJob: P must equal H for ${r.mode}`);
  if (!(from >= 0 && from <= to && to <= r.N)) {
    throw new RangeError(`recurJob: rows [${from}, ${to}) outside a batch of ${r.N}`);
  }
  return {
    kernel: 'recur',
    // the kernel's argument order (assembly/recur.ts)
    args: [
      CELL_CODES[r.mode],
      r.T,
      r.N,
      r.H,
      r.P,
      r.gx,
      r.gxRow,
      r.gxStep,
      r.out,
      r.outRow,
      r.outStep,
      r.h0,
      r.c ?? NULL_PTR,
      r.whh,
      r.bhh ?? NULL_PTR,
      r.whr ?? NULL_PTR,
      r.scratch,
      r.reverse ? 1 : 0,
      from,
      to,
      r.steps ?? NULL_PTR,
      r.save ?? NULL_PTR,
      r.saveRow ?? 0,
      r.saveStep ?? 0,
    ],
  };
}

/**
 * `packedGemmJob(projection)` and then, on the same thread in the same call, `recurJob(r)`: a chunk of one
 * layer's work, the input projection of its rows and its recurrence over them, so that stacked layers of a
 * small batch run as a wavefront over threads, one job per thread per wave.
 */
export function projectRecurJob(projection: PackedGemmJobArgs, r: RecurJobArgs): Job {
  return { kernel: 'projectRecur', args: [...packedGemmJob(projection).args, ...recurJob(r).args] };
}

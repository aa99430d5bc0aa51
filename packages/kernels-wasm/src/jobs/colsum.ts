import type { Ptr } from '../runtime/arena.js';
import type { Job } from '../runtime/executor.js';

/** out[j] = Σ_r A[r·ld + j] over `rows` rows, for the columns `cols` = [from, to). */
export interface ColumnSumsJobArgs {
  /** A, row-major, `ld` floats per row. */
  readonly a: Ptr;
  readonly rows: number;
  readonly ld: number;
  /** Where column j's sum goes: out + 4·j (float32). */
  readonly out: Ptr;
  /** Columns [from, to); concurrent jobs may take disjoint ranges of one `out`. */
  readonly cols: readonly [number, number];
}

/**
 * Column sums of a row-major float32 matrix (assembly/colsum.ts): each accumulated in float64, row by
 * row, and rounded once to float32, as a bias gradient summed in float64 over the rows of dgates.
 */
export function columnSumsJob(g: ColumnSumsJobArgs): Job {
  return { kernel: 'columnSums', args: [g.a, g.rows, g.ld, g.out, g.cols[0], g.cols[1]] };
}

import type { Ptr } from '../runtime/arena.js';
import type { Job } from '../runtime/executor.js';

/**
 * How a B operand is packed ahead of time:
 * - `'blocks'`: depth blocks of 256 rows of 8-column panels, for `packedGemmJob` (the 4×8 tile kernel)
 *   and the recurrences of batches above one;
 * - `'rows'`: 32-column panels over the whole depth, for the row kernel of a batch of one (`recurJob`
 *   with N = 1), which reads one 128-byte line per panel and depth step.
 */
export type PackLayout = 'blocks' | 'rows';

/** Panel width of a layout. */
const WIDTH: Readonly<Record<PackLayout, number>> = { blocks: 8, rows: 32 };

/** Floats a K×N operand takes packed in `layout` (columns padded with zeros to the panel width). */
export function packedFloats(layout: PackLayout, K: number, N: number): number {
  const w = WIDTH[layout];
  return K * Math.ceil(N / w) * w;
}

/** Packs op(B) (K×N; op(B)[p][j] = B[p·sbp + j·sbj], strides in elements) into `dst`. */
export interface PackJobArgs {
  readonly layout: PackLayout;
  readonly K: number;
  readonly N: number;
  readonly b: Ptr;
  readonly sbp: number;
  readonly sbj: number;
  /** `packedFloats(layout, K, N)` floats. */
  readonly dst: Ptr;
}

export function packJob({ layout, K, N, b, sbp, sbj, dst }: PackJobArgs): Job {
  return layout === 'blocks'
    ? { kernel: 'packBlocks', args: [b, sbp, sbj, K, N, dst] }
    : { kernel: 'packPanels', args: [b, sbp, sbj, K, N, dst, WIDTH.rows] };
}

/**
 * The job that packs Wᵀ of a row-major (rows × cols) weight W, as `x·Wᵀ` needs it: K = cols, N = rows.
 */
export function packTransposedJob(layout: PackLayout, w: Ptr, rows: number, cols: number, dst: Ptr): Job {
  return packJob({ layout, K: cols, N: rows, b: w, sbp: 1, sbj: cols, dst });
}

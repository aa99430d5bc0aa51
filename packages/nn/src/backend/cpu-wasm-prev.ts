import { rowOf, type SeqGeometry, stepBatch } from './geometry.js';

/** Rows of a `(rows, ·)` sequence matrix: row r of a direction's P features at `f32[r·ld + offset …]`. */
export interface RowView {
  readonly f32: Float32Array;
  readonly ld: number;
  readonly offset: number;
}

/**
 * Writes h_{t−1} of every row of one Elman layer-direction into `dst`, from its outputs h_t (`out`) and its
 * initial state `h0` (N×P; null: zeros). The training forward does not save h_{t−1} for the Elman cell: it
 * is the output one step before (`reverse`: one step after; a packed sequence's first step in its
 * direction starts from h0). `dst` may be `out` itself (the outputs shifted in place by one step): the
 * steps run from the direction's last to its first, so each row is read before it is overwritten.
 */
export function elmanPrevInto(
  g: SeqGeometry,
  out: RowView,
  h0: Float32Array | null,
  reverse: boolean,
  dst: RowView,
): void {
  const { T, P } = g;
  for (let i = 0; i < T; i++) {
    const t = reverse ? i : T - 1 - i;
    const from = reverse ? t + 1 : t - 1;
    const fromBatch = from < 0 || from >= T ? 0 : stepBatch(g, from);
    for (let n = 0; n < stepBatch(g, t); n++) {
      const at = rowOf(g, t, n) * dst.ld + dst.offset;
      if (n < fromBatch) {
        const o = rowOf(g, from, n) * out.ld + out.offset;
        dst.f32.set(out.f32.subarray(o, o + P), at);
      } else if (h0) dst.f32.set(h0.subarray(n * P, (n + 1) * P), at);
      else dst.f32.fill(0, at, at + P);
    }
  }
}

/**
 * Index math shared by kernels and by the code that dispatches them.
 *
 * Sequence matrices are `(T·N, width)` rows in the tensor's own order: row (t, n) is
 * `t·strideT + n·strideN`, with (strideT, strideN) = (N, 1) sequence-first and (1, T) batch-first,
 * so a batch-first input needs no transpose (`seqGeometry` in `@recurrent/nn` computes them). A packed
 * batch's rows are step after step instead, step t holding its first `batchSizes[t]` sequences.
 */

/** WGSL `fn seq_row(t, n) -> u32`: the row of (t, n), to scale by a matrix's width; needs `p.strideT`, `p.strideN`. */
export const seqRow: string = `
fn seq_row(t: u32, n: u32) -> u32 {
  return t * p.strideT + n * p.strideN;
}`;

/**
 * The packed counterpart of `seqRow` (a `PackedSequence`: step t's rows follow step t − 1's):
 * WGSL `fn seq_row(t, n)` = `steps[2t] + n` and `fn step_batch(t)` = `steps[2t + 1]`, the sequences
 * step t holds; needs a `steps: array<u32>` binding of (first row, batch) per step (`packedSteps`).
 */
export const packedSeqRow: string = `
fn seq_row(t: u32, n: u32) -> u32 {
  return steps[2u * t] + n;
}
fn step_batch(t: u32) -> u32 {
  return steps[2u * t + 1u];
}`;

/** WGSL `fn step_time(i) -> u32`: time index of step i; reverse directions walk from T − 1 (needs `p.T`). */
export const stepTime: string = `
fn step_time(i: u32, reverse: bool) -> u32 {
  return select(i, p.T - 1u - i, reverse);
}`;

/** WGSL `fn flat_index(wg, li) -> u32` for a 1-D problem laid on a 2-D grid of `size`-wide workgroups. */
export function flatIndex(size: number): string {
  return `
fn flat_index(wg: vec3u, li: u32) -> u32 {
  return (wg.y * p.gridX + wg.x) * ${size}u + li;
}`;
}

/**
 * Workgroup counts `[x, y, 1]` covering `items` items with `size` per workgroup on a 2-D grid, so the
 * count per dimension stays within `maxPerDimension` (`maxComputeWorkgroupsPerDimension`).
 */
export function grid2d(items: number, size: number, maxPerDimension: number): [number, number, number] {
  const groups = Math.ceil(items / size);
  if (groups <= maxPerDimension) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RangeError(
      `${items} items need ${groups} workgroups, more than maxComputeWorkgroupsPerDimension² (${maxPerDimension}²)`,
    );
  }
  return [Math.ceil(groups / y), y, 1];
}

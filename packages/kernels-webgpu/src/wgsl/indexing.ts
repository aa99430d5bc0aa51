/**
 * Index math shared by kernels and by the code that dispatches them.
 *
 * Sequence matrices are `(T·N, width)` rows in the tensor's own order: row (t, n) starts at element
 * `(t·strideT + n·strideN)·width`, with (strideT, strideN) = (N, 1) sequence-first and (1, T) batch-first,
 * so a batch-first input needs no transpose.
 */

/** WGSL `fn seq_row(t, n) -> u32`: the first element of row (t, n); needs `p.strideT`, `p.strideN`, `p.width`. */
export const seqRow: string = `
fn seq_row(t: u32, n: u32) -> u32 {
  return (t * p.strideT + n * p.strideN) * p.width;
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

/** (strideT, strideN) of the row order above. */
export function seqStrides(T: number, N: number, batchFirst: boolean): [strideT: number, strideN: number] {
  return batchFirst ? [1, T] : [N, 1];
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

/**
 * The rows one step of a training recurrence touches, per direction (suffix 0 forward, 1 reverse): the
 * first row of the step (`row`), its sequences (`active`), and the row distance between sequences (`rs`:
 * `strideN`, or 1 packed). The state buffers `(D, N, ·)` hold sequence n of direction d at row d·N + n.
 */
export interface StepRows {
  row0: number;
  row1: number;
  active0: number;
  active1: number;
  rs: number;
}

/** The uniform names of `StepRows`. */
export const STEP_ROWS = ['row0', 'row1', 'active0', 'active1', 'rs'] as const;

const THREADS = 64;

/**
 * WGSL opening `main` of an element-wise step kernel (`@workgroup_size(64)`, `stepGroups`): `d`, `n`, `j`
 * of the thread (unit j < `p.H` of sequence n, direction d = workgroup z), `row` (its row of every sequence
 * matrix) and `s` (its row of the state buffers); returns for sequences the step does not hold.
 */
export const stepThread: string = `let d = wg.z;
  let e = wg.x * ${THREADS}u + li;
  let n = e / p.H;
  let j = e % p.H;
  if (n >= select(p.active0, p.active1, d == 1u)) { return; }
  let H = p.H;
  let row = select(p.row0, p.row1, d == 1u) + n * p.rs;
  let s = d * p.N + n;`;

/** Workgroups of a `stepThread` kernel: `H` threads per sequence for the larger of the directions' batches. */
export function stepGroups(r: StepRows, H: number, D: number): [number, number, number] {
  return [Math.ceil((Math.max(r.active0, D === 2 ? r.active1 : 0) * H) / THREADS), 1, D];
}

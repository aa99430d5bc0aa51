import { CELL_GATES, type CellKind, gateVec } from './cell.js';

/**
 * The tiles of the per-step recurrent GEMM `h_{t−1}·W_hhᵀ` that the fused step kernels (inference and
 * training) share: a workgroup of `THREADS` threads computes `BJ` hidden units × `BM` batch rows of every
 * gate, `TM` rows per thread, `BK` of the reduction per pass through workgroup memory.
 */
export const GATE_TILES: { readonly wide: { BM: 64; TM: 4 }; readonly skinny: { BM: 16; TM: 1 } } = {
  wide: { BM: 64, TM: 4 },
  skinny: { BM: 16, TM: 1 },
};
export type StepTile = keyof typeof GATE_TILES;
export const BJ = 64;
export const BK = 8;
export const THREADS = 256;

/** WGSL: the tile's constants and its workgroup memory (`Hs` [k][m], `Ws` [g][k][j / 4]). */
export function gateTileDecls(cell: CellKind, tile: StepTile): string {
  const G = CELL_GATES[cell];
  const { BM } = GATE_TILES[tile];
  return `const G = ${G}u; const BM = ${BM}u; const BJ = ${BJ}u; const BK = ${BK}u;
var<workgroup> Hs: array<f32, ${BK * BM}>; // [k][m]
var<workgroup> Ws: array<vec4<f32>, ${(G * BK * BJ) / 4}>; // [g][k][j / 4]`;
}

/**
 * WGSL: the kernel's `main` (workgroups `[⌈H/BJ⌉, ⌈N/BM⌉, D]`). `loadH` is a statement that writes
 * `Hs[(e % BK) * BM + e / BK]` from h_{t−1} of row `n`, column `k` (direction `d`, both bound); W_hh is read
 * from the binding `w` at `d·p.wStride + (g·H + j)·P + k`. Each unit then calls the kernel's
 * `finish(d, n, j, sums)` with its gate sums as a vec4 (`gateVec`'s layout).
 */
export function gateTileMain(cell: CellKind, tile: StepTile, loadH: string): string {
  const G = CELL_GATES[cell];
  const { TM } = GATE_TILES[tile];
  const gates = Array.from({ length: G }, (_, g) => g);
  const rows = Array.from({ length: TM }, (_, i) => i);
  const acc = (g: number, i: number) => `acc${g}_${i}`;
  return `@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let d = wg.z;
  let n0 = wg.y * BM;
  let j0 = wg.x * BJ;
  let tr = (li / ${BJ / 4}u) * ${TM}u;
  let tc = li % ${BJ / 4}u;
  ${gates.flatMap((g) => rows.map((m) => `var ${acc(g, m)} = vec4<f32>();`)).join(' ')}
  for (var k0 = 0u; k0 < p.P; k0 += BK) {
    for (var e = li; e < BM * BK; e += ${THREADS}u) {
      let n = n0 + e / BK;
      let k = k0 + e % BK;
      ${loadH}
    }
    for (var e = li; e < G * BJ * BK; e += ${THREADS}u) {
      let g = e / (BJ * BK);
      let jl = (e / BK) % BJ;
      let k = k0 + e % BK;
      var v = 0.0;
      if (j0 + jl < p.H && k < p.P) { v = w[d * p.wStride + (g * p.H + j0 + jl) * p.P + k]; }
      Ws[(g * BK + e % BK) * ${BJ / 4}u + jl / 4u][jl % 4u] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      ${rows.map((m) => `let h${m} = Hs[k * BM + tr + ${m}u];`).join(' ')}
      ${gates.map((g) => `let w${g} = Ws[(${g}u * BK + k) * ${BJ / 4}u + tc];\n      ${rows.map((m) => `${acc(g, m)} += h${m} * w${g};`).join(' ')}`).join('\n      ')}
    }
    workgroupBarrier();
  }
  for (var jj = 0u; jj < 4u; jj++) {
    ${rows.map((m) => `finish(d, n0 + tr + ${m}u, j0 + tc * 4u + jj, ${gateVec(cell, (g) => `${acc(g, m)}[jj]`)});`).join('\n    ')}
  }
}`;
}

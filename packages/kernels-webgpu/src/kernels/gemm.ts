import { defineKernel, type Kernel, memoizeKernel } from '../runtime/pipelines.js';
import type { Recorder } from '../runtime/recorder.js';
import { flagBits, type StorageBinding, u32, wgslFlags } from '../wgsl/bindings.js';
import { type Activation, activation } from '../wgsl/math.js';

/** Tile shapes: `wide` 64×64 (4×4 outputs per thread) for M > 32; `skinny` 16×64 (1×4) for small M (a step's batch). */
const TILES = { wide: { BM: 64, BN: 64, TM: 4, TN: 4 }, skinny: { BM: 16, BN: 64, TM: 1, TN: 4 } } as const;
const BK = 16;
const THREADS = 256;
export type GemmTile = keyof typeof TILES;

/** Variant of the GEMM: what changes its WGSL. */
export interface GemmVariant {
  tile: GemmTile;
  activation: Activation;
  /** Read op(A) from the output buffer `c` (rows the dispatch does not write), e.g. h_{t−1} in a recurrence. */
  aFromC: boolean;
}

const SIZES = ['M', 'N', 'K', 'm0', 'sai', 'sap', 'sbp', 'sbj', 'ldc'] as const;
const OFFSETS = ['aOff0', 'aOff1', 'bOff0', 'bOff1', 'cOff0', 'cOff1', 'flags'] as const;
type GemmUniform = (typeof SIZES)[number] | (typeof OFFSETS)[number];
const UNIFORMS = u32(...SIZES, ...OFFSETS);
/** Bits of the `flags` uniform: add the bias; accumulate into C. */
const FLAGS = { BIAS: 1, ACCUMULATE: 2 } as const;

/**
 * Tiled GEMM, `C = act([C +] op(A)·op(B) + bias)`, any M, N, K. op(A)[i][k] = a[aOff_z + i·sai + k·sap],
 * op(B)[k][j] = b_z[bOff_z + k·sbp + j·sbj], C[i][j] = c[cOff_z + i·ldc + j]. Workgroup z (0 or 1) picks
 * b0/b1, bias0/bias1 and its offsets, so both directions of a bidirectional layer run in one dispatch.
 * Tiles of op(A) (BM×16) and op(B) (16×BN) are staged in workgroup memory, loaded k-fastest so that
 * row-major X and W (the X·Wᵀ case) are read contiguously; edges load zeros.
 */
export const gemmKernel: (v: GemmVariant) => Kernel<GemmUniform> = memoizeKernel(
  'gemm',
  (v: GemmVariant) => `${v.tile}.${v.activation}${v.aFromC ? '.aFromC' : ''}`,
  buildGemm,
);

function buildGemm(v: GemmVariant, variant: string): Kernel<GemmUniform> {
  const { BM, BN, TM, TN } = TILES[v.tile];
  const bindings: StorageBinding[] = [
    ...(v.aFromC ? [] : [{ name: 'a', access: 'read' } as const]),
    { name: 'b0', access: 'read' },
    { name: 'b1', access: 'read' },
    { name: 'bias0', access: 'read' },
    { name: 'bias1', access: 'read' },
    { name: 'c', access: 'read_write' },
  ];
  const rows = Array.from({ length: TM }, (_, i) => i);
  const body = /* wgsl */ `
${activation(v.activation)}
${wgslFlags(FLAGS)}
const BM = ${BM}u; const BN = ${BN}u; const BK = ${BK}u;
var<workgroup> As: array<f32, ${BK * BM}>; // [k][m]
var<workgroup> Bs: array<vec4<f32>, ${(BK * BN) / 4}>; // [k][n / 4]

fn load_a(z: u32, i: u32, k: u32) -> f32 {
  if (i >= p.M || k >= p.K) { return 0.0; }
  return ${v.aFromC ? 'c' : 'a'}[select(p.aOff0, p.aOff1, z == 1u) + i * p.sai + k * p.sap];
}
fn load_b(z: u32, k: u32, j: u32) -> f32 {
  if (k >= p.K || j >= p.N) { return 0.0; }
  let at = select(p.bOff0, p.bOff1, z == 1u) + k * p.sbp + j * p.sbj;
  if (z == 0u) { return b0[at]; }
  return b1[at];
}
fn store(z: u32, row: u32, col: u32, v: vec4<f32>) {
  if (row >= p.M) { return; }
  let cOff = select(p.cOff0, p.cOff1, z == 1u);
  for (var j = 0u; j < 4u; j++) {
    if (col + j < p.N) {
      var x = v[j];
      if ((p.flags & BIAS) != 0u) { x += select(bias1[col + j], bias0[col + j], z == 0u); }
      let at = cOff + row * p.ldc + col + j;
      if ((p.flags & ACCUMULATE) != 0u) { x = c[at] + x; }
      c[at] = act(x);
    }
  }
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let z = wg.z;
  let row0 = p.m0 + wg.y * BM;
  let col0 = wg.x * BN;
  let tr = (li / ${BN / TN}u) * ${TM}u;
  let tc = li % ${BN / TN}u;
  ${rows.map((i) => `var acc${i} = vec4<f32>();`).join(' ')}
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = li; e < BM * BK; e += ${THREADS}u) {
      As[(e % BK) * BM + e / BK] = load_a(z, row0 + e / BK, k0 + e % BK);
    }
    for (var e = li; e < BN * BK; e += ${THREADS}u) {
      let n = e / BK;
      Bs[(e % BK) * ${BN / 4}u + n / 4u][n % 4u] = load_b(z, k0 + e % BK, col0 + n);
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let b = Bs[k * ${BN / 4}u + tc];
      ${rows.map((i) => `acc${i} += As[k * BM + tr + ${i}u] * b;`).join('\n      ')}
    }
    workgroupBarrier();
  }
  ${rows.map((i) => `store(z, row0 + tr + ${i}u, col0 + tc * 4u, acc${i});`).join('\n  ')}
}`;
  return defineKernel({ name: 'gemm', variant, uniforms: UNIFORMS, bindings, body });
}

/** One GEMM call (see `gemmKernel`); `b.length` (1 or 2) is the number of independent problems z. */
export interface GemmArgs {
  M: number;
  N: number;
  K: number;
  /** op(A)'s buffer, or `'c'` to read it from `c`. */
  a: GPUBuffer | 'c';
  aOffset: readonly number[];
  sai: number;
  sap: number;
  b: readonly GPUBuffer[];
  sbp: number;
  sbj: number;
  /** Where op(B) starts in each b buffer (elements); default 0. */
  bOffset?: readonly number[];
  bias?: readonly GPUBuffer[] | null;
  c: GPUBuffer;
  cOffset: readonly number[];
  ldc: number;
  /** C = act(C + A·B + bias) instead of act(A·B + bias). */
  accumulate?: boolean;
  activation?: Activation;
  tile?: GemmTile;
}

/** Records the GEMM, split into several dispatches when M needs more workgroups than a dimension allows. */
export function recordGemm(rec: Recorder, g: GemmArgs): void {
  const Z = g.b.length;
  const tile = g.tile ?? (g.M > 32 ? 'wide' : 'skinny');
  const aFromC = g.a === 'c';
  const kernel = gemmKernel({ tile, activation: g.activation ?? 'none', aFromC });
  const { BM, BN } = TILES[tile];
  const b1 = g.b[1] ?? (g.b[0] as GPUBuffer);
  const bias = g.bias ?? null;
  const bias0 = bias?.[0] ?? (g.b[0] as GPUBuffer);
  const buffers = [
    ...(aFromC ? [] : [g.a as GPUBuffer]),
    g.b[0] as GPUBuffer,
    b1,
    bias0,
    bias?.[1] ?? bias0,
    g.c,
  ];
  const flags = flagBits(FLAGS, { BIAS: bias !== null, ACCUMULATE: g.accumulate === true });
  const maxY = rec.runtime.limits.maxComputeWorkgroupsPerDimension;
  const rowsPerDispatch = maxY * BM;
  const [a0 = 0, a1 = a0] = g.aOffset;
  const [bo0 = 0, bo1 = bo0] = g.bOffset ?? [];
  const [c0 = 0, c1 = c0] = g.cOffset;
  const { M, N, K, sai, sap, sbp, sbj, ldc } = g;
  const offsets = { aOff0: a0, aOff1: a1, bOff0: bo0, bOff1: bo1, cOff0: c0, cOff1: c1 };
  const fixed = { M, N, K, sai, sap, sbp, sbj, ldc, ...offsets, flags };
  for (let m0 = 0; m0 < M; m0 += rowsPerDispatch) {
    const rows = Math.min(rowsPerDispatch, M - m0);
    rec.dispatch(kernel, buffers, { ...fixed, m0 }, [Math.ceil(N / BN), Math.ceil(rows / BM), Z]);
  }
}

import { NULL_PTR, type Ptr } from '../runtime/arena.js';
import type { Job } from '../runtime/executor.js';
import { ACTIVATION_CODES, type Activation } from './activation.js';

const KC = 256;
const NC = 2048;
const MC = 64;

/**
 * Floats of pack space `gemmJob` needs for an N-column, K-deep problem (assembly/gemm.ts packBytes): a
 * block of B, then one of MC rows of A (packed when A is read along k with a stride).
 */
export function gemmPackFloats(N: number, K: number): number {
  return Math.min(K, KC) * (((Math.min(N, NC) + 7) & ~7) + MC);
}

/**
 * C[M×N] = act(alpha·op(A)·op(B) + beta·C), all strides in elements: op(A)[i][p] = A[i·sai + p·sak],
 * op(B)[p][j] = B[p·sbp + j·sbj], C[i][j] = C[i·ldc + j]. B is packed on the fly into `pack`, and so
 * are blocks of A when A is read along k with a stride (sak ≠ 1: Aᵀ, as a weight gradient reads it).
 */
export interface GemmJobArgs {
  readonly M: number;
  readonly N: number;
  /** ≥ 1. */
  readonly K: number;
  /** Default 1. */
  readonly alpha?: number;
  readonly a: Ptr;
  readonly sai: number;
  readonly sak: number;
  readonly b: Ptr;
  readonly sbp: number;
  readonly sbj: number;
  /** Default 0: C is overwritten, never read. */
  readonly beta?: number;
  readonly c: Ptr;
  readonly ldc: number;
  /** Default `'none'`. */
  readonly act?: Activation;
  /** `gemmPackFloats(N, K)` floats of scratch, one per concurrent job. */
  readonly pack: Ptr;
}

export function gemmJob(g: GemmJobArgs): Job {
  const act = ACTIVATION_CODES[g.act ?? 'none'];
  return {
    kernel: 'gemm',
    args: [
      g.M,
      g.N,
      g.K,
      g.alpha ?? 1,
      g.a,
      g.sai,
      g.sak,
      g.b,
      g.sbp,
      g.sbj,
      g.beta ?? 0,
      g.c,
      g.ldc,
      act,
      g.pack,
    ],
  };
}

/**
 * C[M×N] = act(op(A)·B + bias + beta·C) for B packed ahead of time (`packJob`, layout `'blocks'`): the
 * GEMM of weights that serve many calls. A is read in place as in `gemmJob`.
 */
export interface PackedGemmJobArgs {
  readonly M: number;
  readonly N: number;
  /** ≥ 1. */
  readonly K: number;
  readonly a: Ptr;
  readonly sai: number;
  readonly sak: number;
  /** B (K×N) packed in layout `'blocks'`. */
  readonly b: Ptr;
  /** N floats added to every row (before C), or null. */
  readonly bias?: Ptr | null;
  /** Default 0: C is overwritten, never read. */
  readonly beta?: number;
  readonly c: Ptr;
  readonly ldc: number;
  /** Default `'none'`. */
  readonly act?: Activation;
  /** Rows [from, to) of C; default all M. Rows of one C may go to concurrent jobs. */
  readonly rows?: readonly [number, number];
}

export function packedGemmJob(g: PackedGemmJobArgs): Job {
  const [from, to] = g.rows ?? [0, g.M];
  const act = ACTIVATION_CODES[g.act ?? 'none'];
  return {
    kernel: 'gemmPacked',
    args: [g.M, g.N, g.K, g.a, g.sai, g.sak, g.b, g.bias ?? NULL_PTR, g.beta ?? 0, g.c, g.ldc, act, from, to],
  };
}

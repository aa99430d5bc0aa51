// Test-only (not built or published): the recurrence of one layer-direction as plain loops in double
// precision, in PyTorch's order of operations, the oracle of the recur kernel's tests.
import type { CellMode } from '../jobs/recur.js';

export interface RecurCase {
  mode: CellMode;
  T: number;
  N: number;
  H: number;
  /** projSize (LSTM), 0 for none. */
  proj: number;
  reverse: boolean;
  /** Rows (t, n) at t·strideT + n·strideN: batch-first when true. */
  batchFirst: boolean;
  bias: boolean;
  /**
   * A packed batch: the sequences of each step (T entries, non-increasing, the first N), rows of step t
   * contiguous after those of the steps before it (`batchFirst` unused); absent for a rectangular one.
   */
  batchSizes?: readonly number[];
}

export interface RecurData {
  /** (T·N rows, or Σ batchSizes packed, G·H), rows in the case's order. */
  gx: Float32Array;
  /** (G·H, P) */
  whh: Float32Array;
  bhh: Float32Array | null;
  /** (P, H) or null */
  whr: Float32Array | null;
  /** (N, P) */
  h0: Float32Array;
  /** (N, H), LSTM */
  c0: Float32Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Rows of a case: T·N, or Σ batchSizes packed. */
export function caseRows(k: RecurCase): number {
  return k.batchSizes ? k.batchSizes.reduce((a, b) => a + b, 0) : k.T * k.N;
}

/**
 * out (`caseRows` rows of P, the case's order), each row's last h (N, P: packed, a row that ran no step
 * keeps its h0) and last c (N, H).
 */
export function recurReference(
  k: RecurCase,
  d: RecurData,
): { out: Float64Array; h: Float64Array; c: Float64Array } {
  const { mode, T, N, H } = k;
  const P = k.proj || H;
  const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
  const [strideT, strideN] = k.batchFirst ? [1, T] : [N, 1];
  const sizes = k.batchSizes ?? null;
  const offsets = [0];
  for (let t = 0; t < T; t++) offsets.push((offsets[t] as number) + (sizes ? (sizes[t] as number) : N));
  const out = new Float64Array(caseRows(k) * P);
  const c = Float64Array.from(d.c0);
  let prev = Float64Array.from(d.h0);
  for (let i = 0; i < T; i++) {
    const t = k.reverse ? T - 1 - i : i;
    const next = Float64Array.from(prev); // rows a packed step does not run keep their h
    for (let n = 0; n < (sizes ? (sizes[t] as number) : N); n++) {
      const row = sizes ? (offsets[t] as number) + n : t * strideT + n * strideN;
      const gh = new Float64Array(G * H);
      for (let j = 0; j < G * H; j++) {
        let s = 0;
        for (let p = 0; p < P; p++) s += (prev[n * P + p] as number) * (d.whh[j * P + p] as number);
        gh[j] = s + (d.bhh ? (d.bhh[j] as number) : 0);
      }
      const x = (j: number) => d.gx[row * G * H + j] as number;
      const g = (j: number) => gh[j] as number;
      const h = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        if (mode === 'LSTM') {
          const ig = sigmoid(g(j) + x(j));
          const fg = sigmoid(g(H + j) + x(H + j));
          const gg = Math.tanh(g(2 * H + j) + x(2 * H + j));
          const og = sigmoid(g(3 * H + j) + x(3 * H + j));
          const cn = fg * (c[n * H + j] as number) + ig * gg;
          c[n * H + j] = cn;
          h[j] = og * Math.tanh(cn);
        } else if (mode === 'GRU') {
          const r = sigmoid(g(j) + x(j));
          const z = sigmoid(g(H + j) + x(H + j));
          const nn = Math.tanh(x(2 * H + j) + r * g(2 * H + j));
          h[j] = ((prev[n * P + j] as number) - nn) * z + nn;
        } else {
          const v = g(j) + x(j);
          h[j] = mode === 'RNN_RELU' ? (Number.isNaN(v) ? v : Math.max(v, 0)) : Math.tanh(v);
        }
      }
      for (let p = 0; p < P; p++) {
        let v = h[p] as number;
        if (d.whr) {
          v = 0;
          for (let j = 0; j < H; j++) v += (h[j] as number) * (d.whr[p * H + j] as number);
        }
        next[n * P + p] = v;
        out[row * P + p] = v;
      }
    }
    prev = next;
  }
  return { out, h: prev, c };
}

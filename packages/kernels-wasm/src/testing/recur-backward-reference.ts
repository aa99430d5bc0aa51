// Test-only (not built or published): backpropagation through time of one layer-direction as plain
// loops in double precision (forward again, then back), the oracle of the recurBackward kernel's tests.
import { caseRows, type RecurCase, type RecurData } from './recur-reference.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface RecurGrads {
  /** (rows, G·H): the gradient of gx (the gate pre-activations, input side). */
  dGx: Float64Array;
  /** GRU (rows, G·H): the recurrent side (n block dn⊙r); for the other cells dGx. */
  dGh: Float64Array;
  /** (N, P) and (N, H): the gradients of h0 and c0. */
  dh0: Float64Array;
  dc0: Float64Array;
}

/** From the gradients of out (rows, P), of the last h (N, P) and c (N, H) to those of gx, h0 and c0. */
export function recurBackwardReference(
  k: RecurCase,
  d: RecurData,
  dOut: Float32Array,
  dhN: Float32Array,
  dcN: Float32Array,
): RecurGrads {
  const { mode, T, N, H } = k;
  const P = k.proj || H;
  const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
  const GH = G * H;
  const [strideT, strideN] = k.batchFirst ? [1, T] : [N, 1];
  const sizes = k.batchSizes ?? null;
  const offsets = [0];
  for (let t = 0; t < T; t++) offsets.push((offsets[t] as number) + (sizes ? (sizes[t] as number) : N));
  const rows = caseRows(k);
  const rowOf = (t: number, n: number) => (sizes ? (offsets[t] as number) + n : t * strideT + n * strideN);
  const batch = (t: number) => (sizes ? (sizes[t] as number) : N);
  // forward, saving per row: gates (activated), h_{t−1}, c_{t−1}, c_t, gh_n
  const gates = new Float64Array(rows * GH);
  const hPrev = new Float64Array(rows * P);
  const cPrev = new Float64Array(rows * H);
  const cAfter = new Float64Array(rows * H);
  const hn = new Float64Array(rows * H);
  const h = Float64Array.from(d.h0);
  const c = Float64Array.from(d.c0);
  for (let i = 0; i < T; i++) {
    const t = k.reverse ? T - 1 - i : i;
    for (let n = 0; n < batch(t); n++) {
      const row = rowOf(t, n);
      hPrev.set(h.subarray(n * P, (n + 1) * P), row * P);
      cPrev.set(c.subarray(n * H, (n + 1) * H), row * H);
      const gh = (j: number) => {
        let s = d.bhh ? (d.bhh[j] as number) : 0;
        for (let p = 0; p < P; p++) s += (h[n * P + p] as number) * (d.whh[j * P + p] as number);
        return s;
      };
      const x = (j: number) => d.gx[row * GH + j] as number;
      const hc = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const q = row * GH;
        if (mode === 'LSTM') {
          gates[q + j] = sigmoid(gh(j) + x(j));
          gates[q + H + j] = sigmoid(gh(H + j) + x(H + j));
          gates[q + 2 * H + j] = Math.tanh(gh(2 * H + j) + x(2 * H + j));
          gates[q + 3 * H + j] = sigmoid(gh(3 * H + j) + x(3 * H + j));
          const cy =
            (gates[q + H + j] as number) * (c[n * H + j] as number) +
            (gates[q + j] as number) * (gates[q + 2 * H + j] as number);
          c[n * H + j] = cy;
          cAfter[row * H + j] = cy;
          hc[j] = (gates[q + 3 * H + j] as number) * Math.tanh(cy);
        } else if (mode === 'GRU') {
          gates[q + j] = sigmoid(gh(j) + x(j));
          gates[q + H + j] = sigmoid(gh(H + j) + x(H + j));
          hn[row * H + j] = gh(2 * H + j);
          gates[q + 2 * H + j] = Math.tanh(
            x(2 * H + j) + (gates[q + j] as number) * (hn[row * H + j] as number),
          );
          const nn = gates[q + 2 * H + j] as number;
          hc[j] = ((h[n * P + j] as number) - nn) * (gates[q + H + j] as number) + nn;
        } else {
          const v = gh(j) + x(j);
          hc[j] = mode === 'RNN_RELU' ? Math.max(v, 0) : Math.tanh(v);
          gates[q + j] = hc[j] as number;
        }
      }
      for (let p = 0; p < P; p++) {
        let s = 0;
        if (d.whr) for (let j = 0; j < H; j++) s += (hc[j] as number) * (d.whr[p * H + j] as number);
        h[n * P + p] = d.whr ? s : (hc[p] as number);
      }
    }
  }
  // backward, from the last step the forward ran
  const dGx = new Float64Array(rows * GH);
  const dGh = mode === 'GRU' ? new Float64Array(rows * GH) : dGx;
  const dh = Float64Array.from(dhN);
  const dc = Float64Array.from(dcN);
  for (let i = T - 1; i >= 0; i--) {
    const t = k.reverse ? T - 1 - i : i;
    for (let n = 0; n < batch(t); n++) {
      const row = rowOf(t, n);
      const q = row * GH;
      const dhy = Array.from(
        { length: P },
        (_, p) => (dh[n * P + p] as number) + (dOut[row * P + p] as number),
      );
      const dhc = Array.from({ length: H }, (_, j) => {
        if (!d.whr) return dhy[j] as number;
        let s = 0;
        for (let p = 0; p < P; p++) s += (dhy[p] as number) * (d.whr[p * H + j] as number);
        return s;
      });
      for (let j = 0; j < H; j++) {
        const g = (m: number) => gates[q + m * H + j] as number;
        const dv = dhc[j] as number;
        if (mode === 'LSTM') {
          const tc = Math.tanh(cAfter[row * H + j] as number);
          const dcv = (dc[n * H + j] as number) + dv * g(3) * (1 - tc * tc);
          dc[n * H + j] = dcv * g(1);
          dGx[q + j] = dcv * g(2) * g(0) * (1 - g(0));
          dGx[q + H + j] = dcv * (cPrev[row * H + j] as number) * g(1) * (1 - g(1));
          dGx[q + 2 * H + j] = dcv * g(0) * (1 - g(2) * g(2));
          dGx[q + 3 * H + j] = dv * tc * g(3) * (1 - g(3));
        } else if (mode === 'GRU') {
          const dn = dv * (1 - g(1)) * (1 - g(2) * g(2));
          dGx[q + j] = dn * (hn[row * H + j] as number) * g(0) * (1 - g(0));
          dGx[q + H + j] = dv * ((hPrev[row * P + j] as number) - g(2)) * g(1) * (1 - g(1));
          dGx[q + 2 * H + j] = dn;
          dGh[q + j] = dGx[q + j] as number;
          dGh[q + H + j] = dGx[q + H + j] as number;
          dGh[q + 2 * H + j] = dn * g(0);
        } else {
          const y = g(0);
          dGx[q + j] = mode === 'RNN_RELU' ? (y > 0 ? dv : 0) : dv * (1 - y * y);
        }
      }
      for (let p = 0; p < P; p++) {
        let s = mode === 'GRU' ? (dhc[p] as number) * (gates[q + H + p] as number) : 0;
        for (let j = 0; j < GH; j++) s += (dGh[q + j] as number) * (d.whh[j * P + p] as number);
        dh[n * P + p] = s;
      }
    }
  }
  return { dGx, dGh, dh0: dh, dc0: dc };
}

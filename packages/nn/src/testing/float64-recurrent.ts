// A test oracle: PyTorch's recurrent forward (RNN, LSTM, GRU and their cells) in float64, as plain loops
// over JS numbers. Slow and simple on purpose; gradient checks difference it (grad-check.test.ts).

/** A row-major array with a shape; float32 data is read as the exact float64 values it holds. */
export interface Array64 {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Parameters by PyTorch's state-dict keys (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`, …). */
export type Params64 = Readonly<Record<string, Array64>>;

export type Mode64 = 'RNN' | 'LSTM' | 'GRU';

/** A recurrent module's options, with PyTorch's defaults for those left out. */
export interface Recurrent64Config {
  mode: Mode64;
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** RNN only. Default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
  /** Default true. */
  bias?: boolean;
  batchFirst?: boolean;
  bidirectional?: boolean;
  /** LSTM only; 0 for none. */
  projSize?: number;
}

export interface Recurrent64Result {
  /** `(T, N, D·P)`, `(N, T, D·P)` with batchFirst, `(T, D·P)` unbatched; zeros past a sequence's length. */
  output: Array64;
  /** `(D·numLayers, N, P)`, or `(D·numLayers, P)` unbatched. */
  hN: Array64;
  /** LSTM only: `(D·numLayers, N, H)`; null otherwise. */
  cN: Array64 | null;
}

type Vec = number[];

interface Weights {
  /** `(G·H, in)`, `(G·H, P)` row-major. */
  ih: Array64;
  hh: Array64;
  /** `(G·H)`, or null without bias. */
  bih: Array64 | null;
  bhh: Array64 | null;
  /** LSTM projection `(P, H)`, or null. */
  hr: Array64 | null;
}

interface State {
  h: Vec;
  c: Vec;
}

interface Cell {
  mode: Mode64;
  relu: boolean;
  H: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** `W·x + b` for a row-major `(rows, cols)` W (b null: none). */
function affine(w: Array64, x: Vec, b: Array64 | null): Vec {
  const [rows = 0, cols = 0] = w.shape;
  const y = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    let sum = b ? (b.data[r] as number) : 0;
    for (let k = 0; k < cols; k++) sum += (w.data[r * cols + k] as number) * (x[k] as number);
    y[r] = sum;
  }
  return y;
}

/**
 * One step, PyTorch's equations (gate blocks in PyTorch's order):
 * RNN  h' = act(W_ih x + b_ih + W_hh h + b_hh)
 * LSTM i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh); c' = f c + i g; h' = o tanh(c'),
 *      then h' = W_hr h' with a projection
 * GRU  r, z = σ(W_i· x + b_i· + W_h· h + b_h·); n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
 *      h' = (1 − z) n + z h
 */
function step(cell: Cell, w: Weights, x: Vec, s: State): State {
  const { H } = cell;
  const gi = affine(w.ih, x, w.bih); // the input's part of every gate
  const gh = affine(w.hh, s.h, w.bhh); // the state's part
  const pre = (gate: number, j: number): number =>
    (gi[gate * H + j] as number) + (gh[gate * H + j] as number);
  const h = new Array<number>(H);
  const c = new Array<number>(cell.mode === 'LSTM' ? H : 0);
  for (let j = 0; j < H; j++) {
    if (cell.mode === 'RNN') {
      h[j] = cell.relu ? Math.max(0, pre(0, j)) : Math.tanh(pre(0, j));
    } else if (cell.mode === 'LSTM') {
      const [i, f, g, o] = [sigmoid(pre(0, j)), sigmoid(pre(1, j)), Math.tanh(pre(2, j)), sigmoid(pre(3, j))];
      c[j] = f * (s.c[j] as number) + i * g;
      h[j] = o * Math.tanh(c[j] as number);
    } else {
      const [r, z] = [sigmoid(pre(0, j)), sigmoid(pre(1, j))];
      const n = Math.tanh((gi[2 * H + j] as number) + r * (gh[2 * H + j] as number));
      h[j] = (1 - z) * n + z * (s.h[j] as number);
    }
  }
  return { h: w.hr ? affine(w.hr, h, null) : h, c };
}

function weights(params: Params64, suffix: string, bias: boolean, proj: boolean): Weights {
  const get = (name: string): Array64 => {
    const p = params[`${name}${suffix}`];
    if (!p) throw new Error(`float64 oracle: missing parameter ${name}${suffix}`);
    return p;
  };
  return {
    ih: get('weight_ih'),
    hh: get('weight_hh'),
    bih: bias ? get('bias_ih') : null,
    bhh: bias ? get('bias_hh') : null,
    hr: proj ? get('weight_hr') : null,
  };
}

/**
 * PyTorch's `RNN` / `LSTM` / `GRU` forward in float64.
 *
 * @param input `(T, N, Hin)`, `(N, T, Hin)` with batchFirst, or unbatched `(T, Hin)`.
 * @param h0 shaped like hN; zeros if null. `c0` likewise (LSTM).
 * @param lengths per batch entry, the packed-sequence semantics: sequence b runs its first `lengths[b]`
 *                steps only (the reverse direction starts at its own last step); default all T.
 */
export function recurrentForward64(
  config: Recurrent64Config,
  params: Params64,
  input: Array64,
  h0: Array64 | null = null,
  c0: Array64 | null = null,
  lengths: readonly number[] | null = null,
): Recurrent64Result {
  const { mode, inputSize, hiddenSize: H } = config;
  const L = config.numLayers ?? 1;
  const D = config.bidirectional ? 2 : 1;
  const bias = config.bias ?? true;
  const P = (mode === 'LSTM' && config.projSize) || H;
  const unbatched = input.shape.length === 2;
  const batchFirst = !unbatched && (config.batchFirst ?? false);
  const [T, N] = unbatched
    ? [input.shape[0] as number, 1]
    : batchFirst
      ? [input.shape[1] as number, input.shape[0] as number]
      : [input.shape[0] as number, input.shape[1] as number];
  const lens = lengths ?? Array.from({ length: N }, () => T);
  // x[t][n] in every layout
  let seq: Vec[][] = Array.from({ length: T }, (_, t) =>
    Array.from({ length: N }, (_, n) => {
      const row = batchFirst ? n * T + t : t * N + n;
      return Array.from({ length: inputSize }, (_, k) => input.data[row * inputSize + k] as number);
    }),
  );
  // h0[kd][n] (unbatched: N = 1)
  const initial = (a: Array64 | null, kd: number, n: number, size: number): Vec =>
    Array.from({ length: size }, (_, j) => (a ? (a.data[(kd * N + n) * size + j] as number) : 0));
  const cell: Cell = { mode, relu: config.nonlinearity === 'relu', H };
  const hN: Vec[][] = [];
  const cN: Vec[][] = [];
  for (let k = 0; k < L; k++) {
    const outs: Vec[][][] = [];
    for (let d = 0; d < D; d++) {
      const kd = k * D + d;
      const w = weights(params, `_l${k}${d ? '_reverse' : ''}`, bias, P !== H);
      const out: Vec[][] = Array.from({ length: T }, () =>
        Array.from({ length: N }, () => new Array<number>(P).fill(0)),
      );
      hN[kd] = [];
      cN[kd] = [];
      for (let n = 0; n < N; n++) {
        let s: State = { h: initial(h0, kd, n, P), c: initial(c0, kd, n, H) };
        const len = lens[n] as number;
        for (let i = 0; i < len; i++) {
          const t = d ? len - 1 - i : i;
          s = step(cell, w, (seq[t] as Vec[])[n] as Vec, s);
          (out[t] as Vec[])[n] = s.h;
        }
        (hN[kd] as Vec[])[n] = s.h;
        (cN[kd] as Vec[])[n] = s.c;
      }
      outs.push(out);
    }
    // the next layer reads both directions' outputs side by side
    seq = Array.from({ length: T }, (_, t) =>
      Array.from({ length: N }, (_, n) => outs.flatMap((o) => (o[t] as Vec[])[n] as Vec)),
    );
  }
  const output = new Float64Array(T * N * D * P);
  for (let t = 0; t < T; t++)
    for (let n = 0; n < N; n++)
      output.set((seq[t] as Vec[])[n] as Vec, (batchFirst ? n * T + t : t * N + n) * D * P);
  const stateShape = (size: number) => (unbatched ? [D * L, size] : [D * L, N, size]);
  return {
    output: { shape: unbatched ? [T, D * P] : batchFirst ? [N, T, D * P] : [T, N, D * P], data: output },
    hN: { shape: stateShape(P), data: Float64Array.from(hN.flat(2)) },
    cN: mode === 'LSTM' ? { shape: stateShape(H), data: Float64Array.from(cN.flat(2)) } : null,
  };
}

/** A cell's options (`RNNCell`, `LSTMCell`, `GRUCell`). */
export interface Cell64Config {
  mode: Mode64;
  inputSize: number;
  hiddenSize: number;
  nonlinearity?: 'tanh' | 'relu';
  bias?: boolean;
}

/**
 * One step of PyTorch's `RNNCell` / `LSTMCell` / `GRUCell` in float64 (parameters `weight_ih`, …).
 *
 * @param input `(N, Hin)` or unbatched `(Hin)`; hx, cx `(N, H)` or `(H)`, zeros if null.
 * @returns h' and (LSTM) c', shaped like hx.
 */
export function cellForward64(
  config: Cell64Config,
  params: Params64,
  input: Array64,
  hx: Array64 | null = null,
  cx: Array64 | null = null,
): { h: Array64; c: Array64 | null } {
  const H = config.hiddenSize;
  const unbatched = input.shape.length === 1;
  const N = unbatched ? 1 : (input.shape[0] as number);
  const w = weights(params, '', config.bias ?? true, false);
  const cell: Cell = { mode: config.mode, relu: config.nonlinearity === 'relu', H };
  const rows = (a: Array64 | null, n: number, size: number): Vec =>
    Array.from({ length: size }, (_, j) => (a ? (a.data[n * size + j] as number) : 0));
  const next = Array.from({ length: N }, (_, n) =>
    step(cell, w, rows(input, n, config.inputSize), { h: rows(hx, n, H), c: rows(cx, n, H) }),
  );
  const shape = unbatched ? [H] : [N, H];
  return {
    h: { shape, data: Float64Array.from(next.flatMap((s) => s.h)) },
    c: config.mode === 'LSTM' ? { shape, data: Float64Array.from(next.flatMap((s) => s.c)) } : null,
  };
}

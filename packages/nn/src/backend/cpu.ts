import {
  argmax,
  clone,
  cpuArray,
  cpuData,
  cpuIndex,
  fillBernoulli,
  logSoftmax,
  reluScalar,
  sgemm,
  softmax,
  Tensor,
} from '@recurrent/tensor';
import { recurrentCpuBackward, recurrentCpuTrain } from './cpu-grad.js';
import { dropoutInPlace } from './dropout.js';
import { layerInputSize, rowOf, type SeqGeometry, seqGeometry, stepBatch, stepTime } from './geometry.js';
import type {
  Backend,
  ElementDropoutArgs,
  EmbeddingArgs,
  GatherRowsArgs,
  LastDimArgs,
  LinearArgs,
  RnnArgs,
  RnnDirectionWeights,
  RnnResult,
} from './types.js';

/**
 * The CPU backend in plain TypeScript: Float32Array tensors and the blocked GEMM of `@recurrent/tensor`.
 * Synchronous, everywhere; the semantic reference the faster backends are held to.
 *
 * Per layer-direction it computes the input projection of every time step and every gate with one GEMM
 * (`gx = x·W_ihᵀ + b_ih`), then per step one GEMM over the stacked gates (`gh = h·W_hhᵀ + b_hh`) followed
 * by the cell's update, in PyTorch's order of operations (so NaN and ±Inf come out as PyTorch's do).
 * It holds nothing, so `dispose()` does nothing and the shared instance never becomes unusable.
 */
export const cpuBackend: Backend = Object.freeze({
  device: 'cpu',
  label: 'cpu (TypeScript)',
  disposed: false,
  owns: (t: Tensor): boolean => t.device === 'cpu',
  fromCpu(t: Tensor): Tensor {
    cpuArray(t, 'cpuBackend.fromCpu');
    return t;
  },
  clone: (t: Tensor): Tensor => clone(t),
  rnn: recurrentCpu,
  rnnTrain: recurrentCpuTrain,
  rnnBackward: recurrentCpuBackward,
  linear: linearCpu,
  embedding: embeddingCpu,
  gatherRows: gatherRowsCpu,
  argmax: ({ input }: LastDimArgs): Tensor<'int32'> => argmax(input, -1),
  softmax: ({ input }: LastDimArgs): Tensor<'float32'> => softmax(input, -1),
  logSoftmax: ({ input }: LastDimArgs): Tensor<'float32'> => logSoftmax(input, -1),
  dropout: dropoutCpu,
  dispose(): void {},
});

/** `input·weightᵀ + bias` over the last dimension: the bias fills the rows, one GEMM accumulates. */
export function linearCpu({ input, weight, bias }: LinearArgs): Tensor<'float32'> {
  const [N = 0, K = 0] = weight.shape;
  const rows = input.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const out = new Float32Array(rows * N);
  fillRows(out, rows, N, bias);
  const ld = (n: number) => Math.max(1, n);
  const x = cpuData(input, 'linear input');
  sgemm(false, true, rows, N, K, 1, x, 0, ld(K), cpuData(weight, 'weight'), 0, ld(K), 1, out, 0, ld(N));
  return Tensor.fromArray(out, [...input.shape.slice(0, -1), N]);
}

/** `weight[indices]`; a RangeError names the first index out of range and its position. */
export function embeddingCpu({ indices, weight }: EmbeddingArgs): Tensor<'float32'> {
  const ids = cpuIndex(indices, 'Embedding', 'indices');
  const [n = 0, D = 0] = weight.shape;
  const table = cpuData(weight, 'weight');
  const out = new Float32Array(ids.length * D);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= n) {
      throw new RangeError(
        `Embedding: index ${id} at position ${position(i, indices.shape)} is out of range for numEmbeddings ${n} ` +
          `(indices must be in [0, ${n - 1}])`,
      );
    }
    out.set(table.subarray(id * D, (id + 1) * D), i * D);
  }
  return Tensor.fromArray(out, [...indices.shape, D]);
}

/** `input[indices[i]]` per row, a row of `fill` for index −1. */
export function gatherRowsCpu({ input, indices, fill }: GatherRowsArgs): Tensor<'float32'> {
  const ids = cpuIndex(indices, 'gatherRows', 'indices');
  const F = input.shape[1] ?? 0;
  const x = cpuData(input, 'gatherRows input');
  const out = new Float32Array(ids.length * F);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id < 0) out.fill(fill, i * F, (i + 1) * F);
    else out.set(x.subarray(id * F, (id + 1) * F), i * F);
  }
  return Tensor.fromArray(out, [ids.length, F]);
}

/** The multi-index `[i, j, …]` of flat offset `flat` in a row-major `shape`. */
function position(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] as number;
    idx.unshift(flat % size);
    flat = Math.floor(flat / size);
  }
  return `[${idx.join(', ')}]`;
}

/** Inverted dropout with PyTorch's mask (one draw per element, in order) and float32 scale. */
export function dropoutCpu({ input, p, generator }: ElementDropoutArgs): Tensor<'float32'> {
  const x = cpuData(input, 'dropout input');
  const out = new Float32Array(x.length);
  if (p === 1) {
    // PyTorch multiplies by zero rather than writing zeros, so ±Inf and NaN become NaN
    for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * 0;
    return Tensor.fromArray(out, input.shape);
  }
  fillBernoulli(out, 1 - p, generator);
  // PyTorch divides the float32 mask by (1 − p) and multiplies: x · float32(1 / float32(1 − p))
  const scale = Math.fround(1 / Math.fround(1 - p));
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * ((out[i] as number) * scale);
  return Tensor.fromArray(out, input.shape);
}

/** The whole forward of `args` on the CPU (also the small-problem path of the WebAssembly backend). */
export function recurrentCpu(args: RnnArgs): RnnResult {
  const g = seqGeometry(args);
  const { L, D, N, H, P, width, rows } = g;
  const h0 = args.h0 ? cpuData(args.h0, 'h0') : null;
  const c0 = args.c0 ? cpuData(args.c0, 'c0') : null;
  const hN = new Float32Array(L * D * N * P);
  const cN = args.cell.hasCellState ? new Float32Array(L * D * N * H) : null;
  const gx = new Float32Array(rows * g.G * H);
  let x = cpuData(args.input, 'input');
  args.layers.forEach((directions, layer) => {
    const out = new Float32Array(rows * width);
    directions.forEach((w, d) => {
      project(x, layerInputSize(g, layer), rows, w, gx, g.G * H);
      const state = (layer * D + d) * N;
      recur(g, args.cell.mode, w, gx, out, d, {
        h0: h0?.subarray(state * P, (state + N) * P) ?? null,
        c0: c0?.subarray(state * H, (state + N) * H) ?? null,
        hN: hN.subarray(state * P, (state + N) * P),
        cN: cN?.subarray(state * H, (state + N) * H) ?? null,
      });
    });
    // packed: PyTorch draws the mask over the packed rows in order
    if (args.dropout && layer < L - 1)
      dropoutInPlace(out, g.batchSizes ? rows : g.T, g.batchSizes ? 1 : N, width, g.batchFirst, args.dropout);
    x = out;
  });
  return {
    output: Tensor.fromArray(x, [...g.outputShape]),
    hN: Tensor.fromArray(hN, [...g.hShape]),
    cN: cN ? Tensor.fromArray(cN, [...g.cShape]) : null,
  };
}

/** `C (rows, cols) = bias` on every row (or zeros), before a GEMM accumulates into it. */
function fillRows(C: Float32Array, rows: number, cols: number, bias: Tensor | null): void {
  if (!bias) {
    C.fill(0, 0, rows * cols);
    return;
  }
  const b = cpuData(bias, 'bias');
  for (let r = 0; r < rows; r++) C.set(b, r * cols);
}

/** `gx = x·W_ihᵀ + b_ih` for all rows and gates at once. */
function project(
  x: Float32Array,
  xWidth: number,
  rows: number,
  w: RnnDirectionWeights,
  gx: Float32Array,
  gates: number,
): void {
  fillRows(gx, rows, gates, w.biasIh);
  sgemm(
    false,
    true,
    rows,
    gates,
    xWidth,
    1,
    x,
    0,
    xWidth,
    cpuData(w.weightIh, 'weight_ih'),
    0,
    xWidth,
    1,
    gx,
    0,
    gates,
  );
}

interface States {
  h0: Float32Array | null;
  c0: Float32Array | null;
  hN: Float32Array;
  cN: Float32Array | null;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/**
 * One layer-direction over time. Step t: `gh = h_{t−1}·W_hhᵀ + b_hh` (also at t = 0 from zeros, so a
 * non-finite W_hh shows as PyTorch shows it), then the update reads `gh` and `gx`, writes h into the
 * layer output at column d·P (through W_hr when the LSTM projects) and keeps c in `c`.
 *
 * Packed, step t updates only the first `batchSizes[t]` rows, and h is kept in a state buffer too: a
 * finished sequence's rows stay at its last step, and (reverse direction) a sequence that has not
 * started yet still holds its h0 when the batch grows to include it.
 */
function recur(
  g: SeqGeometry,
  mode: RnnArgs['cell']['mode'],
  w: RnnDirectionWeights,
  gx: Float32Array,
  out: Float32Array,
  d: number,
  s: States,
): void {
  const { T, N, H, P, width, G } = g;
  const GH = G * H;
  const whh = cpuData(w.weightHh, 'weight_hh');
  const whr = w.weightHr ? cpuData(w.weightHr, 'weight_hr') : null;
  const gh = new Float32Array(N * GH);
  const c = new Float32Array(N * H);
  if (s.c0) c.set(s.c0);
  const raw = whr ? new Float32Array(N * H) : null; // o ⊙ tanh(c) before the projection
  const ld = g.strideN * width; // between the rows of consecutive batch entries at one step
  const state = g.batchSizes ? (s.h0?.slice() ?? new Float32Array(N * P)) : null;
  let prev = state ?? s.h0 ?? new Float32Array(N * P);
  let prevAt = 0;
  let prevLd = P;
  for (let i = 0; i < T; i++) {
    const t = stepTime(g, i, d);
    const nt = stepBatch(g, t);
    const at = rowOf(g, t, 0) * width + d * P;
    fillRows(gh, nt, GH, w.biasHh);
    sgemm(false, true, nt, GH, P, 1, prev, prevAt, prevLd, whh, 0, P, 1, gh, 0, GH);
    for (let n = 0; n < nt; n++) {
      const a = n * GH; // this row's gh
      const b = rowOf(g, t, n) * GH; // … and gx
      const o = at + n * ld; // … and output
      if (mode === 'LSTM') {
        const dst = raw ?? out;
        const base = raw ? n * H : o;
        for (let j = 0; j < H; j++) {
          const ig = sigmoid((gh[a + j] as number) + (gx[b + j] as number));
          const fg = sigmoid((gh[a + H + j] as number) + (gx[b + H + j] as number));
          const cg = Math.tanh((gh[a + 2 * H + j] as number) + (gx[b + 2 * H + j] as number));
          const og = sigmoid((gh[a + 3 * H + j] as number) + (gx[b + 3 * H + j] as number));
          const cy = fg * (c[n * H + j] as number) + ig * cg;
          c[n * H + j] = cy;
          dst[base + j] = og * Math.tanh(cy);
        }
      } else if (mode === 'GRU') {
        const hAt = prevAt + n * prevLd;
        for (let j = 0; j < H; j++) {
          const r = sigmoid((gh[a + j] as number) + (gx[b + j] as number));
          const z = sigmoid((gh[a + H + j] as number) + (gx[b + H + j] as number));
          const nn = Math.tanh((gx[b + 2 * H + j] as number) + r * (gh[a + 2 * H + j] as number));
          out[o + j] = ((prev[hAt + j] as number) - nn) * z + nn;
        }
      } else if (mode === 'RNN_RELU') {
        for (let j = 0; j < H; j++) out[o + j] = reluScalar((gh[a + j] as number) + (gx[b + j] as number));
      } else {
        for (let j = 0; j < H; j++) out[o + j] = Math.tanh((gh[a + j] as number) + (gx[b + j] as number));
      }
    }
    if (raw && whr) sgemm(false, true, nt, P, H, 1, raw, 0, H, whr, 0, H, 0, out, at, ld);
    if (state) {
      for (let n = 0; n < nt; n++) state.set(out.subarray(at + n * ld, at + n * ld + P), n * P);
      continue;
    }
    prev = out;
    prevAt = at;
    prevLd = ld;
  }
  if (state) s.hN.set(state);
  else for (let n = 0; n < N; n++) s.hN.set(out.subarray(prevAt + n * ld, prevAt + n * ld + P), n * P);
  s.cN?.set(c);
}

import { cpuData, reluScalar, sgemm, Tensor } from '@recurrent/tensor';
import { dropoutInPlace } from './dropout.js';
import type { Backend, Nonlinearity, RnnArgs, RnnDirectionWeights, RnnResult } from './types.js';

/**
 * The CPU backend: Float32Array tensors and the blocked GEMM of `@recurrent/tensor`.
 *
 * Per layer it computes the input projection of every time step and both directions with one GEMM
 * per direction, written straight into the layer's output buffer, then runs only the recurrent GEMM
 * per step on that buffer, in place, followed by the activation. Nothing is allocated inside the time loop.
 */
export const cpuBackend: Backend = Object.freeze({
  name: 'cpu',
  fromCpu(t: Tensor): Tensor {
    cpuData(t, 'cpuBackend.fromCpu');
    return t;
  },
  rnn: rnnCpu,
});

function rnnCpu(args: RnnArgs): RnnResult {
  const { batchFirst, layers, hiddenSize: H, nonlinearity } = args;
  const [d0, d1, inputSize] = args.input.shape as [number, number, number];
  const [T, N] = batchFirst ? [d1, d0] : [d0, d1];
  const D = layers[0]?.length ?? 1;
  const h0 = args.h0 ? cpuData(args.h0, 'rnn h0') : null;
  const hN = new Float32Array(layers.length * D * N * H);
  // Rows of the (T·N, features) matrices keep the input's own order: row (t, n) sits at
  // t·strideT + n·strideN, so batch-first needs no transpose.
  const strideT = batchFirst ? 1 : N;
  const strideN = batchFirst ? T : 1;
  let x = cpuData(args.input, 'rnn input');
  let xWidth = inputSize;
  layers.forEach((directions, layer) => {
    const width = D * H;
    const out = new Float32Array(T * N * width);
    directions.forEach((w, d) => {
      projectInput(x, xWidth, T * N, w, out, width, d * H, H);
      const hStart = (layer * D + d) * N * H;
      recur(
        out,
        w,
        { T, N, H, width, col: d * H, strideT, strideN, reverse: d === 1, nonlinearity },
        h0,
        hStart,
        hN,
      );
    });
    if (args.dropout && layer < layers.length - 1) dropoutInPlace(out, T, N, width, batchFirst, args.dropout);
    x = out;
    xWidth = width;
  });
  return {
    output: Tensor.fromArray(x, batchFirst ? [N, T, D * H] : [T, N, D * H]),
    hN: Tensor.fromArray(hN, [layers.length * D, N, H]),
  };
}

/** `out[:, col:col+H] = x · W_ihᵀ + (b_ih + b_hh)` for all rows at once. */
function projectInput(
  x: Float32Array,
  xWidth: number,
  rows: number,
  w: RnnDirectionWeights,
  out: Float32Array,
  width: number,
  col: number,
  H: number,
): void {
  const bias = new Float64Array(H);
  for (const b of [w.biasIh, w.biasHh]) {
    if (!b) continue;
    const data = cpuData(b, 'rnn bias');
    for (let j = 0; j < H; j++) bias[j] = (bias[j] as number) + (data[j] as number);
  }
  for (let r = 0; r < rows; r++) {
    const base = r * width + col;
    for (let j = 0; j < H; j++) out[base + j] = bias[j] as number;
  }
  sgemm(
    false,
    true,
    rows,
    H,
    xWidth,
    1,
    x,
    0,
    xWidth,
    cpuData(w.weightIh, 'rnn weight_ih'),
    0,
    xWidth,
    1,
    out,
    col,
    width,
  );
}

interface Walk {
  T: number;
  N: number;
  H: number;
  width: number;
  col: number;
  strideT: number;
  strideN: number;
  reverse: boolean;
  nonlinearity: Nonlinearity;
}

/**
 * The recurrence, in place on the projected inputs: step t's rows become
 * `act(out_t + h_{t−1} · W_hhᵀ)`, then serve as h_{t−1} of the next step.
 */
function recur(
  out: Float32Array,
  w: RnnDirectionWeights,
  s: Walk,
  h0: Float32Array | null,
  hStart: number,
  hN: Float32Array,
): void {
  const { T, N, H, width, col, strideT, strideN, reverse } = s;
  const whh = cpuData(w.weightHh, 'rnn weight_hh');
  const ld = strideN * width; // distance between the rows of consecutive batch entries at one step
  const relu = s.nonlinearity === 'relu';
  let prevOffset = -1;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const offset = t * strideT * width + col;
    if (prevOffset >= 0) sgemm(false, true, N, H, H, 1, out, prevOffset, ld, whh, 0, H, 1, out, offset, ld);
    else if (h0) sgemm(false, true, N, H, H, 1, h0, hStart, H, whh, 0, H, 1, out, offset, ld);
    for (let n = 0; n < N; n++) {
      const row = offset + n * ld;
      if (relu) for (let j = row; j < row + H; j++) out[j] = reluScalar(out[j] as number);
      else for (let j = row; j < row + H; j++) out[j] = Math.tanh(out[j] as number);
    }
    prevOffset = offset;
  }
  for (let n = 0; n < N; n++)
    hN.set(out.subarray(prevOffset + n * ld, prevOffset + n * ld + H), hStart + n * H);
}

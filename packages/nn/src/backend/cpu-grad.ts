import { cpuData, fillBernoulli, reluScalar, sgemm, Tensor } from '@recurrent/tensor';
import { layerInputSize, rowOf, type SeqGeometry, seqGeometry, stepBatch, stepTime } from './geometry.js';
import type {
  DropoutSpec,
  RnnArgs,
  RnnDirectionGrads,
  RnnGradOutputs,
  RnnGrads,
  RnnResult,
  RnnTrainResult,
} from './types.js';

/**
 * Backpropagation through time on the CPU, cuDNN's split: a training forward that saves, per layer and
 * direction, what the backward reads; then per layer-direction (last layer first) a backward-data pass
 * through time (one GEMM per step, `dh_prev = dgates·W_hh`, with the gate derivatives fused into the
 * loop) and backward-weights as whole-sequence GEMMs (`dW_ih = dgatesᵀ·x`, `dW_hh = dgatesᵀ·h_prev`,
 * biases as column sums, `dx = dgates·W_ih`). Every `(rows, ·)` matrix keeps the input's row order
 * (`rowOf`), so batch-first and packed inputs need no transpose.
 */

/** What one layer-direction's forward saved (each `(rows, ·)` in the input's row order). */
interface DirectionSaved {
  /** LSTM: i, f, g, o after their activations; GRU: r, z, n; RNN: h itself. `(rows, G·H)`. */
  gates: Float32Array;
  /** The state each row's step started from: `(rows, P)`. */
  hPrev: Float32Array;
  /** LSTM: c before and after each step `(rows, H)`; GRU: `W_hn·h + b_hn` in `cAfter`. */
  cPrev: Float32Array | null;
  cAfter: Float32Array | null;
  /** LSTM with projection: `o ⊙ tanh(c)` before `W_hr`, `(rows, H)`. */
  raw: Float32Array | null;
}

interface CpuSaved {
  g: SeqGeometry;
  /** Each layer's input (layer 0: the input; later: the previous layer's output after dropout). */
  inputs: Float32Array[];
  dirs: DirectionSaved[][];
  /** Per layer but the last: the dropout multiplier of each output element (mask · 1/(1−p)), or null. */
  masks: (Float32Array | null)[];
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function fillRows(C: Float32Array, rows: number, cols: number, bias: Tensor | null): void {
  if (!bias) {
    C.fill(0, 0, rows * cols);
    return;
  }
  const b = cpuData(bias, 'bias');
  for (let r = 0; r < rows; r++) C.set(b, r * cols);
}

/** The forward of `recurrentCpu` (same operations in the same order), keeping what the backward needs. */
export function recurrentCpuTrain(args: RnnArgs): RnnTrainResult {
  const g = seqGeometry(args);
  const { L, D, N, H, P, G, width, rows } = g;
  const GH = G * H;
  const h0 = args.h0 ? cpuData(args.h0, 'h0') : null;
  const c0 = args.c0 ? cpuData(args.c0, 'c0') : null;
  const hN = new Float32Array(L * D * N * P);
  const lstm = args.cell.mode === 'LSTM';
  const cN = lstm ? new Float32Array(L * D * N * H) : null;
  const saved: CpuSaved = { g, inputs: [], dirs: [], masks: [] };
  let x = cpuData(args.input, 'input');
  args.layers.forEach((directions, layer) => {
    saved.inputs.push(x);
    const inW = layerInputSize(g, layer);
    const out = new Float32Array(rows * width);
    const dirs: DirectionSaved[] = [];
    directions.forEach((w, d) => {
      const gx = new Float32Array(rows * GH);
      fillRows(gx, rows, GH, w.biasIh);
      sgemm(false, true, rows, GH, inW, 1, x, 0, inW, cpuData(w.weightIh, 'weight_ih'), 0, inW, 1, gx, 0, GH);
      const state = (layer * D + d) * N;
      dirs.push(
        recurTrain(g, args, w.weightHh, w.biasHh, w.weightHr, gx, out, d, {
          h0: h0?.subarray(state * P, (state + N) * P) ?? null,
          c0: c0?.subarray(state * H, (state + N) * H) ?? null,
          hN: hN.subarray(state * P, (state + N) * P),
          cN: cN?.subarray(state * H, (state + N) * H) ?? null,
        }),
      );
    });
    saved.dirs.push(dirs);
    if (layer < L - 1) {
      const mask = args.dropout ? dropoutMask(out, g, args.dropout) : null;
      saved.masks.push(mask);
    }
    x = out;
  });
  const result: RnnResult = {
    output: Tensor.fromArray(x, [...g.outputShape]),
    hN: Tensor.fromArray(hN, [...g.hShape]),
    cN: cN ? Tensor.fromArray(cN, [...g.cShape]) : null,
  };
  return { result, saved };
}

/**
 * `dropoutInPlace`'s mask and arithmetic (drawn in sequence-first order, PyTorch's), returning the
 * multiplier per element of `out` in its own row order for the backward.
 */
export function dropoutMask(out: Float32Array, g: SeqGeometry, { p, generator }: DropoutSpec): Float32Array {
  const mult = new Float32Array(out.length);
  if (p === 1) {
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * 0;
    return mult; // zeros
  }
  const mask = new Float32Array(out.length);
  fillBernoulli(mask, 1 - p, generator);
  const scale = 1 / (1 - p);
  const packed = g.batchSizes !== null;
  const T = packed ? g.rows : g.T;
  const N = packed ? 1 : g.N;
  const { width } = g;
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      const src = (t * N + n) * width;
      const dst = g.batchFirst && !packed ? (n * T + t) * width : src;
      for (let j = 0; j < width; j++) {
        const m = mask[src + j] as number;
        out[dst + j] = (out[dst + j] as number) * m * scale;
        mult[dst + j] = m * scale;
      }
    }
  }
  return mult;
}

interface States {
  h0: Float32Array | null;
  c0: Float32Array | null;
  hN: Float32Array;
  cN: Float32Array | null;
}

function recurTrain(
  g: SeqGeometry,
  args: RnnArgs,
  weightHh: Tensor,
  biasHh: Tensor | null,
  weightHr: Tensor | null,
  gx: Float32Array,
  out: Float32Array,
  d: number,
  s: States,
): DirectionSaved {
  const { T, N, H, P, width, G, rows } = g;
  const mode = args.cell.mode;
  const GH = G * H;
  const whh = cpuData(weightHh, 'weight_hh');
  const whr = weightHr ? cpuData(weightHr, 'weight_hr') : null;
  const gates = new Float32Array(rows * GH);
  const hPrev = new Float32Array(rows * P);
  const lstm = mode === 'LSTM';
  const cPrev = lstm ? new Float32Array(rows * H) : null;
  const cAfter = lstm || mode === 'GRU' ? new Float32Array(rows * H) : null;
  const raw = whr ? new Float32Array(rows * H) : null;
  const gh = new Float32Array(N * GH);
  const c = new Float32Array(N * H);
  if (s.c0) c.set(s.c0);
  const rawStep = whr ? new Float32Array(N * H) : null;
  const ld = g.strideN * width;
  // the state h of every batch row (packed: rows that ended or have not started keep theirs)
  const h = s.h0 ? s.h0.slice() : new Float32Array(N * P);
  for (let i = 0; i < T; i++) {
    const t = stepTime(g, i, d);
    const nt = stepBatch(g, t);
    const at = rowOf(g, t, 0) * width + d * P;
    fillRows(gh, nt, GH, biasHh);
    sgemm(false, true, nt, GH, P, 1, h, 0, P, whh, 0, P, 1, gh, 0, GH);
    for (let n = 0; n < nt; n++) {
      const a = n * GH;
      const row = rowOf(g, t, n);
      const b = row * GH;
      const o = at + n * ld;
      hPrev.set(h.subarray(n * P, (n + 1) * P), row * P);
      if (lstm) {
        cPrev?.set(c.subarray(n * H, (n + 1) * H), row * H);
        for (let j = 0; j < H; j++) {
          const ig = sigmoid((gh[a + j] as number) + (gx[b + j] as number));
          const fg = sigmoid((gh[a + H + j] as number) + (gx[b + H + j] as number));
          const cg = Math.tanh((gh[a + 2 * H + j] as number) + (gx[b + 2 * H + j] as number));
          const og = sigmoid((gh[a + 3 * H + j] as number) + (gx[b + 3 * H + j] as number));
          gates[b + j] = ig;
          gates[b + H + j] = fg;
          gates[b + 2 * H + j] = cg;
          gates[b + 3 * H + j] = og;
          const cy = fg * (c[n * H + j] as number) + ig * cg;
          c[n * H + j] = cy;
          const hy = og * Math.tanh(cy);
          if (rawStep) rawStep[n * H + j] = hy;
          else out[o + j] = hy;
        }
        cAfter?.set(c.subarray(n * H, (n + 1) * H), row * H);
        if (raw && rawStep) raw.set(rawStep.subarray(n * H, (n + 1) * H), row * H);
      } else if (mode === 'GRU') {
        for (let j = 0; j < H; j++) {
          const r = sigmoid((gh[a + j] as number) + (gx[b + j] as number));
          const z = sigmoid((gh[a + H + j] as number) + (gx[b + H + j] as number));
          const hn = gh[a + 2 * H + j] as number;
          const nn = Math.tanh((gx[b + 2 * H + j] as number) + r * hn);
          gates[b + j] = r;
          gates[b + H + j] = z;
          gates[b + 2 * H + j] = nn;
          (cAfter as Float32Array)[row * H + j] = hn;
          out[o + j] = ((h[n * P + j] as number) - nn) * z + nn;
        }
      } else {
        const relu = mode === 'RNN_RELU';
        for (let j = 0; j < H; j++) {
          const v = (gh[a + j] as number) + (gx[b + j] as number);
          out[o + j] = relu ? reluScalar(v) : Math.tanh(v);
          gates[b + j] = out[o + j] as number;
        }
      }
    }
    if (rawStep && whr) sgemm(false, true, nt, P, H, 1, rawStep, 0, H, whr, 0, H, 0, out, at, ld);
    for (let n = 0; n < nt; n++) h.set(out.subarray(at + n * ld, at + n * ld + P), n * P);
  }
  s.hN.set(h);
  s.cN?.set(c);
  return { gates, hPrev, cPrev, cAfter, raw };
}

/** The gradients of `recurrentCpuTrain`'s inputs, from its outputs' gradients (null: zeros). */
export function recurrentCpuBackward(args: RnnArgs, savedAny: unknown, grads: RnnGradOutputs): RnnGrads {
  const saved = savedAny as CpuSaved;
  const { g } = saved;
  const { L, D, N, H, P, G, width, rows } = g;
  const GH = G * H;
  const mode = args.cell.mode;
  const lstm = mode === 'LSTM';
  const gradH = grads.hN ? cpuData(grads.hN, 'grad hN') : null;
  const gradC = grads.cN ? cpuData(grads.cN, 'grad cN') : null;
  const dh0 = new Float32Array(L * D * N * P);
  const dc0 = lstm ? new Float32Array(L * D * N * H) : null;
  // the gradient of the current layer's output, (rows, width)
  let dOut = grads.output ? cpuData(grads.output, 'grad output').slice() : new Float32Array(rows * width);
  const layers: RnnDirectionGrads[][] = new Array(L);
  let dInput = new Float32Array(0);
  for (let layer = L - 1; layer >= 0; layer--) {
    const x = saved.inputs[layer] as Float32Array;
    const inW = layerInputSize(g, layer);
    const dx = new Float32Array(rows * inW);
    const dirGrads: RnnDirectionGrads[] = [];
    (args.layers[layer] ?? []).forEach((w, d) => {
      const sv = (saved.dirs[layer] as DirectionSaved[])[d] as DirectionSaved;
      const state = (layer * D + d) * N;
      const dh = gradH ? gradH.slice(state * P, (state + N) * P) : new Float32Array(N * P);
      const dc = lstm ? (gradC ? gradC.slice(state * H, (state + N) * H) : new Float32Array(N * H)) : null;
      const dGx = new Float32Array(rows * GH);
      const dGh = mode === 'GRU' ? new Float32Array(rows * GH) : dGx;
      const dhAll = sv.raw ? new Float32Array(rows * P) : null; // the gradient of the projected h
      const whh = cpuData(w.weightHh, 'weight_hh');
      const whr = w.weightHr ? cpuData(w.weightHr, 'weight_hr') : null;
      const dStep = new Float32Array(N * GH); // this step's dGh rows, contiguous for the GEMM
      const dhy = new Float32Array(N * P);
      const draw = whr ? new Float32Array(N * H) : null;
      const ld = g.strideN * width;
      for (let i = g.T - 1; i >= 0; i--) {
        const t = stepTime(g, i, d);
        const nt = stepBatch(g, t);
        const at = rowOf(g, t, 0) * width + d * P;
        for (let n = 0; n < nt; n++) {
          const o = at + n * ld;
          for (let j = 0; j < P; j++) dhy[n * P + j] = (dh[n * P + j] as number) + (dOut[o + j] as number);
        }
        let dhc = dhy; // the gradient of the cell's own h (before any projection)
        if (whr && draw && dhAll) {
          for (let n = 0; n < nt; n++) dhAll.set(dhy.subarray(n * P, (n + 1) * P), rowOf(g, t, n) * P);
          sgemm(false, false, nt, H, P, 1, dhy, 0, P, whr, 0, H, 0, draw, 0, H);
          dhc = draw;
        }
        for (let n = 0; n < nt; n++) {
          const row = rowOf(g, t, n);
          const b = row * GH;
          const a = n * GH;
          const gt = sv.gates;
          if (lstm) {
            const cA = sv.cAfter as Float32Array;
            const cP = sv.cPrev as Float32Array;
            const dcb = dc as Float32Array;
            for (let j = 0; j < H; j++) {
              const ig = gt[b + j] as number;
              const fg = gt[b + H + j] as number;
              const cg = gt[b + 2 * H + j] as number;
              const og = gt[b + 3 * H + j] as number;
              const tc = Math.tanh(cA[row * H + j] as number);
              const dhv = dhc[n * H + j] as number;
              const dcv = (dcb[n * H + j] as number) + dhv * og * (1 - tc * tc);
              dcb[n * H + j] = dcv * fg;
              dStep[a + j] = dcv * cg * ig * (1 - ig);
              dStep[a + H + j] = dcv * (cP[row * H + j] as number) * fg * (1 - fg);
              dStep[a + 2 * H + j] = dcv * ig * (1 - cg * cg);
              dStep[a + 3 * H + j] = dhv * tc * og * (1 - og);
            }
            dGx.set(dStep.subarray(a, a + GH), b);
          } else if (mode === 'GRU') {
            const hn = sv.cAfter as Float32Array;
            for (let j = 0; j < H; j++) {
              const r = gt[b + j] as number;
              const z = gt[b + H + j] as number;
              const nn = gt[b + 2 * H + j] as number;
              const dhv = dhc[n * P + j] as number;
              const dn = dhv * (1 - z) * (1 - nn * nn);
              const dz = dhv * ((sv.hPrev[row * P + j] as number) - nn) * z * (1 - z);
              const dr = dn * (hn[row * H + j] as number) * r * (1 - r);
              dGx[b + j] = dr;
              dGx[b + H + j] = dz;
              dGx[b + 2 * H + j] = dn;
              dStep[a + j] = dr;
              dStep[a + H + j] = dz;
              dStep[a + 2 * H + j] = dn * r;
              dh[n * P + j] = dhv * z; // the direct path; the GEMM adds the rest
            }
            dGh.set(dStep.subarray(a, a + GH), b);
          } else {
            const relu = mode === 'RNN_RELU';
            for (let j = 0; j < H; j++) {
              const y = gt[b + j] as number;
              const dv = dhc[n * P + j] as number;
              dStep[a + j] = relu ? (y > 0 ? dv : 0) : dv * (1 - y * y);
            }
            dGx.set(dStep.subarray(a, a + GH), b);
          }
        }
        // dh_prev = dgates·W_hh (GRU: plus the direct z path already in dh)
        sgemm(false, false, nt, P, GH, 1, dStep, 0, GH, whh, 0, P, mode === 'GRU' ? 1 : 0, dh, 0, P);
      }
      dh0.set(dh, state * P);
      if (dc && dc0) dc0.set(dc, state * H);
      // backward-weights: whole-sequence GEMMs
      const dWih = new Float32Array(GH * inW);
      sgemm(true, false, GH, inW, rows, 1, dGx, 0, GH, x, 0, inW, 0, dWih, 0, inW);
      const dWhh = new Float32Array(GH * P);
      sgemm(true, false, GH, P, rows, 1, dGh, 0, GH, sv.hPrev, 0, P, 0, dWhh, 0, P);
      sgemm(
        false,
        false,
        rows,
        inW,
        GH,
        1,
        dGx,
        0,
        GH,
        cpuData(w.weightIh, 'weight_ih'),
        0,
        inW,
        1,
        dx,
        0,
        inW,
      );
      let dWhr: Float32Array | null = null;
      if (dhAll && sv.raw) {
        dWhr = new Float32Array(P * H);
        sgemm(true, false, P, H, rows, 1, dhAll, 0, P, sv.raw, 0, H, 0, dWhr, 0, H);
      }
      const tensor = (a: Float32Array, shape: number[]) => Tensor.fromArray(a, shape);
      dirGrads.push({
        weightIh: tensor(dWih, [GH, inW]),
        weightHh: tensor(dWhh, [GH, P]),
        biasIh: w.biasIh ? tensor(columnSums(dGx, rows, GH), [GH]) : null,
        biasHh: w.biasHh ? tensor(columnSums(dGh, rows, GH), [GH]) : null,
        weightHr: dWhr ? tensor(dWhr, [P, H]) : null,
      });
    });
    layers[layer] = dirGrads;
    if (layer > 0) {
      const mask = saved.masks[layer - 1];
      if (mask) for (let k = 0; k < dx.length; k++) dx[k] = (dx[k] as number) * (mask[k] as number);
      dOut = dx;
    } else dInput = dx;
  }
  return {
    input: Tensor.fromArray(dInput, [...args.input.shape]),
    h0: Tensor.fromArray(dh0, [...g.hShape]),
    c0: dc0 ? Tensor.fromArray(dc0, [...g.cShape]) : null,
    layers,
  };
}

function columnSums(a: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) acc[j] = (acc[j] as number) + (a[r * cols + j] as number);
  return Float32Array.from(acc);
}

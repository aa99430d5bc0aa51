import {
  type GpuRuntime,
  type Recorder,
  recordDropout,
  recordGemm,
  recordGradProj,
  recordGradStep,
  STORAGE_USAGE,
} from '@recurrent/kernels-webgpu';
import type { Tensor } from '@recurrent/tensor';
import { modeModule } from '../cell.js';
import { layerInputSize } from './geometry.js';
import type { RnnArgs, RnnDirectionGrads, RnnGradOutputs, RnnGrads } from './types.js';
import { type GpuSaved, recordDirGemm, stepRows, svLayout } from './webgpu-grad.js';
import { CELL_KIND, weightBuffers } from './webgpu-rnn.js';

/**
 * Backpropagation through time on WebGPU (`Backend.rnnBackward`), one command buffer and one submit, no
 * readback. Per layer (last first), both directions together: per step (backward in time) the gate
 * derivatives (`gradStepKernel`, with LSTM's projection `dh·W_hr` before it) and `dh_prev = dgates·W_hh`
 * (one GEMM); then the whole-sequence GEMMs `dW_ih = dgatesᵀ·x`, `dW_hh = dgatesᵀ·h_prev`,
 * `dW_hr = dhᵀ·(o⊙tanh c)`, the biases as `1ᵀ·dgates`, and `dx = dgates·W_ih`, masked by the dropout of
 * the layer below. The saved tensors are released after the submit (a second call throws).
 */
export function rnnBackwardWebGPU(
  runtime: GpuRuntime,
  args: RnnArgs,
  savedAny: unknown,
  grads: RnnGradOutputs,
  retain = false,
): RnnGrads {
  runtime.check();
  const saved = savedAny as GpuSaved;
  const { g } = saved;
  const { T, N, D, L, G, H, P, width, rows } = g;
  const GH = G * H;
  const cell = CELL_KIND[args.cell.mode];
  const module = modeModule(args.cell.mode);
  const [lstm, gru] = [cell === 'lstm', cell === 'gru'];
  const layout = svLayout(g, args.cell.mode);
  const of = (t: Tensor, what: string) => runtime.bufferOf(t, `${module} ${what}`);
  const input = of(args.input, 'input');
  const gradOut = grads.output ? of(grads.output, 'output gradient') : null;
  const gradH = grads.hN ? of(grads.hN, 'hN gradient') : null;
  const gradC = grads.cN && lstm ? of(grads.cN, 'cN gradient') : null;
  const weights = weightBuffers(runtime, args);
  const gates = saved.gates.map((t, k) => of(t, `saved gates of layer ${k}`));
  const svs = saved.sv.map((t, k) => of(t, `saved states of layer ${k}`));
  const inputs = saved.inputs.map((t, k) => of(t, `saved input of layer ${k + 1}`));
  const masks = saved.masks.map((t, k) => (t ? of(t, `saved dropout mask of layer ${k}`) : null));
  const owned: GPUBuffer[] = [];
  const acquire = (floats: number, what: string): GPUBuffer => {
    const b = runtime.acquire(Math.max(4, floats * 4), STORAGE_USAGE, what);
    owned.push(b);
    return b;
  };
  const tensors: { buffer: GPUBuffer; shape: number[] }[] = [];
  const result = (floats: number, shape: number[], what: string) => {
    const buffer = acquire(floats, what);
    tensors.push({ buffer, shape });
    return tensors.length - 1;
  };
  const dInput = result(rows * g.inputSize, [...args.input.shape], 'the input gradient');
  const dh0 = result(L * D * N * P, [...g.hShape], 'the h0 gradient');
  const dc0 = lstm ? result(L * D * N * H, [...g.cShape], 'the c0 gradient') : -1;
  const layerGrads: Record<keyof RnnDirectionGrads, number>[][] = [];
  let rec: Recorder | null = null;
  try {
    rec = runtime.recorder();
    const r = rec;
    const buf = (i: number) => (tensors[i] as { buffer: GPUBuffer }).buffer;
    const dh = r.scratch(D * N * P * 4);
    const dc = lstm ? r.scratch(D * N * H * 4) : null;
    const dhc = g.P !== g.H ? r.scratch(D * N * H * 4) : null;
    const zeros = r.upload(new Float32Array(Math.max(D * N * H, gradOut ? 0 : rows * width)));
    const ones = r.upload(new Float32Array(rows).fill(1));
    const ghOff = gru ? rows * D * GH : 0;
    let dOut = gradOut ?? zeros;
    for (let layer = L - 1; layer >= 0; layer--) {
      const w = weights[layer] as (typeof weights)[number];
      const [gx, sv] = [gates[layer] as GPUBuffer, svs[layer] as GPUBuffer];
      const x = layer === 0 ? input : (inputs[layer - 1] as GPUBuffer);
      const K = layerInputSize(g, layer);
      const dirs = w.ih.map((_, d) => d);
      const dg = r.scratch(Math.max(4, (gru ? 2 : 1) * rows * D * GH * 4));
      const dhAll = dhc ? r.scratch(Math.max(4, rows * width * 4)) : null;
      const states = layer * D * N;
      r.copy(gradH ?? zeros, gradH ? states * P * 4 : 0, dh, 0, D * N * P * 4);
      if (dc) r.copy(gradC ?? zeros, gradC ? states * H * 4 : 0, dc, 0, D * N * H * 4);
      for (let i = T - 1; i >= 0; i--) {
        const rows0 = stepRows(g, i);
        const rowAt = [rows0.row0, rows0.row1];
        const M = [rows0.active0, rows0.active1].slice(0, D);
        const base = { D, N, P, rows: rows0 };
        if (dhc && dhAll && w.hr) {
          recordGradProj(r, { ...base, dh, dOut, dhAll });
          const aOffset = dirs.map((d) => (rowAt[d] as number) * width + d * P);
          const a = { M, N: H, K: P, a: dhAll, aOffset, sai: rows0.rs * width, sap: 1 };
          recordDirGemm(r, {
            ...a,
            b: w.hr,
            sbp: H,
            sbj: 1,
            c: dhc,
            cOffset: dirs.map((d) => d * N * H),
            ldc: H,
          });
        }
        const step = { ...base, cell, H, gates: gx, sv, offC0: layout.offC0, offC1: layout.offC1 };
        recordGradStep(r, { ...step, dOut, dhc, dh, dc, dg, ghOff });
        // dh_prev = dgates·W_hh (GRU: added to the direct path the kernel left in dh)
        const aOffset = dirs.map((d) => ghOff + (rowAt[d] as number) * D * GH + d * GH);
        const a = { M, N: P, K: GH, a: dg, aOffset, sai: rows0.rs * D * GH, sap: 1 };
        const c = { c: dh, cOffset: dirs.map((d) => d * N * P), ldc: P, accumulate: gru };
        recordDirGemm(r, { ...a, b: w.hh, sbp: P, sbj: 1, ...c });
      }
      r.copy(dh, 0, buf(dh0), states * P * 4, D * N * P * 4);
      if (dc) r.copy(dc, 0, buf(dc0), states * H * 4, D * N * H * 4);
      layerGrads[layer] = dirs.map((d) => {
        const name = `_l${layer}${d ? '_reverse' : ''}`;
        const ids = {
          weightIh: result(GH * K, [GH, K], `the gradient of weight_ih${name}`),
          weightHh: result(GH * P, [GH, P], `the gradient of weight_hh${name}`),
          biasIh: w.bih ? result(GH, [GH], `the gradient of bias_ih${name}`) : -1,
          biasHh: w.bhh ? result(GH, [GH], `the gradient of bias_hh${name}`) : -1,
          weightHr: w.hr ? result(P * H, [P, H], `the gradient of weight_hr${name}`) : -1,
        };
        // whole-sequence GEMMs over the rows: op(A) = a block of dgates (or dhAll) transposed
        const dgT = (off: number) => ({
          M: GH,
          K: rows,
          a: dg,
          aOffset: [off + d * GH],
          sai: 1,
          sap: D * GH,
        });
        const at = (i: number) => ({ c: buf(i), cOffset: [0] });
        recordGemm(r, { ...dgT(0), N: K, b: [x], sbp: K, sbj: 1, ...at(ids.weightIh), ldc: K });
        const hPrev = { b: [sv], bOffset: [d * P], sbp: width, sbj: 1 };
        recordGemm(r, { ...dgT(ghOff), N: P, ...hPrev, ...at(ids.weightHh), ldc: P });
        const sums = {
          M: 1,
          K: rows,
          a: ones,
          aOffset: [0],
          sai: 0,
          sap: 1,
          N: GH,
          b: [dg],
          sbp: D * GH,
          sbj: 1,
        };
        if (ids.biasIh >= 0) recordGemm(r, { ...sums, bOffset: [d * GH], ...at(ids.biasIh), ldc: GH });
        if (ids.biasHh >= 0)
          recordGemm(r, { ...sums, bOffset: [ghOff + d * GH], ...at(ids.biasHh), ldc: GH });
        if (ids.weightHr >= 0 && dhAll) {
          const raw = { b: [sv], bOffset: [layout.offRaw + d * H], sbp: D * H, sbj: 1 };
          const a = { M: P, K: rows, a: dhAll, aOffset: [d * P], sai: 1, sap: width };
          recordGemm(r, { ...a, N: H, ...raw, ...at(ids.weightHr), ldc: H });
        }
        return ids;
      });
      // dx = Σ_d dgates_d·W_ih_d, masked by the dropout of the layer below
      const dx = layer === 0 ? buf(dInput) : r.scratch(Math.max(4, rows * K * 4));
      for (const d of dirs) {
        const a = { M: rows, N: K, K: GH, a: dg, aOffset: [d * GH], sai: D * GH, sap: 1 };
        const b = { b: [w.ih[d] as GPUBuffer], sbp: K, sbj: 1 };
        recordGemm(r, { ...a, ...b, c: dx, cOffset: [0], ldc: K, accumulate: d > 0 });
      }
      if (layer > 0 && args.dropout) {
        const mask = masks[layer - 1] ?? null;
        const [t, n] = g.batchSizes ? [rows, 1] : [T, N];
        const scale = mask ? 1 / (1 - args.dropout.p) : 0;
        recordDropout(r, { out: dx, mask, T: t, N: n, width, batchFirst: g.batchFirst, scale, zero: !mask });
      }
      dOut = dx;
    }
    rec.submit();
  } catch (error) {
    rec?.discard();
    for (const b of owned) runtime.release(b);
    throw error;
  }
  // a retained graph keeps them for the next backward
  if (!retain) for (const t of [...saved.gates, ...saved.sv, ...saved.inputs, ...saved.masks]) t?.dispose();
  const out = tensors.map((t) => runtime.tensor(t.buffer, t.shape));
  const pick = (i: number) => (i >= 0 ? (out[i] as Tensor<'float32'>) : null);
  return {
    input: pick(dInput) as Tensor<'float32'>,
    h0: pick(dh0) as Tensor<'float32'>,
    c0: pick(dc0),
    layers: layerGrads.map((dirs) =>
      dirs.map((ids) => ({
        weightIh: pick(ids.weightIh) as Tensor<'float32'>,
        weightHh: pick(ids.weightHh) as Tensor<'float32'>,
        biasIh: pick(ids.biasIh),
        biasHh: pick(ids.biasHh),
        weightHr: pick(ids.weightHr),
      })),
    ),
  };
}

import {
  type GemmArgs,
  type GpuRuntime,
  packWeights,
  type Recorder,
  recordGemm,
  recordTrainStep,
  STORAGE_USAGE,
  type StepRows,
} from '@recurrent/kernels-webgpu';
import type { Tensor } from '@recurrent/tensor';
import { modeModule } from '../cell.js';
import { layerInputSize, rowOf, type SeqGeometry, seqGeometry, stepBatch, stepTime } from './geometry.js';
import type { RnnArgs, RnnTrainResult } from './types.js';
import { CELL_KIND, recordMask, weightBuffers } from './webgpu-rnn.js';

/**
 * Training on WebGPU, cuDNN's split as `cpu-grad.ts` does it on the CPU, every pass one command buffer and
 * one submit, no readback. The training forward runs per step one fused dispatch (`trainStepKernel`: the
 * GEMM `gh = h_{t−1}·W_hhᵀ + b_hh` from a state buffer `(D, N, P)`, so a packed batch's sequences keep
 * their own state where they have no row, and the cell update), which saves the activated gates in place of
 * the input projections and the states in `sv`; the backward (`webgpu-grad-backward.ts`) reads them.
 */

/** Where the regions of a layer's `sv` start (elements): h_{t−1} `(rows, D·P)` at 0, then `(rows, D·H)` each. */
export interface SvLayout {
  offC0: number;
  offC1: number;
  offRaw: number;
  size: number;
}

export function svLayout(g: SeqGeometry, mode: RnnArgs['cell']['mode']): SvLayout {
  const block = g.rows * g.D * g.H;
  const offC0 = g.rows * g.width;
  const offC1 = offC0 + (mode === 'LSTM' ? block : 0);
  const offRaw = offC1 + (mode === 'LSTM' || mode === 'GRU' ? block : 0);
  return { offC0, offC1, offRaw, size: offRaw + (g.P !== g.H ? block : 0) };
}

/** What `rnnTrainWebGPU` keeps for the backward: GPU tensors (collected if the backward never runs). */
export interface GpuSaved {
  readonly g: SeqGeometry;
  /** Per layer: the activated gates `(rows, D·G·H)` and the saved states (`SvLayout`). */
  readonly gates: Tensor[];
  readonly sv: Tensor[];
  /** The input of layers 1… (the output of the layer below, after dropout). */
  readonly inputs: Tensor[];
  /** Per layer but the last: the dropout mask of its output (`(rows·width)` 0/1), or null (none, or p = 1). */
  readonly masks: (Tensor | null)[];
}

/** The rows iteration `i` of the recurrence touches, per direction. */
export function stepRows(g: SeqGeometry, i: number): StepRows {
  const t = (d: number) => stepTime(g, i, Math.min(d, g.D - 1));
  return {
    row0: rowOf(g, t(0), 0),
    row1: rowOf(g, t(1), 0),
    active0: stepBatch(g, t(0)),
    active1: g.D === 2 ? stepBatch(g, t(1)) : 0,
    rs: g.batchSizes ? 1 : g.strideN,
  };
}

/** A GEMM per direction, given as `Z` in one dispatch (workgroup z) when their row counts agree. */
export type DirGemm = Omit<GemmArgs, 'M' | 'aOffset' | 'bOffset' | 'cOffset' | 'b' | 'bias'> & {
  M: number[];
  aOffset: number[];
  bOffset?: number[];
  cOffset: number[];
  b: GPUBuffer[];
  bias?: GPUBuffer[] | null;
};

export function recordDirGemm(rec: Recorder, a: DirGemm): void {
  const { M } = a;
  if (M.every((m) => m === M[0])) {
    recordGemm(rec, { ...a, M: M[0] ?? 0 });
    return;
  }
  M.forEach((m, d) => {
    const pick = <T>(xs: T[]): T[] => [xs[d] as T];
    const bias = a.bias ? pick(a.bias) : null;
    const bOffset = a.bOffset ? pick(a.bOffset) : undefined;
    recordGemm(rec, {
      ...a,
      M: m,
      aOffset: pick(a.aOffset),
      cOffset: pick(a.cOffset),
      b: pick(a.b),
      bias,
      bOffset,
    });
  });
}

/** The training forward (same results as `rnnWebGPU`), saving what `rnnBackwardWebGPU` reads. */
export function rnnTrainWebGPU(runtime: GpuRuntime, args: RnnArgs): RnnTrainResult {
  runtime.check();
  const g = seqGeometry(args);
  const { T, N, D, L, G, H, P, width, rows } = g;
  const GH = G * H;
  const cell = CELL_KIND[args.cell.mode];
  const module = modeModule(args.cell.mode);
  const lstm = cell === 'lstm';
  const input = runtime.bufferOf(args.input, `${module} input`);
  const h0 = args.h0 ? runtime.bufferOf(args.h0, `${module} h0`) : null;
  const c0 = args.c0 && lstm ? runtime.bufferOf(args.c0, `${module} c0`) : null;
  const weights = weightBuffers(runtime, args);
  const layout = svLayout(g, args.cell.mode);
  const owned: GPUBuffer[] = [];
  const acquire = (floats: number, what: string): GPUBuffer => {
    const b = runtime.acquire(Math.max(4, floats * 4), STORAGE_USAGE, what);
    owned.push(b);
    return b;
  };
  const hN = acquire(L * D * N * P, `hN (${L * D}, ${N}, ${P})`);
  const cN = lstm ? acquire(L * D * N * H, `cN (${L * D}, ${N}, ${H})`) : null;
  const gates: GPUBuffer[] = [];
  const svs: GPUBuffer[] = [];
  const outs: GPUBuffer[] = [];
  const masks: (GPUBuffer | null)[] = [];
  let rec: Recorder | null = null;
  try {
    rec = runtime.recorder();
    const hs = [rec.scratch(D * N * P * 4), rec.scratch(D * N * P * 4)] as const;
    const cs = lstm ? rec.scratch(D * N * H * 4) : null;
    const zeros = h0 && (c0 || !lstm) ? null : rec.upload(new Float32Array(D * N * H));
    let x = input;
    for (const [layer, w] of weights.entries()) {
      const K = layerInputSize(g, layer);
      const gx = acquire(rows * D * GH, `the saved gates of layer ${layer} (${rows} rows of ${D * GH})`);
      const sv = acquire(layout.size, `the saved states of layer ${layer}`);
      const out = acquire(rows * width, `layer ${layer}'s output (${rows} rows of ${width})`);
      gates.push(gx);
      svs.push(sv);
      outs.push(out);
      rec.copy(h0 ?? (zeros as GPUBuffer), h0 ? layer * D * N * P * 4 : 0, hs[0], 0, D * N * P * 4);
      if (cs) rec.copy(c0 ?? (zeros as GPUBuffer), c0 ? layer * D * N * H * 4 : 0, cs, 0, D * N * H * 4);
      const dirs = w.ih.map((_, d) => d);
      const a = { M: rows, N: GH, K, a: x, aOffset: [0], sai: K, sap: 1 };
      const cOffset = dirs.map((d) => d * GH);
      recordGemm(rec, { ...a, b: w.ih, sbp: 1, sbj: K, bias: w.bih, c: gx, cOffset, ldc: D * GH });
      const packed = packWeights(rec, { cell, H, P, wHh: w.hh, bHh: w.bhh, wHr: null });
      for (let i = 0; i < T; i++) {
        const r = stepRows(g, i);
        const [hsIn, hsOut] = [hs[i % 2] as GPUBuffer, hs[(i + 1) % 2] as GPUBuffer];
        const step = { cell, D, N, H, P, rows: r, w: packed, hasBias: w.bhh !== null, gx, hsIn, hsOut };
        recordTrainStep(rec, { ...step, cs, sv, ...layout, out, proj: w.hr !== null });
        if (!w.hr) continue;
        // h = (o⊙tanh c)·W_hrᵀ into the output rows and the state
        const rowAt = [r.row0, r.row1];
        const M = [r.active0, r.active1].slice(0, D);
        const project = { M, N: P, K: H, a: sv, sai: r.rs * D * H, sap: 1, b: w.hr, sbp: 1, sbj: H };
        const aOffset = dirs.map((d) => layout.offRaw + (rowAt[d] as number) * D * H + d * H);
        const cOut = dirs.map((d) => (rowAt[d] as number) * width + d * P);
        recordDirGemm(rec, { ...project, aOffset, c: out, cOffset: cOut, ldc: r.rs * width });
        const hsAt = dirs.map((d) => d * N * P);
        recordDirGemm(rec, { ...project, aOffset, c: hsOut, cOffset: hsAt, ldc: P });
      }
      rec.copy(hs[T % 2] as GPUBuffer, 0, hN, layer * D * N * P * 4, D * N * P * 4);
      if (cs && cN) rec.copy(cs, 0, cN, layer * D * N * H * 4, D * N * H * 4);
      if (layer < L - 1) masks.push(args.dropout ? recordMask(rec, g, out, args.dropout, acquire) : null);
      x = out;
    }
    rec.submit();
  } catch (error) {
    rec?.discard();
    for (const b of owned) runtime.release(b);
    throw error;
  }
  const tensor = (b: GPUBuffer, n: number) => runtime.tensor(b, [n]);
  const output = outs.pop() as GPUBuffer;
  return {
    result: {
      output: runtime.tensor(output, [...g.outputShape]),
      hN: runtime.tensor(hN, [...g.hShape]),
      cN: cN ? runtime.tensor(cN, [...g.cShape]) : null,
    },
    saved: {
      g,
      gates: gates.map((b) => tensor(b, rows * D * GH)),
      sv: svs.map((b) => tensor(b, layout.size)),
      inputs: outs.map((b) => tensor(b, rows * width)),
      masks: masks.map((b) => (b ? tensor(b, rows * width) : null)),
    } satisfies GpuSaved,
  };
}

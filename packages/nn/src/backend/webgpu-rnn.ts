import {
  type CellKind,
  type GpuRuntime,
  packedSteps,
  persistentPlan,
  type Recorder,
  recordDropout,
  recordGemm,
  recordPersistentRecurrence,
  recordStepRecurrence,
  STORAGE_USAGE,
} from '@recurrent/kernels-webgpu';
import { fillBernoulli, type Tensor } from '@recurrent/tensor';
import { modeModule, type RnnMode } from '../cell.js';
import { layerInputSize, type SeqGeometry, seqGeometry } from './geometry.js';
import type { DropoutSpec, RnnArgs, RnnResult } from './types.js';

export const CELL_KIND: Record<RnnMode, CellKind> = {
  RNN_TANH: 'tanh',
  RNN_RELU: 'relu',
  LSTM: 'lstm',
  GRU: 'gru',
};

/** One layer's weight buffers, per direction (null: the module has none). */
export interface LayerBuffers {
  ih: GPUBuffer[];
  hh: GPUBuffer[];
  bih: GPUBuffer[] | null;
  bhh: GPUBuffer[] | null;
  hr: GPUBuffer[] | null;
}

/** The GPU buffers of every layer's weights, per direction (each checked: device, not disposed). */
export function weightBuffers(runtime: GpuRuntime, args: RnnArgs): LayerBuffers[] {
  return args.layers.map((dirs, k) => {
    const of = (t: Tensor, name: string, d: number) =>
      runtime.bufferOf(t, `${name}_l${k}${d ? '_reverse' : ''}`);
    const all = (pick: (w: (typeof dirs)[number]) => Tensor | null, name: string) =>
      dirs[0] && pick(dirs[0]) ? dirs.map((w, d) => of(pick(w) as Tensor, name, d)) : null;
    return {
      ih: dirs.map((w, d) => of(w.weightIh, 'weight_ih', d)),
      hh: dirs.map((w, d) => of(w.weightHh, 'weight_hh', d)),
      bih: all((w) => w.biasIh, 'bias_ih'),
      bhh: all((w) => w.biasHh, 'bias_hh'),
      hr: all((w) => w.weightHr, 'weight_hr'),
    };
  });
}

/** Whether a forward of `args` runs the persistent kernel (it fits, and the batch fits the dispatch grid). */
function fitsPersistent(runtime: GpuRuntime, cell: CellKind, g: SeqGeometry): boolean {
  const plan = persistentPlan(cell, g.H, g.P, runtime.limits);
  const rows = plan ? Math.max(1, Math.min(g.N, plan.rows)) : 1;
  return plan !== null && Math.ceil(g.N / rows) <= runtime.limits.maxComputeWorkgroupsPerDimension;
}

/**
 * The whole forward as one command buffer and one submit, no readback: per layer, the input projection
 * of every time step, gate and direction as one GEMM (`gx = x·W_ihᵀ + b_ih`, direction d at columns
 * d·G·H), then the recurrence (the persistent kernel, or one fused dispatch per step) writing h into the
 * layer output at columns d·P and the last h and c into hN and cN, then dropout. Rows keep the input's own
 * order (batch-first needs no transpose).
 *
 * Packed (`batchSizes`): the GEMMs run over the Σ batchSizes real rows only, the step table (first row and
 * batch of every step) is uploaded once in the same submit and shared by every layer, and the recurrence
 * computes only each step's sequences (each sequence's own last h and c land in hN and cN).
 */
export function rnnWebGPU(runtime: GpuRuntime, args: RnnArgs, persistent: boolean): RnnResult {
  runtime.check();
  const g = seqGeometry(args);
  const { T, N, D, L, G, H, P, width, rows } = g;
  const cell = CELL_KIND[args.cell.mode];
  const module = modeModule(args.cell.mode);
  // every tensor is checked (device, not disposed) before anything is allocated
  const input = runtime.bufferOf(args.input, `${module} input`);
  const h0 = args.h0 ? runtime.bufferOf(args.h0, `${module} h0`) : null;
  const c0 = args.c0 && cell === 'lstm' ? runtime.bufferOf(args.c0, `${module} c0`) : null;
  const weights = weightBuffers(runtime, args);
  const record =
    persistent && fitsPersistent(runtime, cell, g) ? recordPersistentRecurrence : recordStepRecurrence;

  const hN = runtime.acquire(L * D * N * P * 4, STORAGE_USAGE, `hN (${L * D}, ${N}, ${P})`);
  const cN =
    cell === 'lstm' ? runtime.acquire(L * D * N * H * 4, STORAGE_USAGE, `cN (${L * D}, ${N}, ${H})`) : null;
  const outs: GPUBuffer[] = [];
  let rec: Recorder | null = null;
  try {
    rec = runtime.recorder();
    const gxWidth = D * G * H;
    const gx = rec.scratch(rows * gxWidth * 4, `the gate pre-activations (${rows} rows of ${gxWidth})`);
    const packed = g.batchSizes ? packedSteps(rec, g.batchSizes) : null;
    let x = input;
    for (const [layer, w] of weights.entries()) {
      const K = layerInputSize(g, layer);
      const out = runtime.acquire(
        rows * width * 4,
        STORAGE_USAGE,
        `layer ${layer}'s output (${rows} rows of ${width})`,
      );
      outs.push(out);
      const cOffset = w.ih.map((_, d) => d * G * H);
      const a = { M: rows, N: G * H, K, a: x, aOffset: [0], sai: K, sap: 1 };
      recordGemm(rec, { ...a, b: w.ih, sbp: 1, sbj: K, bias: w.bih, c: gx, cOffset, ldc: gxWidth });
      record(rec, {
        ...{ cell, T, N, H, P, strideT: g.strideT, strideN: g.strideN },
        ...{ wHh: w.hh, bHh: w.bhh, wHr: w.hr, gx, h0, c0, out, hN, cN, packed },
        ...{ hBase: layer * D * N * P, cBase: layer * D * N * H },
      });
      if (args.dropout && layer < L - 1) recordMask(rec, g, out, args.dropout);
      x = out;
    }
    rec.submit();
  } catch (error) {
    rec?.discard();
    for (const b of [...outs, hN, ...(cN ? [cN] : [])]) runtime.release(b);
    throw error;
  }
  const output = outs.pop() as GPUBuffer;
  for (const b of outs) runtime.release(b); // queue order: the submitted work reads them first
  return {
    output: runtime.tensor(output, [...g.outputShape]),
    hN: runtime.tensor(hN, [...g.hShape]),
    cN: cN ? runtime.tensor(cN, [...g.cShape]) : null,
  };
}

/**
 * Dropout with a mask drawn on the CPU in PyTorch's order (sequence-first; packed: the rows in order), as
 * the CPU backend draws it. A training forward passes `keep` to hold the mask in a buffer of its own for
 * the backward (returned; null for p = 1, which zeroes); otherwise it is a per-submit upload.
 */
export function recordMask(
  rec: Recorder,
  g: SeqGeometry,
  out: GPUBuffer,
  { p, generator }: DropoutSpec,
  keep?: (floats: number, what: string) => GPUBuffer,
): GPUBuffer | null {
  const [T, N] = g.batchSizes ? [g.rows, 1] : [g.T, g.N];
  const base = { out, T, N, width: g.width, batchFirst: g.batchFirst };
  if (p === 1) {
    recordDropout(rec, { ...base, mask: null, scale: 0, zero: true });
    return null;
  }
  const data = new Float32Array(g.rows * g.width);
  fillBernoulli(data, 1 - p, generator);
  let mask: GPUBuffer;
  if (keep) {
    mask = keep(data.length, 'a dropout mask');
    rec.runtime.write(mask, data);
  } else mask = rec.upload(data);
  recordDropout(rec, { ...base, mask, scale: 1 / (1 - p), zero: false });
  return mask;
}

import {
  type GpuRuntime,
  persistentFits,
  type Recorder,
  recordDropout,
  recordGemm,
  recordPersistentRecurrence,
  STORAGE_USAGE,
  seqStrides,
} from '@recurrent/kernels-webgpu';
import { fillBernoulli } from '@recurrent/tensor';
import type { DropoutSpec, RnnArgs, RnnResult } from './types.js';

interface LayerBuffers {
  ih: GPUBuffer[];
  hh: GPUBuffer[];
  bih: GPUBuffer[] | null;
  bhh: GPUBuffer[] | null;
}

interface Shape {
  T: number;
  N: number;
  H: number;
  D: number;
  width: number;
  strideT: number;
  strideN: number;
  batchFirst: boolean;
}

/**
 * The whole forward as one command buffer and one submit: per layer, the input projection of every time
 * step and both directions as one GEMM (`x·W_ihᵀ + b_ih` written into the layer output at column d·H, so
 * the directions' outputs are concatenated in place), then the recurrence in place on it (persistent
 * kernel, or one fused GEMM + b_hh + activation dispatch per step), then dropout. Rows keep the input's
 * own order (batch-first needs no transpose).
 */
export function rnnWebGPU(runtime: GpuRuntime, args: RnnArgs, persistent: boolean): RnnResult {
  const { batchFirst, layers, hiddenSize: H } = args;
  const [d0, d1, inputSize] = args.input.shape as [number, number, number];
  const [T, N] = batchFirst ? [d1, d0] : [d0, d1];
  const D = layers[0]?.length ?? 1;
  const [strideT, strideN] = seqStrides(T, N, batchFirst);
  const s: Shape = { T, N, H, D, width: D * H, strideT, strideN, batchFirst };
  // every tensor is checked (device, not disposed) before anything is allocated
  const input = runtime.bufferOf(args.input, 'RNN input');
  const h0 = args.h0 ? runtime.bufferOf(args.h0, 'RNN h0') : null;
  const weights: LayerBuffers[] = layers.map((dirs, k) => {
    const of = (t: (typeof dirs)[number]['weightIh'], name: string, d: number) =>
      runtime.bufferOf(t, `${name}_l${k}${d ? '_reverse' : ''}`);
    return {
      ih: dirs.map((w, d) => of(w.weightIh, 'weight_ih', d)),
      hh: dirs.map((w, d) => of(w.weightHh, 'weight_hh', d)),
      bih: dirs[0]?.biasIh ? dirs.map((w, d) => of(w.biasIh ?? w.weightIh, 'bias_ih', d)) : null,
      bhh: dirs[0]?.biasHh ? dirs.map((w, d) => of(w.biasHh ?? w.weightHh, 'bias_hh', d)) : null,
    };
  });
  const rows = Math.max(1, Math.min(N, Math.floor(256 / H)));
  const usePersistent =
    persistent &&
    persistentFits(H, runtime.limits) &&
    Math.ceil(N / rows) <= runtime.limits.maxComputeWorkgroupsPerDimension;

  const hN = runtime.acquire(layers.length * D * N * H * 4, STORAGE_USAGE);
  const outs: GPUBuffer[] = [];
  try {
    const rec = runtime.recorder();
    let x = input;
    let xWidth = inputSize;
    weights.forEach((w, layer) => {
      const out = runtime.acquire(T * N * s.width * 4, STORAGE_USAGE);
      outs.push(out);
      recordGemm(rec, {
        M: T * N,
        N: H,
        K: xWidth,
        a: x,
        aOffset: [0],
        sai: xWidth,
        sap: 1,
        b: w.ih,
        sbp: 1,
        sbj: xWidth,
        bias: w.bih,
        c: out,
        cOffset: w.ih.map((_, d) => d * H),
        ldc: s.width,
      });
      const hBase = layer * D * N * H;
      if (usePersistent) {
        recordPersistentRecurrence(rec, {
          ...s,
          wHh: w.hh,
          bHh: w.bhh,
          h0,
          hBase,
          out,
          hN,
          activation: args.nonlinearity,
        });
      } else {
        recordSteps(rec, s, w, h0, hBase, out, hN, args.nonlinearity);
      }
      if (args.dropout && layer < layers.length - 1) recordMask(rec, s, out, args.dropout);
      x = out;
      xWidth = s.width;
    });
    rec.submit();
  } catch (error) {
    for (const b of [...outs, hN]) runtime.release(b);
    throw error;
  }
  const output = outs.pop() as GPUBuffer;
  for (const b of outs) runtime.release(b);
  return {
    output: runtime.tensor(output, batchFirst ? [N, T, s.width] : [T, N, s.width]),
    hN: runtime.tensor(hN, [layers.length * D, N, H]),
  };
}

/** One dispatch per step, both directions at once: `h_t = act(xproj_t + h_{t−1}·W_hhᵀ + b_hh)`. */
function recordSteps(
  rec: Recorder,
  s: Shape,
  w: LayerBuffers,
  h0: GPUBuffer | null,
  hBase: number,
  out: GPUBuffer,
  hN: GPUBuffer,
  activation: 'tanh' | 'relu',
): void {
  const { T, N, H, width, strideT, strideN } = s;
  const ld = strideN * width; // between the rows of consecutive batch entries at one step
  const time = (i: number, d: number) => (d ? T - 1 - i : i);
  const at = (t: number, d: number) => t * strideT * width + d * H;
  for (let i = 0; i < T; i++) {
    const first = i === 0;
    recordGemm(rec, {
      M: N,
      N: H,
      K: first && !h0 ? 0 : H,
      a: first ? (h0 ?? (w.hh[0] as GPUBuffer)) : 'c',
      aOffset: w.hh.map((_, d) => (first ? hBase + d * N * H : at(time(i - 1, d), d))),
      sai: first ? H : ld,
      sap: 1,
      b: w.hh,
      sbp: 1,
      sbj: H,
      bias: w.bhh,
      c: out,
      cOffset: w.hh.map((_, d) => at(time(i, d), d)),
      ldc: ld,
      accumulate: true,
      activation,
    });
  }
  w.hh.forEach((_, d) => {
    const last = at(time(T - 1, d), d);
    const dst = hBase + d * N * H;
    if (ld === H) rec.copy(out, last * 4, hN, dst * 4, N * H * 4);
    else for (let n = 0; n < N; n++) rec.copy(out, (last + n * ld) * 4, hN, (dst + n * H) * 4, H * 4);
  });
}

/** Dropout with a mask drawn on the CPU in PyTorch's order (sequence-first), as the CPU backend draws it. */
function recordMask(rec: Recorder, s: Shape, out: GPUBuffer, { p, generator }: DropoutSpec): void {
  const base = { out, T: s.T, N: s.N, width: s.width, batchFirst: s.batchFirst };
  if (p === 1) {
    recordDropout(rec, { ...base, mask: null, scale: 0, zero: true });
    return;
  }
  const mask = new Float32Array(s.T * s.N * s.width);
  fillBernoulli(mask, 1 - p, generator);
  recordDropout(rec, { ...base, mask: rec.upload(mask), scale: 1 / (1 - p), zero: false });
}

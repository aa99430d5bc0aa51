import {
  type Block,
  type Job,
  type PackLayout,
  packedGemmJob,
  recurJob,
  recurLayout,
  recurScratchFloats,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, Tensor } from '@recurrent/tensor';
import type { PreparedWeights } from './cpu-wasm-weights.js';
import { dropoutInPlace } from './dropout.js';
import { layerInputSize, rowOf, type SeqGeometry, stepTime } from './geometry.js';
import type { RnnArgs, RnnDirectionWeights, RnnResult } from './types.js';

/**
 * Work under this many FLOPs stays on the calling thread: waking a worker and joining it costs tens of
 * microseconds, what one thread needs for a few MFLOP.
 */
const PARALLEL_MIN_FLOPS = 4e6;

/** One layer-direction's parameters in the kernels' memory. */
interface DirectionBlocks {
  /** W_ihᵀ, packed for the projection GEMM. */
  ih: Block;
  /** W_hhᵀ, packed for the recurrence (the row kernel's layout for a batch of one). */
  hh: Block;
  /** W_hrᵀ (LSTM with projSize), packed like W_hh. */
  hr: Block | null;
  bih: Block | null;
  bhh: Block | null;
}

/**
 * The whole forward on the WebAssembly kernels. Per layer: for each direction the input projection of
 * every time step and gate as one GEMM (`gx = x·W_ihᵀ + b_ih`, rows split over the threads), then one
 * job per direction (and per share of the batch rows) runs every step of the recurrence inside
 * WebAssembly, the directions at once when there are threads for both; then dropout. Rows keep the
 * input's own order (batch-first needs no transpose). The Elman cell's gx is the layer output itself,
 * which the recurrence overwrites in place; LSTM and GRU have a gx buffer per direction.
 *
 * Parameters are prepared once (`PreparedWeights`); input, states and every intermediate live in one
 * scratch, released when the forward returns, and the results are copied out, so returned tensors never
 * alias the kernels' memory.
 */
export function recurrentWasm(
  ex: WasmExecutor,
  weights: PreparedWeights,
  args: RnnArgs,
  g: SeqGeometry,
): RnnResult {
  const { T, N, D, L, G, H, P, width, rows, strideT, strideN } = g;
  const { mode, hasCellState } = args.cell;
  const GH = G * H;
  const inPlace = G === 1;
  const layout = recurLayout(N);
  // parameters first, so the long-lived blocks sit together below this forward's scratch
  const params = args.layers.map((dirs, k) => dirs.map((w, d) => prepare(weights, w, layout, k, d)));
  return ex.arena.withScratch((s) => {
    const x0 = s.put(cpuData(args.input, 'input'));
    // without h0, one block of zeros serves every layer-direction (0·W_hh is still computed)
    const h0 = args.h0 ? s.put(cpuData(args.h0, 'h0')) : s.zeros(N * P);
    const c = hasCellState ? (args.c0 ? s.put(cpuData(args.c0, 'c0')) : s.zeros(L * D * N * H)) : null;
    const outs = [s.alloc(rows * width), L > 1 ? s.alloc(rows * width) : null];
    const gxs = inPlace ? [] : Array.from({ length: D }, () => s.alloc(rows * GH));
    const scratch = Array.from({ length: D }, () => s.alloc(recurScratchFloats(mode, N, H, P !== H)));
    const hN = new Float32Array(L * D * N * P);
    // the recurrences' threads: directions side by side, each over a share of the batch rows
    const recurThreads = 2 * T * N * GH * P * D >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
    const batchParts = split(N, N >= 8 ? Math.max(1, Math.floor(recurThreads / D)) : 1);

    let x = x0;
    let out = outs[0] as Block;
    params.forEach((dirs, layer) => {
      out = outs[layer % 2] as Block;
      const xWidth = layerInputSize(g, layer);
      const projThreads = 2 * rows * GH * xWidth >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
      const recurrences: Job[] = [];
      dirs.forEach((w, d) => {
        const [gx, gxLd] = inPlace ? [out.at(d * P), width] : [(gxs[d] as Block).at(), GH];
        const [a, b, bias] = [x.at(), w.ih.at(), w.bih?.at() ?? null];
        const K = xWidth;
        ex.run(
          split(rows, projThreads).map((range) =>
            packedGemmJob({ M: rows, N: GH, K, a, sai: K, sak: 1, b, bias, c: gx, ldc: gxLd, rows: range }),
          ),
        );
        const state = (layer * D + d) * N;
        const recurrence = {
          mode,
          T,
          N,
          H,
          P,
          gx,
          gxRow: strideN * gxLd,
          gxStep: strideT * gxLd,
          out: out.at(d * P),
          outRow: strideN * width,
          outStep: strideT * width,
          h0: args.h0 ? h0.at(state * P) : h0.at(),
          c: c?.at(state * H) ?? null,
          whh: w.hh.at(),
          bhh: w.bhh?.at() ?? null,
          whr: w.hr?.at() ?? null,
          scratch: (scratch[d] as Block).at(),
          reverse: d === 1,
        };
        for (const rows of batchParts) recurrences.push(recurJob(recurrence, rows));
      });
      if (recurThreads > 1) ex.run(recurrences);
      else for (const job of recurrences) ex.run([job]); // on this thread, no workers woken
      const f32 = out.f32;
      for (let d = 0; d < D; d++) {
        const t = stepTime(g, T - 1, d);
        for (let n = 0; n < N; n++) {
          const from = rowOf(g, t, n) * width + d * P;
          const to = ((layer * D + d) * N + n) * P;
          for (let j = 0; j < P; j++) hN[to + j] = f32[from + j] as number;
        }
      }
      if (args.dropout && layer < L - 1) dropoutInPlace(f32, T, N, width, g.batchFirst, args.dropout);
      x = out;
    });
    return {
      output: Tensor.fromArray(out.read(), [...g.outputShape]),
      hN: Tensor.fromArray(hN, [...g.hShape]),
      cN: c ? Tensor.fromArray(c.read(), [...g.cShape]) : null,
    };
  });
}

function prepare(
  weights: PreparedWeights,
  w: RnnDirectionWeights,
  layout: PackLayout,
  layer: number,
  d: number,
): DirectionBlocks {
  const key = { layer, reverse: d === 1 };
  return {
    ih: weights.transposed(w.weightIh, 'blocks', 'weight_ih', key),
    hh: weights.transposed(w.weightHh, layout, 'weight_hh', key),
    hr: w.weightHr ? weights.transposed(w.weightHr, layout, 'weight_hr', key) : null,
    bih: w.biasIh ? weights.raw(w.biasIh, 'bias_ih', key) : null,
    bhh: w.biasHh ? weights.raw(w.biasHh, 'bias_hh', key) : null,
  };
}

/** Splits [0, n) into up to `parts` ranges whose bounds are multiples of 4 (whole micro-kernel tiles). */
function split(n: number, parts: number): [number, number][] {
  const size = parts > 1 ? Math.ceil(n / parts / 4) * 4 : n;
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += size) out.push([from, Math.min(n, from + size)]);
  return out;
}

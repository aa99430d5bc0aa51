import {
  type Block,
  type Job,
  type PackLayout,
  type Ptr,
  packedGemmJob,
  packedSteps,
  type RecurJobArgs,
  recurJob,
  recurLayout,
  recurScratchFloats,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, Tensor } from '@recurrent/tensor';
import { splitRows, splitRowsByWork, type WasmPlan } from './cpu-wasm-plan.js';
import type { PreparedWeights } from './cpu-wasm-weights.js';
import { dropoutInPlace } from './dropout.js';
import { layerInputSize, rowOf, type SeqGeometry } from './geometry.js';
import type { RnnArgs, RnnDirectionWeights, RnnResult } from './types.js';

/**
 * Work under this many FLOPs stays on the calling thread: waking a worker and joining it costs tens of
 * microseconds, what one thread needs for a few MFLOP.
 */
export const PARALLEL_MIN_FLOPS = 4e6;

/** One layer-direction's parameters in the kernels' memory. */
export interface DirectionBlocks {
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
 * The input projection of one layer-direction, `gx = x·W_ihᵀ + b_ih` (`rows` rows of `xWidth` at `x` into
 * rows of G·H at `c`, `ldc` floats apart), as jobs splitting the rows over the threads when it is worth it.
 * Any `x·Wᵀ + b` with W packed as W_ih is (a `Linear`'s forward).
 */
export function projectionJobs(
  ex: WasmExecutor,
  w: Pick<DirectionBlocks, 'ih' | 'bih'>,
  rows: number,
  GH: number,
  xWidth: number,
  x: Ptr,
  c: Ptr,
  ldc: number,
): Job[] {
  const threads = 2 * rows * GH * xWidth >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
  const [b, bias] = [w.ih.at(), w.bih?.at() ?? null];
  return splitRows(rows, threads).map((range) =>
    // M ≥ 2 keeps a one-row chunk (packed: a last step of one sequence) off the one-row kernel, so it
    // rounds as the same row does in a longer chunk
    packedGemmJob({
      M: Math.max(rows, 2),
      N: GH,
      K: xWidth,
      a: x,
      sai: xWidth,
      sak: 1,
      b,
      bias,
      c,
      ldc,
      rows: range,
    }),
  );
}

/**
 * What a layer-direction's recurrence job takes from its parameters and its place: W_hh, b_hh, W_hr, the
 * LSTM's c (rows `state`… of `c`), its scratch and its direction.
 */
export function recurrenceParams(
  w: DirectionBlocks,
  d: number,
  c: Block | null,
  state: number,
  H: number,
  scratch: Block,
): Pick<RecurJobArgs, 'c' | 'whh' | 'bhh' | 'whr' | 'scratch' | 'reverse'> {
  return {
    c: c?.at(state * H) ?? null,
    whh: w.hh.at(),
    bhh: w.bhh?.at() ?? null,
    whr: w.hr?.at() ?? null,
    scratch: scratch.at(),
    reverse: d === 1,
  };
}

/** The parameters of every layer-direction of `args`, prepared in the kernels' memory. */
export function prepareAll(weights: PreparedWeights, args: RnnArgs, N: number): DirectionBlocks[][] {
  const layout = recurLayout(N);
  return args.layers.map((dirs, k) => dirs.map((w, d) => prepare(weights, w, layout, k, d)));
}

/** Bytes `prepareAll` would add to the kernels' memory: the parameters of `args` not yet prepared. */
export function pendingWeightBytes(weights: PreparedWeights, args: RnnArgs, N: number): number {
  const layout = recurLayout(N);
  let bytes = 0;
  for (const dirs of args.layers) {
    for (const w of dirs) {
      bytes += weights.pendingBytes(w.weightIh, 'blocks') + weights.pendingBytes(w.weightHh, layout);
      if (w.weightHr) bytes += weights.pendingBytes(w.weightHr, layout);
      for (const b of [w.biasIh, w.biasHh]) if (b) bytes += weights.pendingBytes(b, 'raw');
    }
  }
  return bytes;
}

/**
 * A layer's input or output sequence: a block of the kernels' memory when the sequence runs whole, else
 * a JavaScript array that chunks are copied from or to. Rows in the geometry's order, `width` floats each.
 */
type Sequence = { block: Block } | { array: Float32Array };

/**
 * The whole forward on the WebAssembly kernels, in time chunks of `plan.steps` (all T at once for most
 * forwards). Per layer and chunk: for each direction the input projection of every step of the chunk and
 * every gate as one GEMM (`gx = x·W_ihᵀ + b_ih`, rows split over the threads), then one job per direction
 * (and per share of the batch rows) runs every step of the chunk's recurrence inside WebAssembly, the
 * directions at once when there are threads for both; h (and the LSTM's c) carry to the next chunk, which
 * the reverse direction takes from the end. After each layer, dropout. Rows keep the input's own order
 * (batch-first needs no transpose). The Elman cell's gx is its output buffer itself, overwritten in place
 * by the recurrence; LSTM and GRU have a gx buffer per direction.
 *
 * A packed batch (`g.batchSizes`) runs the same way over its Σ batchSizes rows, a chunk's rows being the
 * contiguous rows of its steps: the kernel takes the table of each step's first row and batch size and
 * runs only the rows a step holds, keeping each direction's h in `carry` (from h0), so a finished
 * sequence keeps its last h and the reverse direction starts each sequence from its h0 at its own end;
 * `carry` is then hN.
 *
 * Parameters are prepared once (`PreparedWeights`); everything else lives in one scratch, released when
 * the forward returns. When the sequence runs whole, each layer's output stays in the kernels' memory as
 * the next layer's input and the last is copied out; in chunks, each layer reads its input from and
 * writes its output to JavaScript arrays, so the memory holds one chunk's buffers at a time. Returned
 * tensors never alias the kernels' memory.
 */
export function recurrentWasm(
  ex: WasmExecutor,
  params: DirectionBlocks[][],
  args: RnnArgs,
  g: SeqGeometry,
  plan: WasmPlan,
): RnnResult {
  const { T, N, D, L, G, H, P, width, rows } = g;
  const { mode, hasCellState } = args.cell;
  const GH = G * H;
  const inPlace = G === 1;
  const whole = plan.chunks === 1;
  return ex.arena.withScratch((s) => {
    const input = cpuData(args.input, 'input');
    // without h0, one block of zeros serves every layer-direction (0·W_hh is still computed)
    const h0 = args.h0 ? s.put(cpuData(args.h0, 'h0')) : s.zeros(N * P);
    const c = hasCellState ? (args.c0 ? s.put(cpuData(args.c0, 'c0')) : s.zeros(L * D * N * H)) : null;
    const carry = s.alloc(D * N * P);
    const steps = plan.steps;
    // whole: the input in the memory, and one output block per layer, two in turn
    const x0: Sequence = whole ? { block: s.put(input) } : { array: input };
    const outs = whole ? [s.alloc(rows * width), L > 1 ? s.alloc(rows * width) : null] : [];
    const arrays = whole
      ? []
      : [new Float32Array(rows * width), L > 1 ? new Float32Array(rows * width) : null];
    // in chunks: each direction's input rows and gate inputs, and the output rows of both directions
    const chunkOut = whole ? null : s.alloc(steps * N * width);
    const chunkX = whole ? [] : Array.from({ length: D }, () => s.alloc(steps * N * plan.inputWidth));
    const gxs = inPlace ? [] : Array.from({ length: D }, () => s.alloc((whole ? rows : steps * N) * GH));
    const scratch = Array.from({ length: D }, () => s.alloc(recurScratchFloats(mode, N, H, P !== H)));
    const hN = new Float32Array(L * D * N * P);
    const table = g.batchSizes ? s.alloc(2 * T) : null;
    table?.i32.set(packedSteps(g.batchSizes as Int32Array));
    const chunk = { ex, g, args, params, h0, c, carry, gxs, scratch, table };

    let x = x0;
    let out: Sequence = x0;
    for (let layer = 0; layer < L; layer++) {
      // the last layer writes outs[0] / arrays[0]; layers before it alternate
      const slot = (L - 1 - layer) % 2;
      out = whole ? { block: outs[slot] as Block } : { array: arrays[slot] as Float32Array };
      for (let k = 0; k < plan.chunks; k++) {
        runChunk(chunk, layer, k, plan, x, out, chunkX, chunkOut);
      }
      for (let d = 0; d < D; d++)
        hN.set(carry.f32.subarray(d * N * P, (d + 1) * N * P), (layer * D + d) * N * P);
      if (args.dropout && layer < L - 1) {
        const f32 = 'block' in out ? out.block.f32 : out.array;
        // packed: PyTorch draws the mask over the packed rows in order
        if (g.batchSizes) dropoutInPlace(f32, rows, 1, width, false, args.dropout);
        else dropoutInPlace(f32, T, N, width, g.batchFirst, args.dropout);
      }
      x = out;
    }
    return {
      output: Tensor.fromArray('block' in out ? out.block.read() : out.array, [...g.outputShape]),
      hN: Tensor.fromArray(hN, [...g.hShape]),
      cN: c ? Tensor.fromArray(c.read(), [...g.cShape]) : null,
    };
  });
}

/** What every chunk of a forward shares. */
interface ChunkContext {
  ex: WasmExecutor;
  g: SeqGeometry;
  args: RnnArgs;
  params: DirectionBlocks[][];
  h0: Block;
  c: Block | null;
  /** Each direction's h after the last step it ran (N rows of P): the next chunk's h0, and in the end hN. */
  carry: Block;
  gxs: Block[];
  scratch: Block[];
  /** Packed: the kernels' steps table (`packedSteps(g.batchSizes)`); null for a rectangular batch. */
  table: Block | null;
}

/**
 * Chunk k of one layer: the forward direction's k-th chunk of steps and the reverse direction's k-th from
 * the end, each projected and then run through its recurrence (both directions' recurrences in one `run`).
 */
function runChunk(
  ctx: ChunkContext,
  layer: number,
  k: number,
  plan: WasmPlan,
  x: Sequence,
  out: Sequence,
  chunkX: Block[],
  chunkOut: Block | null,
): void {
  const { ex, g, args, params, h0, c, carry, gxs, scratch, table } = ctx;
  const { N, D, G, H, P, width } = g;
  const { mode } = args.cell;
  const GH = G * H;
  const inPlace = G === 1;
  const xWidth = layerInputSize(g, layer);
  const recurrences: Job[] = [];
  const spans: [number, number][] = [];
  // the recurrences' threads: directions side by side, each over a share of the batch rows
  const recurThreads = 2 * plan.steps * N * GH * P * D >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
  const shares = N >= 8 ? Math.max(1, Math.floor(recurThreads / D)) : 1;
  for (let d = 0; d < D; d++) {
    const w = params[layer]?.[d] as DirectionBlocks;
    const index = d === 0 ? k : plan.chunks - 1 - k;
    const t0 = index * plan.steps;
    const steps = Math.min(plan.steps, g.T - t0);
    spans.push([t0, steps]);
    // the chunk's rows: steps·N, or packed those of its steps
    const rows = g.batchSizes ? rowOf(g, t0 + steps, 0) - rowOf(g, t0, 0) : steps * N;
    // the chunk's own row order: batch-first keeps its steps together, per batch row
    const [strideT, strideN] = g.batchFirst ? [1, steps] : [N, 1];
    let xb: Block;
    if ('block' in x) xb = x.block;
    else {
      xb = chunkX[d] as Block;
      copyRows(x.array, g, t0, steps, xWidth, 0, xb.f32, xWidth, 0, xWidth);
    }
    const outBlock = 'block' in out ? out.block : (chunkOut as Block);
    const [gx, gxLd] = inPlace ? [outBlock.at(d * P), width] : [(gxs[d] as Block).at(), GH];
    ex.run(projectionJobs(ex, w, rows, GH, xWidth, xb.at(), gx, gxLd));
    const state = (layer * D + d) * N;
    if (table && k === 0) {
      // packed: the carry is the state the kernel reads and writes, from h0
      if (args.h0) carry.write(h0.f32.subarray(state * P, (state + N) * P), d * N * P);
      else carry.fill(0, d * N * P, (d + 1) * N * P);
    }
    const recurrence = {
      mode,
      T: steps,
      N,
      H,
      P,
      gx,
      gxRow: strideN * gxLd,
      gxStep: strideT * gxLd,
      out: outBlock.at(d * P),
      outRow: strideN * width,
      outStep: strideT * width,
      h0: k > 0 || table ? carry.at(d * N * P) : args.h0 ? h0.at(state * P) : h0.at(),
      ...recurrenceParams(w, d, c, state, H, scratch[d] as Block),
      steps: table?.at(2 * t0) ?? null,
    };
    const parts =
      g.batchSizes && shares > 1 ? splitRowsByWork(g.batchSizes, t0, steps, shares) : splitRows(N, shares);
    for (const part of parts) recurrences.push(recurJob(recurrence, part));
  }
  if (recurThreads > 1) ex.run(recurrences);
  else for (const job of recurrences) ex.run([job]); // on this thread, no workers woken
  const outBlock = 'block' in out ? out.block : (chunkOut as Block);
  const f32 = outBlock.f32;
  const cf = carry.f32;
  for (let d = 0; d < D; d++) {
    const [t0, steps] = spans[d] as [number, number];
    // the step this direction ran last: the chunk's last (forward) or first (reverse); packed, the
    // kernel keeps the carry itself
    const i = d === 0 ? steps - 1 : 0;
    for (let n = 0; !table && n < N; n++) {
      const row = g.batchFirst ? n * steps + i : i * N + n;
      cf.set(f32.subarray(row * width + d * P, row * width + d * P + P), (d * N + n) * P);
    }
    if ('array' in out) copyRows(out.array, g, t0, steps, width, d * P, f32, width, d * P, P, true);
  }
}

/**
 * Copies `cols` floats of each row (t, n), t in [t0, t0 + steps), between a whole sequence (`seq`, rows
 * of `seqWidth` in the geometry's order) and a chunk (`chunk`, rows of `chunkWidth` in the chunk's own
 * order): from the sequence into the chunk, or back with `toSequence`.
 */
function copyRows(
  seq: Float32Array,
  g: SeqGeometry,
  t0: number,
  steps: number,
  seqWidth: number,
  seqCol: number,
  chunk: Float32Array,
  chunkWidth: number,
  chunkCol: number,
  cols: number,
  toSequence = false,
): void {
  const { N, T } = g;
  // runs of rows contiguous in both: all the chunk's rows time-major (or packed), `steps` rows per batch
  // row batch-first
  const first = rowOf(g, t0, 0);
  const [runs, run, seqRun, chunkRun] = g.batchFirst
    ? [N, steps, T, steps]
    : [1, rowOf(g, t0 + steps, 0) - first, 0, 0];
  const seqStart = g.batchFirst ? t0 : first;
  for (let r = 0; r < runs; r++) {
    const si = (r * seqRun + seqStart) * seqWidth + seqCol;
    const ci = r * chunkRun * chunkWidth + chunkCol;
    if (cols === seqWidth && cols === chunkWidth) {
      const n = run * cols;
      if (toSequence) seq.set(chunk.subarray(ci, ci + n), si);
      else chunk.set(seq.subarray(si, si + n), ci);
      continue;
    }
    for (let i = 0; i < run; i++) {
      const a = si + i * seqWidth;
      const b = ci + i * chunkWidth;
      if (toSequence) seq.set(chunk.subarray(b, b + cols), a);
      else chunk.set(seq.subarray(a, a + cols), b);
    }
  }
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

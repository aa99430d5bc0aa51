import {
  type Block,
  type Job,
  type PackedGemmJobArgs,
  type Ptr,
  packedGemmJob,
  projectRecurJob,
  type RecurJobArgs,
  recurJob,
  recurScratchFloats,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, Tensor } from '@recurrent/tensor';
import { splitRows } from './cpu-wasm-plan.js';
import {
  type DirectionBlocks,
  PARALLEL_MIN_FLOPS,
  projectionJobs,
  recurrenceParams,
} from './cpu-wasm-rnn.js';
import { layerInputSize, type SeqGeometry } from './geometry.js';
import type { ResultPool } from './result-pool.js';
import type { RnnArgs, RnnResult } from './types.js';

/**
 * A rectangular inference forward kept ready in the kernels' memory: its buffers (input, states, gate
 * inputs, outputs, recurrence scratch) and its kernel calls, made once for a shape and a set of prepared
 * parameters and reused by every later forward of the same key, which then only copies the input and the
 * states in, runs the calls and copies the results out (`recurrentWasm` makes and frees all of it per
 * call, a cost that rivals the arithmetic of a short sequence of one row). Same kernels, same calls,
 * same numbers. The owner keeps one at a time and frees it (`free`) before preparing another, so the
 * memory never holds more than one forward's buffers, as with `recurrentWasm`.
 */
export interface ReadyForward {
  /** The shape, options and parameter pointers it was made for (`readyKey`). */
  readonly key: readonly number[];
  /** Bytes of its blocks in the kernels' memory. */
  readonly bytes: number;
  /** Runs the forward of `args` (whose `readyKey` is `key`). */
  run(args: RnnArgs): RnnResult;
  /** Frees its blocks. */
  free(): void;
}

/**
 * Whether a forward can run ready: a whole rectangular sequence with no dropout between layers (the
 * caller checks that its plan runs the sequence whole).
 */
export function readyEligible(args: RnnArgs): boolean {
  return args.batchSizes === null && args.dropout === null;
}

const MODES = ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'];

/**
 * The key of a ready forward: everything its buffers and calls depend on (the cell, the shape, which
 * states are given, and where each prepared parameter sits, −1 for none), as numbers.
 */
export function readyKey(args: RnnArgs, g: SeqGeometry, params: DirectionBlocks[][]): number[] {
  const key = [MODES.indexOf(args.cell.mode), g.T, g.N, g.inputSize, g.H, g.P];
  // layers and directions too: two topologies whose prepared parameters land on the same pointers differ
  key.push(g.L, g.D, g.batchFirst ? 1 : 0, args.h0 ? 1 : 0, args.c0 ? 1 : 0);
  for (const dirs of params) {
    for (const w of dirs) {
      key.push(w.ih.ptr, w.hh.ptr, w.hr?.ptr ?? -1, w.bih?.ptr ?? -1, w.bhh?.ptr ?? -1);
    }
  }
  return key;
}

/** Whether two `readyKey`s are equal. */
export function sameKey(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One `ex.run` of a ready forward, then the layers whose last step it ran (their hN is taken then). */
interface Call {
  jobs: Job[];
  finishes: number[];
}

/** Prepares the ready forward of `args` (see `ReadyForward`); its blocks stay allocated until `free`. */
export function prepareReady(
  ex: WasmExecutor,
  params: DirectionBlocks[][],
  args: RnnArgs,
  g: SeqGeometry,
  key: readonly number[],
  results: ResultPool,
): ReadyForward {
  const { T, N, D, L, G, H, P, width, rows } = g;
  const { mode, hasCellState } = args.cell;
  const GH = G * H;
  const inPlace = G === 1;
  const arena = ex.arena;
  const blocks: Block[] = [];
  const alloc = (floats: number): Block => {
    const b = arena.alloc(floats);
    blocks.push(b);
    return b;
  };
  // without h0, one block of zeros serves every layer-direction; c is reset per call (the kernel updates it)
  const h0 = args.h0 ? alloc(L * D * N * P) : alloc(N * P).fill(0);
  const c = hasCellState ? alloc(L * D * N * H) : null;
  const input = alloc(rows * g.inputSize);
  const outs = [alloc(rows * width), L > 1 ? alloc(rows * width) : null];
  const gxs = inPlace ? [] : Array.from({ length: D }, () => alloc(rows * GH));
  // one direction, a batch below the row split, rows of a step contiguous: the recurrence has one thread
  const pipeline = D === 1 && N < 8 && (N === 1 || !g.batchFirst) ? pipelineChunks(ex, g) : 1;
  // stacked layers at once: two as a balanced pair, more as a wavefront
  const front = pipeline > 1 && L > 1;
  // a recurrence's scratch per direction, or per layer when layers run at once
  const scratch = Array.from({ length: front ? L : D }, () => alloc(recurScratchFloats(mode, N, H, P !== H)));
  const [strideT, strideN] = g.batchFirst ? [1, T] : [N, 1];
  /** Layer-direction (layer, d)'s recurrence, writing `out`, its gate inputs at `gx` (`gxLd` apart). */
  const recurrenceOf = (layer: number, d: number, out: Block, gx: Ptr, gxLd: number): RecurJobArgs => {
    const w = params[layer]?.[d] as DirectionBlocks;
    const state = (layer * D + d) * N;
    return {
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
      ...recurrenceParams(w, d, c, state, H, scratch[front ? layer : d] as Block),
    };
  };
  const outOf = (layer: number) => outs[(L - 1 - layer) % 2] as Block;
  /** Where a one-direction layer's gx goes when layers run at once, and its rows' stride. */
  const gxOf = (layer: number): [Block, number] => (inPlace ? [outOf(layer), width] : [gxs[0] as Block, GH]);
  /** Layer `layer`'s chunked work (one direction): its recurrence and its input projection. */
  const chunked = (layer: number): Chunked => {
    const out = outOf(layer);
    const [gx, gxLd] = gxOf(layer);
    const x = layer === 0 ? input : outOf(layer - 1);
    const projection = { w: params[layer]?.[0] as DirectionBlocks, x, K: layerInputSize(g, layer), gx, gxLd };
    return chunkedLayer(recurrenceOf(layer, 0, out, gx.at(), gxLd), projection, out, g, pipeline);
  };
  const schedule: Call[] = [];
  if (front && L === 2) {
    const [gx, gxLd] = gxOf(0);
    const w = params[0]?.[0] as DirectionBlocks;
    const upfront = projectionJobs(ex, w, rows, GH, g.inputSize, input.at(), gx.at(), gxLd);
    schedule.push(...pairedWavefront(chunked(0), chunked(1), upfront));
  } else if (front) schedule.push(...wavefront(Array.from({ length: L }, (_, layer) => chunked(layer))));
  const call = (jobs: Job[]): Call => ({ jobs, finishes: [] });
  for (let layer = 0; !front && layer < L; layer++) {
    if (pipeline > 1) {
      schedule.push(...chunked(layer).pipelined().map(call));
    } else {
      const xb = layer === 0 ? input : outOf(layer - 1);
      const out = outOf(layer);
      const xWidth = layerInputSize(g, layer);
      const recurrences: Job[] = [];
      const recurThreads = 2 * T * N * GH * P * D >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
      const shares = N >= 8 ? Math.max(1, Math.floor(recurThreads / D)) : 1;
      for (let d = 0; d < D; d++) {
        const w = params[layer]?.[d] as DirectionBlocks;
        const [gx, gxLd] = inPlace ? [out.at(d * P), width] : [(gxs[d] as Block).at(), GH];
        schedule.push(call(projectionJobs(ex, w, rows, GH, xWidth, xb.at(), gx, gxLd)));
        const recurrence = recurrenceOf(layer, d, out, gx, gxLd);
        for (const part of splitRows(N, shares)) recurrences.push(recurJob(recurrence, part));
      }
      if (recurThreads > 1) schedule.push(call(recurrences));
      else for (const job of recurrences) schedule.push(call([job])); // on this thread, no workers woken
    }
    (schedule[schedule.length - 1] as Call).finishes.push(layer);
  }
  return {
    key,
    bytes: blocks.reduce((sum, b) => sum + b.bytes, 0),
    run(a: RnnArgs): RnnResult {
      const f32 = arena.f32;
      f32.set(cpuData(a.input, 'input'), input.ptr / 4);
      if (a.h0) f32.set(cpuData(a.h0, 'h0'), h0.ptr / 4);
      if (c) {
        if (a.c0) f32.set(cpuData(a.c0, 'c0'), c.ptr / 4);
        else c.fill(0);
      }
      // every float of hN is written: an array given back (stale values) serves as well as a new one
      const hN = results.take(L * D * N * P);
      for (const call of schedule) {
        ex.run(call.jobs);
        for (const layer of call.finishes) {
          const out = outOf(layer).f32;
          for (let d = 0; d < D; d++) {
            // each direction's last step: the sequence's last (forward) or first (reverse)
            const i = d === 0 ? T - 1 : 0;
            for (let n = 0; n < N; n++) {
              const at = (i * strideT + n * strideN) * width + d * P;
              hN.set(out.subarray(at, at + P), ((layer * D + d) * N + n) * P);
            }
          }
        }
      }
      const copyOut = (b: Block): Float32Array => {
        const array = results.take(b.floats);
        array.set(b.f32);
        return array;
      };
      return {
        output: Tensor.fromArray((outs[0] as Block).read(), [...g.outputShape]),
        hN: Tensor.fromArray(hN, [...g.hShape]),
        cN: c ? Tensor.fromArray(copyOut(c), [...g.cShape]) : null,
      };
    },
    free(): void {
      for (const b of blocks) b.free();
    },
  };
}

/** Recurrence FLOPs per chunk of a pipelined layer: about half a millisecond of one thread's work. */
const PIPELINE_CHUNK_FLOPS = 16e6;
/** The most chunks a pipelined layer runs in (each wave's wake and join costs tens of microseconds). */
const PIPELINE_MAX_CHUNKS = 16;

/**
 * Chunks of steps for a layer whose recurrence runs on one thread while other threads idle (one
 * direction, a batch below the row split): with threads to spare and recurrence work for at least two
 * chunks, the projection of chunk k + 1 runs beside the recurrence of chunk k; else 1 (no pipeline).
 */
export function pipelineChunks(
  ex: Pick<WasmExecutor, 'threads'>,
  g: Pick<SeqGeometry, 'T' | 'N' | 'G' | 'H' | 'P'>,
): number {
  if (ex.threads < 2) return 1;
  const flops = 2 * g.T * g.N * g.G * g.H * g.P;
  return Math.max(1, Math.min(PIPELINE_MAX_CHUNKS, g.T, Math.floor(flops / PIPELINE_CHUNK_FLOPS)));
}

/** A layer's input projection (one direction), for `chunkedLayer`. */
interface Projection {
  w: DirectionBlocks;
  /** The layer's input, rows of K floats. */
  x: Block;
  K: number;
  /** Where gx goes (the output block itself for the Elman cell, in place), rows `gxLd` floats apart. */
  gx: Block;
  gxLd: number;
}

/** One direction's layer split into chunks of steps: the jobs of each chunk, and two schedules of them. */
interface Chunked {
  /** Chunk starts 0, steps, 2·steps, … below T. */
  readonly starts: number[];
  /**
   * The projection of chunk [t0, t0 + steps) (its rows as the whole GEMM computes them), or of part `i` of
   * `n` of its rows.
   */
  project(t0: number, part?: readonly [i: number, n: number]): PackedGemmJobArgs;
  /** The recurrence of chunk [t0, t0 + steps), from the previous chunk's last output rows. */
  recur(t0: number): RecurJobArgs;
  /**
   * The layer alone as waves that overlap the two halves of its work: the projection of chunk 0, then per
   * chunk k its recurrence (on the calling thread) beside the projection of chunk k + 1 (on a worker), then
   * the last chunk's recurrence.
   */
  pipelined(): Job[][];
}

/**
 * One direction's layer in `chunks` chunks of steps. A chunk's rows are contiguous (a batch of one, or
 * sequence-first), each chunk's recurrence starts from the previous chunk's last output rows (the LSTM's c
 * carries in place), and a projection chunk computes its rows as the whole GEMM does: the same numbers as
 * the unchunked calls.
 */
function chunkedLayer(r: RecurJobArgs, p: Projection, out: Block, g: SeqGeometry, chunks: number): Chunked {
  const { T, N, G, H, width } = g;
  const steps = Math.ceil(T / chunks);
  const starts = Array.from({ length: Math.ceil(T / steps) }, (_, k) => k * steps);
  const project = (t0: number, [i, n]: readonly [number, number] = [0, 1]): PackedGemmJobArgs => {
    const [from, to] = [t0 * N, Math.min(T, t0 + steps) * N];
    const size = Math.ceil((to - from) / n);
    return {
      // the whole GEMM's M (at least 2: see projectionJobs), this chunk's rows (or a part of them)
      ...{ M: Math.max(T * N, 2), N: G * H, K: p.K, a: p.x.at(), sai: p.K, sak: 1 },
      ...{ b: p.w.ih.at(), bias: p.w.bih?.at() ?? null, c: p.gx.at(), ldc: p.gxLd },
      rows: [Math.min(to, from + i * size), Math.min(to, from + (i + 1) * size)],
    };
  };
  // step t's N rows start at row t·N, in gx and in out
  const recur = (t0: number): RecurJobArgs => ({
    ...r,
    T: Math.min(T, t0 + steps) - t0,
    gx: p.gx.at(t0 * N * p.gxLd),
    out: out.at(t0 * N * width),
    h0: t0 === 0 ? r.h0 : out.at((t0 - 1) * N * width),
  });
  return {
    starts,
    project,
    recur,
    pipelined: () => [
      [packedGemmJob(project(0))],
      ...starts.map((t0) =>
        t0 + steps < T ? [recurJob(recur(t0)), packedGemmJob(project(t0 + steps))] : [recurJob(recur(t0))],
      ),
    ],
  };
}

/**
 * Two stacked layers (one direction each, chunked alike) on two threads or more, balanced: layer 0's input
 * projection runs first for every step (`upfront`, its rows over the threads); then wave w runs layer 0's
 * recurrence of chunk w beside layer 1's of chunk w − 2, each job first projecting half the rows of layer
 * 1's chunk w − 1 (from layer 0's output, finished a wave before). The two jobs weigh alike, P₁/2 + R
 * each, where `wavefront`'s weigh P₀ + R against P₁ + R (P₁ the heavier when the hidden size passes the
 * input's). Rows a wave touches: layer 0's gx of chunk w (written up front), layer 1's gx of chunk w − 1
 * (written over layer 0's, which its recurrence read a wave before) and of chunk w − 2.
 */
function pairedWavefront(l0: Chunked, l1: Chunked, upfront: Job[]): Call[] {
  const chunks = l0.starts.length;
  const calls: Call[] = [{ jobs: upfront, finishes: [] }];
  const job = (r: RecurJobArgs | null, p: PackedGemmJobArgs | null): Job[] =>
    r && p ? [projectRecurJob(p, r)] : r ? [recurJob(r)] : p ? [packedGemmJob(p)] : [];
  for (let w = 0; w < chunks + 2; w++) {
    const [r0, p1, r1] = [l0.starts[w], l1.starts[w - 1], l1.starts[w - 2]];
    const half = (i: number): PackedGemmJobArgs | null => {
      const p = p1 === undefined ? null : l1.project(p1, [i, 2]);
      const [from, to] = p?.rows ?? [0, 0];
      return from < to ? p : null; // the second half of a chunk of one row is empty
    };
    calls.push({
      jobs: [
        ...job(r0 === undefined ? null : l0.recur(r0), half(0)),
        ...job(r1 === undefined ? null : l1.recur(r1), half(1)),
      ],
      finishes: [...(w === chunks - 1 ? [0] : []), ...(w === chunks + 1 ? [1] : [])],
    });
  }
  return calls;
}

/**
 * Stacked layers (one direction each, chunked alike) as a wavefront: wave w runs chunk w − l of every
 * layer l that has one, each on its own thread, a layer's job the projection of its chunk's rows (from
 * layer l − 1's output, written a wave before) and then its recurrence over them (`projectRecurJob`). The
 * jobs of one wave touch disjoint rows: layer l + 1 writes over layer l − 1's output (the same block) only
 * in chunks that layer l has projected and layer l − 1 has started from. Layer l's hN is taken after the
 * wave of its last chunk, before layer l + 2 writes over its output.
 */
function wavefront(layers: Chunked[]): Call[] {
  const L = layers.length;
  const chunks = layers[0]?.starts.length ?? 0;
  const calls: Call[] = [];
  for (let w = 0; w < chunks + L - 1; w++) {
    const jobs: Job[] = [];
    const finishes: number[] = [];
    for (let l = 0; l < L; l++) {
      const layer = layers[l] as Chunked;
      const t0 = layer.starts[w - l];
      if (t0 === undefined) continue;
      jobs.push(projectRecurJob(layer.project(t0), layer.recur(t0)));
      if (w - l === chunks - 1) finishes.push(l);
    }
    calls.push({ jobs, finishes });
  }
  return calls;
}

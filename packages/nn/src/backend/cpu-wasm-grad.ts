import {
  type Block,
  type Job,
  packedSteps,
  recurJob,
  recurSaveFloats,
  recurScratchFloats,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, Tensor } from '@recurrent/tensor';
import { dropoutMask } from './cpu-grad.js';
import { splitRows, splitRowsByWork } from './cpu-wasm-plan.js';
import { type DirectionBlocks, PARALLEL_MIN_FLOPS, projectionJobs } from './cpu-wasm-rnn.js';
import { layerInputSize, rowOf, type SeqGeometry } from './geometry.js';
import type { RnnArgs, RnnTrainResult } from './types.js';

/**
 * The training forward on the WebAssembly kernels: `recurrentWasm`'s operations (the same GEMMs and
 * recurrence kernel, so the same numbers), the recurrence also saving what the backward reads (its `save`
 * rows: h_{t−1} and the cell's states, none for the Elman cell; the activated gates written over gx). The whole sequence runs at
 * once (a training step keeps every activation anyway). What is saved stays in the kernels' memory, in
 * blocks the `saved` object owns (never copied out and back): `wasmBackward` frees each layer's as it
 * passes it, and a tape dropped without a backward frees them when it is collected.
 */

/** One layer-direction's saved activations, `(rows, ·)` in the input's row order, in the kernels' memory. */
export interface WasmDirectionSaved {
  /** LSTM i, f, g, o and GRU r, z, n, activated, `(rows, G·H)`; null for the Elman cell (its output). */
  gates: Block | null;
  /**
   * `recurSaveFloats` per row: h_{t−1} (P), then LSTM c_{t−1}, c_t[, o⊙tanh(c_t)], GRU gh_n; null for the
   * Elman cell (its h_{t−1} is its output one step before: `elmanPrevInto`).
   */
  save: Block | null;
}

export interface WasmSaved {
  readonly kind: 'wasm';
  readonly g: SeqGeometry;
  /**
   * Each layer's input: null for layer 0 (the backward puts `args.input` in again, once the layers above
   * have freed their blocks; the autograd node keeps that tensor and checks its version); later layers: the
   * previous layer's output after dropout.
   */
  readonly inputs: (Block | null)[];
  /** Elman: each layer's output before dropout (its gates); empty for the other cells. */
  readonly outputs: Block[];
  readonly dirs: WasmDirectionSaved[][];
  /** Per layer but the last: the dropout multiplier of each output element, or null. */
  readonly masks: (Float32Array | null)[];
  /** Per layer: the blocks no lower layer reads, freed once the backward has passed that layer. */
  readonly last: Block[][];
}

/** Frees the saved blocks of a tape collected without its backward having run. */
const collected = new FinalizationRegistry<Block[][]>((last) => freeSaved(last));

/** Frees every saved block (idempotent: `Block.free` is). */
export function freeSaved(last: readonly Block[][]): void {
  for (const blocks of last) for (const b of blocks) b.free();
}

/** Stops watching `saved` for collection (its blocks are being freed by the backward). */
export function unwatchSaved(saved: WasmSaved): void {
  collected.unregister(saved);
}

/** Bytes of the kernels' memory `wasmTrainForward` takes (its blocks, beyond the parameters). */
export function trainBytes(g: SeqGeometry, args: RnnArgs): number {
  const { L, D, N, G, H, P, width, rows } = g;
  const sv = G === 1 ? 0 : recurSaveFloats(args.cell.mode, H, P, P !== H);
  const gx = G === 1 ? 0 : G * H;
  const floats =
    rows * (g.inputSize + 2 * L * width + L * D * (gx + sv)) +
    L * D * N * (P + H) +
    D * (N * P + recurScratchFloats(args.cell.mode, N, H, P !== H)) +
    2 * g.T;
  return floats * 4 + 16 * 128;
}

export function wasmTrainForward(
  ex: WasmExecutor,
  params: DirectionBlocks[][],
  args: RnnArgs,
  g: SeqGeometry,
): RnnTrainResult {
  const { T, N, D, L, G, H, P, width, rows } = g;
  const { mode, hasCellState } = args.cell;
  const GH = G * H;
  const elman = G === 1;
  const SW = recurSaveFloats(mode, H, P, P !== H);
  const saved: WasmSaved = { kind: 'wasm', g, inputs: [], outputs: [], dirs: [], masks: [], last: [] };
  for (let layer = 0; layer < L; layer++) saved.last.push([]);
  // the saved blocks outlive the scratch: long-lived, freed by the backward (or on collection); on a
  // failure before the tape exists, here
  const keep = (block: Block, lastReader: number): Block => {
    (saved.last[lastReader] as Block[]).push(block);
    return block;
  };
  let done = false;
  try {
    const result = ex.arena.withScratch((s) => {
      const input = cpuData(args.input, 'input');
      const h0 = args.h0 ? s.put(cpuData(args.h0, 'h0')) : s.zeros(N * P);
      const c = hasCellState ? (args.c0 ? s.put(cpuData(args.c0, 'c0')) : s.zeros(L * D * N * H)) : null;
      const carry = s.alloc(D * N * P);
      const scratch = Array.from({ length: D }, () => s.alloc(recurScratchFloats(mode, N, H, P !== H)));
      const table = g.batchSizes ? s.alloc(2 * T) : null;
      table?.i32.set(packedSteps(g.batchSizes as Int32Array));
      const hN = new Float32Array(L * D * N * P);
      let x = s.put(input);
      saved.inputs.push(null);
      let out = x;
      for (let layer = 0; layer < L; layer++) {
        const top = layer === L - 1;
        // the last layer's output is read out; only the Elman cell's backward reads it (its gates)
        out = top && !elman ? s.alloc(rows * width) : ex.arena.alloc(rows * width);
        const gxs = elman ? [] : Array.from({ length: D }, () => keep(ex.arena.alloc(rows * GH), layer));
        const saves = elman ? [] : Array.from({ length: D }, () => keep(ex.arena.alloc(rows * SW), layer));
        const xWidth = layerInputSize(g, layer);
        const jobs: Job[] = [];
        const recurThreads = 2 * rows * GH * P * D >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
        const shares = N >= 8 ? Math.max(1, Math.floor(recurThreads / D)) : 1;
        for (let d = 0; d < D; d++) {
          const w = params[layer]?.[d] as DirectionBlocks;
          const [gx, gxLd] = elman ? [out.at(d * P), width] : [(gxs[d] as Block).at(), GH];
          ex.run(projectionJobs(ex, w, rows, GH, xWidth, x.at(), gx, gxLd));
          const state = (layer * D + d) * N;
          if (table) {
            if (args.h0) carry.write(h0.f32.subarray(state * P, (state + N) * P), d * N * P);
            else carry.fill(0, d * N * P, (d + 1) * N * P);
          }
          const { strideT, strideN } = g;
          const recurrence = {
            ...{ mode, T, N, H, P, gx, gxRow: strideN * gxLd, gxStep: strideT * gxLd },
            ...{ out: out.at(d * P), outRow: strideN * width, outStep: strideT * width },
            h0: table ? carry.at(d * N * P) : args.h0 ? h0.at(state * P) : h0.at(),
            c: c?.at(state * H) ?? null,
            ...{ whh: w.hh.at(), bhh: w.bhh?.at() ?? null, whr: w.hr?.at() ?? null },
            ...{ scratch: (scratch[d] as Block).at(), reverse: d === 1, steps: table?.at() ?? null },
            ...{ save: saves[d]?.at() ?? null, saveRow: strideN * SW, saveStep: strideT * SW },
          };
          const parts =
            g.batchSizes && shares > 1 ? splitRowsByWork(g.batchSizes, 0, T, shares) : splitRows(N, shares);
          for (const part of parts) jobs.push(recurJob(recurrence, part));
        }
        if (recurThreads > 1) ex.run(jobs);
        else for (const job of jobs) ex.run([job]);
        for (let d = 0; d < D; d++) {
          const at = (layer * D + d) * N * P;
          if (table) hN.set(carry.f32.subarray(d * N * P, (d + 1) * N * P), at);
          else {
            const f32 = out.f32;
            const t = d === 0 ? T - 1 : 0;
            for (let n = 0; n < N; n++) {
              const o = rowOf(g, t, n) * width + d * P;
              hN.set(f32.subarray(o, o + P), at + n * P);
            }
          }
        }
        saved.dirs.push(
          Array.from({ length: D }, (_, d) => ({
            gates: elman ? null : (gxs[d] as Block),
            save: saves[d] ?? null,
          })),
        );
        if (top) {
          if (elman) saved.outputs.push(keep(out, layer));
        } else {
          if (elman && args.dropout) {
            // dropout overwrites the output: this layer's gates are a copy made before
            const before = keep(ex.arena.alloc(rows * width), layer);
            before.f32.set(out.f32);
            saved.outputs.push(before);
          }
          const mask = args.dropout ? dropoutMask(out.f32, g, args.dropout) : null;
          saved.masks.push(mask);
          saved.inputs.push(out);
          // the next layer reads it as its input; Elman without dropout: this layer too, as its gates
          if (elman && !args.dropout) saved.outputs.push(keep(out, layer));
          else keep(out, layer + 1);
        }
        x = out;
      }
      return {
        output: Tensor.fromArray(out.read(), [...g.outputShape]),
        hN: Tensor.fromArray(hN, [...g.hShape]),
        cN: c ? Tensor.fromArray(c.read(), [...g.cShape]) : null,
      };
    });
    done = true;
    collected.register(saved, saved.last, saved);
    return { result, saved };
  } finally {
    if (!done) freeSaved(saved.last);
  }
}

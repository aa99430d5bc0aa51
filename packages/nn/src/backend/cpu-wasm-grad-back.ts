import {
  type Block,
  columnSumsJob,
  gemmJob,
  gemmPackFloats,
  type Job,
  NULL_PTR,
  type Ptr,
  packedGemmJob,
  packedSteps,
  recurBackwardJob,
  recurBackwardScratchFloats,
  recurSaveFloats,
  type Scratch,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, Tensor } from '@recurrent/tensor';
import { freeSaved, unwatchSaved, type WasmSaved } from './cpu-wasm-grad.js';
import { splitRows, splitRowsByWork } from './cpu-wasm-plan.js';
import { elmanPrevInto } from './cpu-wasm-prev.js';
import { PARALLEL_MIN_FLOPS } from './cpu-wasm-rnn.js';
import type { PreparedWeights } from './cpu-wasm-weights.js';
import { layerInputSize } from './geometry.js';
import type { RnnArgs, RnnDirectionGrads, RnnGradOutputs, RnnGrads } from './types.js';

/**
 * Backpropagation through time on the WebAssembly kernels, `recurrentCpuBackward`'s split and formulas:
 * per layer-direction (last layer first) the backward-data pass through time in one kernel call
 * (`recurBackwardJob`: per step the gate derivatives fused with one GEMM, `dh_prev = dgates·W_hh`, W_hh
 * packed once per parameter; batch rows split over the threads), then backward-weights as whole-sequence GEMMs on the kernels (`dW_ih = dgatesᵀ·x` and
 * `dW_hh = dgatesᵀ·h_prev` reading dgates transposed, in blocks the kernel packs as it goes;
 * `dx += dgates·W_ih` on W_ih packed once), each split over the threads by rows; biases as column sums
 * on the kernels (in float64, as the TypeScript backward), split over the threads by columns.
 *
 * The Elman cell's h_{t−1} (not saved by the forward) is rebuilt from its outputs after the pass through
 * time: in the columns of dOut that pass has consumed, or, for one direction without a retained graph, in
 * place over the outputs, the gate gradients then written over dOut (each row of dOut is read before its
 * gradient is written) and the input's gradient over the outputs: no workspace of sequence size.
 */
export function wasmBackward(
  ex: WasmExecutor,
  weights: PreparedWeights,
  args: RnnArgs,
  saved: WasmSaved,
  grads: RnnGradOutputs,
  retain: boolean,
  inputGrad = true,
): RnnGrads {
  const { g } = saved;
  const { L, D, N, H, P, G, width, rows } = g;
  const GH = G * H;
  const mode = args.cell.mode;
  const lstm = mode === 'LSTM';
  const proj = P !== H;
  const elman = G === 1;
  const SW = elman ? 0 : recurSaveFloats(mode, H, P, proj);
  // one Elman direction, graph not retained: the gate gradients over dOut, h_{t−1} over the outputs
  const inPlace = elman && D === 1 && !retain && saved.outputs[0]?.arena === ex.arena;
  const h0 = args.h0 ? cpuData(args.h0, 'h0') : null;
  const gradH = grads.hN ? cpuData(grads.hN, 'grad hN') : null;
  const gradC = grads.cN ? cpuData(grads.cN, 'grad cN') : null;
  const dh0 = new Float32Array(L * D * N * P);
  const dc0 = lstm ? new Float32Array(L * D * N * H) : null;
  // W packed as is (the B operand of g·W), once per parameter tensor
  const packed = args.layers.map((dirs, layer) =>
    dirs.map((w, d) => {
      const key = { layer, reverse: d === 1 };
      return {
        ih: weights.plain(w.weightIh, 'weight_ih', key),
        hh: weights.plain(w.weightHh, 'weight_hh', key),
        hr: w.weightHr ? weights.plain(w.weightHr, 'weight_hr', key) : null,
      };
    }),
  );
  const widest = Math.max(g.inputSize, width);
  // a retained graph keeps its saved blocks for the next backward (freed when the tape is collected)
  if (!retain) unwatchSaved(saved);
  // the gradient of a layer's output and of its input, in turn: allocated per layer, after the layer
  // above has freed its saved blocks, so they reuse that memory
  const grad: Block[] = [];
  const gradBlock = (floats: number): Block => {
    const b = ex.arena.alloc(floats);
    grad.push(b);
    return b;
  };
  try {
    return ex.arena.withScratch((s) => {
      // saved blocks of an executor since released (the memory given back) are copied into this one's
      const here = (b: Block): Block => {
        if (b.freed)
          throw new Error(
            'wasmCpuBackend: the saved activations served one backward and were freed; pass { retainGraph: true } to the first backward to keep them, or run the forward again',
          );
        return b.arena === ex.arena ? b : s.put(b.f32);
      };
      const bufs = {
        dh: s.alloc(N * P),
        dc: lstm ? s.alloc(N * H) : null,
        dGx: inPlace ? null : s.alloc(rows * GH),
        dGh: mode === 'GRU' ? s.alloc(rows * GH) : null,
        dhAll: proj ? s.alloc(rows * P) : null,
        scratch: s.alloc(recurBackwardScratchFloats(N, H, P, proj)),
      };
      const dWih = s.alloc(GH * widest);
      const dWhh = s.alloc(GH * P);
      const dWhr = proj ? s.alloc(P * H) : null;
      const dBias = s.alloc(2 * GH);
      const packs = packBuffers(s, ex.threads, Math.max(widest, P, H), rows);
      const table = g.batchSizes ? s.alloc(2 * g.T) : null;
      table?.i32.set(packedSteps(g.batchSizes as Int32Array));
      let dOut = gradBlock(rows * width);
      if (grads.output) dOut.write(cpuData(grads.output, 'grad output'));
      else dOut.fill(0);
      let dInput: Float32Array | null = null;
      const layers: RnnDirectionGrads[][] = new Array(L);
      for (let layer = L - 1; layer >= 0; layer--) {
        const inW = layerInputSize(g, layer);
        // the first layer's input gradient, unless nobody wants it
        const wanted = layer > 0 || inputGrad;
        const input = saved.inputs[layer];
        const x = input ? here(input) : s.put(cpuData(args.input, 'input'));
        const outGates = elman ? here(saved.outputs[layer] as Block) : null;
        // one direction: the input's gradient (its GEMM, beta 0, runs after everything that reads the place
        // it takes) takes the outputs' place in place (handed from the saved blocks to the gradients), else
        // dOut's (the pass through time has read all of dOut by then)
        let dx: Block | null = null;
        if (wanted && D === 1 && inW <= width)
          dx = inPlace ? adopt(outGates as Block, saved.last[layer] as Block[], grad) : dOut;
        else if (wanted) dx = gradBlock(rows * inW);
        const dirGrads: RnnDirectionGrads[] = [];
        (args.layers[layer] ?? []).forEach((w, d) => {
          const dirSaved = saved.dirs[layer]?.[d] as WasmSaved['dirs'][number][number];
          const blocks = packed[layer]?.[d] as (typeof packed)[number][number];
          const state = (layer * D + d) * N;
          bufs.dh.write(gradH ? gradH.subarray(state * P, (state + N) * P) : new Float32Array(N * P));
          if (bufs.dc)
            bufs.dc.write(gradC ? gradC.subarray(state * H, (state + N) * H) : new Float32Array(N * H));
          const gates = outGates ?? here(dirSaved.gates as Block);
          const sv = dirSaved.save ? here(dirSaved.save) : null;
          const dGx = bufs.dGx ?? dOut;
          const back = {
            ...{ mode, T: g.T, N, H, P, strideT: g.strideT, strideN: g.strideN },
            ...(G === 1 ? { gates: gates.at(d * P), gatesLd: width } : { gates: gates.at(), gatesLd: GH }),
            ...{ save: sv?.at() ?? NULL_PTR, saveLd: SW, dOut: dOut.at(d * P), dOutLd: width },
            ...{
              dh: bufs.dh.at(),
              dc: bufs.dc?.at() ?? null,
              dGx: dGx.at(),
              dGh: bufs.dGh?.at() ?? null,
            },
            ...{ dhAll: bufs.dhAll?.at() ?? null, whh: blocks.hh.at(), whr: blocks.hr?.at() ?? null },
            ...{ scratch: bufs.scratch.at(), reverse: d === 1, steps: table?.at() ?? null },
          };
          const shares = 2 * rows * GH * P >= PARALLEL_MIN_FLOPS && N >= 8 ? ex.threads : 1;
          const parts =
            g.batchSizes && shares > 1 ? splitRowsByWork(g.batchSizes, 0, g.T, shares) : splitRows(N, shares);
          ex.run(parts.map((part) => recurBackwardJob(back, part)));
          dh0.set(bufs.dh.f32, state * P);
          if (dc0 && bufs.dc) dc0.set(bufs.dc.f32, state * H);
          // backward-weights
          const dGh = bufs.dGh ?? dGx;
          weightGemm(ex, packs, GH, inW, rows, dGx.at(), GH, x.at(), inW, dWih);
          if (sv) {
            weightGemm(ex, packs, GH, P, rows, dGh.at(), GH, sv.at(), SW, dWhh);
            if (dWhr && bufs.dhAll)
              weightGemm(ex, packs, P, H, rows, bufs.dhAll.at(), P, sv.at(P + 2 * H), SW, dWhr);
          } else {
            const prev = inPlace ? (gates as Block) : dOut;
            const h = { f32: (gates as Block).f32, ld: width, offset: d * P };
            const hState = h0 ? h0.subarray(state * P, (state + N) * P) : null;
            elmanPrevInto(g, h, hState, d === 1, { f32: prev.f32, ld: width, offset: d * P });
            weightGemm(ex, packs, GH, P, rows, dGh.at(), GH, prev.at(d * P), width, dWhh);
          }
          const threads = 2 * rows * GH * inW >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
          if (dx) {
            ex.run(
              splitRows(rows, threads).map((range) =>
                packedGemmJob({
                  ...{ M: rows, N: inW, K: GH, a: dGx.at(), sai: GH, sak: 1, b: blocks.ih.at() },
                  ...{ beta: d === 0 ? 0 : 1, c: dx.at(), ldc: inW, rows: range },
                }),
              ),
            );
          }
          const tensor = (a: Float32Array, shape: number[]) => Tensor.fromArray(a, shape);
          dirGrads.push({
            weightIh: tensor(dWih.read(0, GH * inW), [GH, inW]),
            weightHh: tensor(dWhh.read(), [GH, P]),
            biasIh: w.biasIh ? tensor(columnSums(ex, dGx.at(), rows, GH, dBias, 0), [GH]) : null,
            biasHh: w.biasHh ? tensor(columnSums(ex, dGh.at(), rows, GH, dBias, GH), [GH]) : null,
            weightHr: dWhr ? tensor(dWhr.read(), [P, H]) : null,
          });
        });
        layers[layer] = dirGrads;
        // nothing below reads this layer's saved blocks nor the gradient of its output
        if (!retain) for (const b of saved.last[layer] ?? []) b.free();
        if (dx !== dOut) dOut.free();
        if (layer > 0 && dx) {
          const mask = saved.masks[layer - 1];
          const f32 = dx.f32;
          if (mask) for (let k = 0; k < mask.length; k++) f32[k] = (f32[k] as number) * (mask[k] as number);
          dOut = dx;
        } else if (dx) dInput = dx.read(0, rows * inW);
      }
      return {
        input: dInput ? Tensor.fromArray(dInput, [...args.input.shape]) : null,
        h0: Tensor.fromArray(dh0, [...g.hShape]),
        c0: dc0 ? Tensor.fromArray(dc0, [...g.cShape]) : null,
        layers,
      };
    });
  } finally {
    for (const b of grad) b.free();
    if (!retain) freeSaved(saved.last);
  }
}

/** Moves `block` from the saved blocks `from` to the gradients `to` (freed with them), and returns it. */
function adopt(block: Block, from: Block[], to: Block[]): Block {
  const k = from.indexOf(block);
  if (k >= 0) from.splice(k, 1);
  to.push(block);
  return block;
}

/** One pack buffer per thread for `gemmJob`s of up to `N` columns and depth `K`. */
export function packBuffers(s: Scratch, threads: number, N: number, K: number): Block[] {
  return Array.from({ length: threads }, () => s.alloc(gemmPackFloats(N, K)));
}

/**
 * C (M×N, row-major) = Aᵀ·B for A (K×M, leading dimension `lda`) read transposed (the kernel packs it
 * in blocks) and B (K×N, leading dimension `ldb`): a weight gradient over all rows of the sequence. M
 * split over the threads.
 */
export function weightGemm(
  ex: WasmExecutor,
  packs: Block[],
  M: number,
  N: number,
  K: number,
  a: Ptr,
  lda: number,
  b: Ptr,
  ldb: number,
  c: Block,
): void {
  const threads = 2 * M * N * K >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
  const jobs: Job[] = splitRows(M, threads).map(([from, to], k) =>
    gemmJob({
      ...{ M: to - from, N, K, a: (a + 4 * from) as Ptr, sai: 1, sak: lda },
      ...{ b, sbp: ldb, sbj: 1, c: c.at(from * N), ldc: N, pack: (packs[k] as Block).at() },
    }),
  );
  ex.run(jobs);
}

/**
 * The column sums of A (rows × cols, row-major) in float64 (as the TypeScript backward sums a bias
 * gradient), on the kernels, columns split over the threads; through `out` from float `at`.
 */
export function columnSums(
  ex: WasmExecutor,
  a: Ptr,
  rows: number,
  cols: number,
  out: Block,
  at: number,
): Float32Array {
  const threads = rows * cols >= PARALLEL_MIN_FLOPS / 8 ? ex.threads : 1;
  // 16 columns (one cache line of a row) per block of the kernel
  const size = Math.ceil(cols / threads / 16) * 16;
  const jobs: Job[] = [];
  for (let from = 0; from < cols; from += size) {
    jobs.push(
      columnSumsJob({ a, rows, ld: cols, out: out.at(at), cols: [from, Math.min(cols, from + size)] }),
    );
  }
  ex.run(jobs);
  return out.read(at, at + cols);
}

import { recurScratchFloats } from '@recurrent/kernels-wasm';
import { layerInputSize, type SeqGeometry } from './geometry.js';
import type { RnnArgs } from './types.js';

/** Bytes an arena block may take beyond its floats (64-byte alignment and a 32-byte guard). */
const BLOCK_SLACK = 128;

/** How one forward uses the kernels' memory: the whole sequence at once, or time chunks. */
export interface WasmPlan {
  /** Time steps per chunk (T when the sequence runs whole). */
  readonly steps: number;
  /** Chunks per layer-direction: 1 when the sequence runs whole. */
  readonly chunks: number;
  /** Features of the widest layer input: a chunk's input buffer holds `steps · N` rows of it. */
  readonly inputWidth: number;
  /** Bytes of this forward's blocks (states, buffers, recurrence scratch), at most. */
  readonly bytes: number;
}

/** The limits a plan keeps to. */
export interface WasmPlanLimits {
  /** The most this forward's blocks may take when the sequence is cut into chunks. */
  readonly chunkBytes: number;
  /** The most the memory can grow to (`WASM32_MAX_BYTES` unless lowered). */
  readonly limit: number;
  /** Where the memory is in use up to now (`arena.stats().top`). */
  readonly top: number;
  /** Bytes of this forward's parameters not yet prepared in the memory. */
  readonly newWeightBytes: number;
}

const bytesOf = (floats: number, blocks: number): number => floats * 4 + blocks * BLOCK_SLACK;

/**
 * The plan of a forward: the whole sequence at once when its blocks fit `chunkBytes` (each layer's output
 * then stays in the memory for the next layer), else chunks of as many steps as fit (each chunk's input
 * copied in and its output copied out to JavaScript, the states carried from chunk to chunk). Throws a
 * RangeError, before anything is allocated, when even one step at a time cannot fit the memory's limit.
 */
export function planForward(g: SeqGeometry, args: RnnArgs, limits: WasmPlanLimits): WasmPlan {
  const { T, N, D, L, G, H, P, width, rows } = g;
  const elman = G === 1;
  const gx = elman ? 0 : D * G * H;
  // states (h0 or a row of zeros, c, the carried h), each direction's recurrence scratch, and packed the
  // table of every step's first row and batch size
  const stateFloats =
    (args.h0 ? L * D * N * P : N * P) +
    (args.cell.hasCellState ? L * D * N * H : 0) +
    D * N * P +
    D * recurScratchFloats(args.cell.mode, N, H, P !== H) +
    (g.batchSizes ? 2 * T : 0);
  const stateBytes = bytesOf(stateFloats, 5 + 2 * D);
  const wholeBytes = stateBytes + bytesOf(rows * (g.inputSize + width * (L > 1 ? 2 : 1) + gx), 2 + D);
  let widest = 0;
  for (let layer = 0; layer < L; layer++) widest = Math.max(widest, layerInputSize(g, layer));
  if (wholeBytes <= limits.chunkBytes && fits(limits, wholeBytes)) {
    return { steps: T, chunks: 1, inputWidth: widest, bytes: wholeBytes };
  }
  // per step of a chunk: each direction's input rows and gate inputs, and the output rows (packed: at
  // most N rows a step, the first step's)
  const stepBytes = N * (D * widest + gx + width) * 4;
  const fixedBytes = stateBytes + bytesOf(0, 2 * D + 1);
  const room = limits.limit - limits.top - limits.newWeightBytes - fixedBytes;
  if (stepBytes > room) {
    const need = limits.top + limits.newWeightBytes + fixedBytes + stepBytes;
    throw new RangeError(
      `wasmCpuBackend: a forward of T=${T} steps and N=${N} batch rows needs at least ${bytes(need)} of ` +
        `WebAssembly memory even one time step at a time (${bytes(stepBytes)} per step, ` +
        `${bytes(limits.top + limits.newWeightBytes)} of parameters and what is already there), more than ` +
        `the ${bytes(limits.limit)} a wasm32 memory can hold; use cpuBackend or split the batch`,
    );
  }
  const wanted = Math.floor((limits.chunkBytes - fixedBytes) / stepBytes);
  const steps = Math.max(1, Math.min(T, wanted, Math.floor(room / stepBytes)));
  return { steps, chunks: Math.ceil(T / steps), inputWidth: widest, bytes: fixedBytes + steps * stepBytes };
}

function fits(limits: WasmPlanLimits, bytes: number): boolean {
  return limits.top + limits.newWeightBytes + bytes <= limits.limit;
}

/** `1.50 GiB (1,610,612,736 bytes)`. */
function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB'];
  let unit = -1;
  let value = n;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const exact = `${n.toLocaleString('en-US')} bytes`;
  return unit < 0 ? exact : `${value.toFixed(2)} ${units[unit]} (${exact})`;
}

/**
 * A packed batch's rows [0, N) (N = batchSizes[0]) split into up to `parts` ranges of about equal work,
 * bounds multiples of 4 (as `splitRows`'): a row's work is the steps of [t0, t0 + steps) it runs. The rows
 * are sorted longest first, so equal counts would give the first share the most.
 */
export function splitRowsByWork(
  batchSizes: Int32Array,
  t0: number,
  steps: number,
  parts: number,
): [number, number][] {
  const N = batchSizes[0] ?? 0;
  // work[n]: the steps row n runs, from the differences +1 at row 0 and −1 past each step's last row
  const work = new Float64Array(N + 1);
  for (let t = t0; t < t0 + steps; t++) {
    work[0] = (work[0] as number) + 1;
    const size = batchSizes[t] as number;
    work[size] = (work[size] as number) - 1;
  }
  // then prefix sums twice: work[n] = Σ_{m<n} steps of row m
  let runs = 0;
  let total = 0;
  for (let n = 0; n <= N; n++) {
    const d = work[n] as number;
    work[n] = total;
    runs += d;
    total += runs;
  }
  const out: [number, number][] = [];
  let from = 0;
  for (let k = 1; k < parts && from < N; k++) {
    const target = (total * k) / parts;
    let best = N;
    for (let b = from + 4; b < N; b += 4) {
      if (Math.abs((work[b] as number) - target) < Math.abs((work[best] as number) - target)) best = b;
    }
    if (best >= N) break;
    out.push([from, best]);
    from = best;
  }
  out.push([from, N]);
  return out;
}

/** Splits [0, n) into up to `parts` ranges whose bounds are multiples of 4 (whole micro-kernel tiles). */
export function splitRows(n: number, parts: number): [number, number][] {
  const size = parts > 1 ? Math.ceil(n / parts / 4) * 4 : n;
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += size) out.push([from, Math.min(n, from + size)]);
  return out;
}

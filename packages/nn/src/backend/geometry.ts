import type { RnnArgs } from './types.js';

/**
 * The shape of one whole recurrent forward, computed once and shared by every backend.
 *
 * Every `(rows, features)` matrix of the forward (the input, the gate pre-activations, each layer's
 * output) keeps the input's own row order, so batch-first needs no transpose: row (t, n) is
 * `t·strideT + n·strideN` for a rectangular batch, and `stepOffsets[t] + n` for a packed one
 * (`PackedSequence.data`: step t holds the first `batchSizes[t]` sequences, longest first).
 */
export interface SeqGeometry {
  /** Time steps. */
  readonly T: number;
  /** Batch. */
  readonly N: number;
  /** Directions (1 or 2). */
  readonly D: number;
  /** Layers. */
  readonly L: number;
  /** Gate blocks (1, 3 or 4). */
  readonly G: number;
  /** Features of the input of layer 0. */
  readonly inputSize: number;
  /** `H`: hidden size (gate and cell-state features). */
  readonly H: number;
  /** `P`: features of `h` (`projSize || H`). */
  readonly P: number;
  /** Floats per row of a layer's output: `D·P` (direction d at columns d·P …). */
  readonly width: number;
  /** Rows of every sequence matrix: `T·N`, or `Σ batchSizes` when packed. */
  readonly rows: number;
  readonly batchFirst: boolean;
  /**
   * Packed input: how many sequences are active at each step (non-increasing, `batchSizes[0] = N`);
   * null for a rectangular batch.
   */
  readonly batchSizes: Int32Array | null;
  /** Packed input: the first row of step t (`T + 1` prefix sums of `batchSizes`); null when rectangular. */
  readonly stepOffsets: Int32Array | null;
  /** Row distance between consecutive time steps (1 batch-first, else N; N when packed, unused). */
  readonly strideT: number;
  /** Row distance between consecutive batch entries at one step (T batch-first, else 1; 1 when packed). */
  readonly strideN: number;
  /** Shape of the output: `(T, N, width)`, `(N, T, width)` batch-first, `(rows, width)` packed. */
  readonly outputShape: readonly number[];
  /** Shape of `hN` (and `h0`): `(L·D, N, P)`. */
  readonly hShape: readonly [number, number, number];
  /** Shape of `cN` (and `c0`): `(L·D, N, H)`. */
  readonly cShape: readonly [number, number, number];
}

/** The geometry of `args` (already validated by the module). */
export function seqGeometry(args: RnnArgs): SeqGeometry {
  const { layers, cell, batchSizes } = args;
  const layout = batchSizes ? packedLayout(args, batchSizes) : rectangularLayout(args);
  const D = layers[0]?.length ?? 1;
  const L = layers.length;
  const H = cell.hiddenSize;
  const P = cell.stateSize;
  const width = D * P;
  const { T, N, batchFirst } = layout;
  // every field written out (no spread): one object shape for every call, which V8 keeps on its fast path
  return Object.freeze({
    T,
    N,
    inputSize: layout.inputSize,
    rows: layout.rows,
    batchFirst,
    batchSizes: layout.batchSizes,
    stepOffsets: layout.stepOffsets,
    strideT: layout.strideT,
    strideN: layout.strideN,
    D,
    L,
    G: cell.gates,
    H,
    P,
    width,
    outputShape: layout.stepOffsets ? [layout.rows, width] : batchFirst ? [N, T, width] : [T, N, width],
    hShape: [L * D, N, P] as [number, number, number],
    cShape: [L * D, N, H] as [number, number, number],
  });
}

/** The part of the geometry that depends on how rows are laid out (everything but the cell and the layers). */
type Layout = Pick<
  SeqGeometry,
  'T' | 'N' | 'inputSize' | 'rows' | 'batchFirst' | 'batchSizes' | 'stepOffsets' | 'strideT' | 'strideN'
>;

function rectangularLayout(args: RnnArgs): Layout {
  const { batchFirst } = args;
  const [d0, d1, inputSize] = args.input.shape as [number, number, number];
  const [T, N] = batchFirst ? [d1, d0] : [d0, d1];
  const [strideT, strideN] = batchFirst ? [1, T] : [N, 1];
  return { T, N, inputSize, rows: T * N, batchFirst, batchSizes: null, stepOffsets: null, strideT, strideN };
}

function packedLayout(args: RnnArgs, batchSizes: Int32Array): Layout {
  const [rows, inputSize] = args.input.shape as [number, number];
  const T = batchSizes.length;
  const N = batchSizes[0] ?? 0;
  const stepOffsets = new Int32Array(T + 1);
  for (let t = 0; t < T; t++) stepOffsets[t + 1] = (stepOffsets[t] as number) + (batchSizes[t] as number);
  return { T, N, inputSize, rows, batchFirst: false, batchSizes, stepOffsets, strideT: N, strideN: 1 };
}

/** How many sequences step t holds: `batchSizes[t]` when packed, else N. */
export function stepBatch(g: SeqGeometry, t: number): number {
  return g.batchSizes ? (g.batchSizes[t] as number) : g.N;
}

/** The time step a direction processes at iteration i: forward `i`, reverse `T − 1 − i`. */
export function stepTime(g: SeqGeometry, i: number, direction: number): number {
  return direction === 1 ? g.T - 1 - i : i;
}

/** Row index of (t, n) in every sequence matrix of `g`. */
export function rowOf(g: SeqGeometry, t: number, n: number): number {
  return g.stepOffsets ? (g.stepOffsets[t] as number) + n : t * g.strideT + n * g.strideN;
}

/** Floats of each layer's input: `inputSize` for layer 0, `D·P` after. */
export function layerInputSize(g: SeqGeometry, layer: number): number {
  return layer === 0 ? g.inputSize : g.width;
}

/** FLOPs of the forward's GEMMs: Σ 2·rows·G·H·(I_l + P), plus the projections 2·rows·H·P. */
export function forwardFlops(g: SeqGeometry): number {
  let flops = 0;
  for (let layer = 0; layer < g.L; layer++) {
    const proj = g.P !== g.H ? g.H * g.P : 0;
    flops += g.D * 2 * g.rows * (g.G * g.H * (layerInputSize(g, layer) + g.P) + proj);
  }
  return flops;
}

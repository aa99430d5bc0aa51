/** The recurrent module a configuration runs: `torch.nn.RNN` (tanh), `LSTM` or `GRU`. */
export type Cell = 'RNN' | 'LSTM' | 'GRU';

/** Gate blocks per cell: the rows of `weight_ih` are `gates·H` (PyTorch's i, f, g, o; r, z, n). */
export const GATES: Readonly<Record<Cell, number>> = { RNN: 1, LSTM: 4, GRU: 3 };

/**
 * One benchmark configuration: `torch.nn.<cell>(I, H, layers, batch_first=True, bidirectional=…)` on
 * (B, T, I). The id is the (`C2`) for the RNN, and `C2-LSTM`, `C2-GRU` for the other cells; a
 * `-packed` suffix (`C2-GRU-packed`) runs the same padded input as a packed batch of `lengths`.
 */
export interface BenchConfig {
  readonly id: string;
  readonly cell: Cell;
  readonly batch: number;
  readonly steps: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  /**
   * Packed configs: sequence b's length (B of them, in [1, T], caller order, not sorted). The forward is
   * `packPaddedSequence(x, lengths, { batchFirst: true, enforceSorted: false })` and the output is padded back,
   * zeros past each length. Undefined: the rectangular forward on all T steps.
   */
  readonly lengths?: readonly number[];
  /**
   * Training configs (`C1-train`, `C2-LSTM-train`): one timed sample is one full SGD step (zero the grads,
   * forward in training mode, MSE against a fixed target, backward, `step()`), not a forward.
   */
  readonly train?: boolean;
  /**
   * Streamed configs (`C1-LSTM-stream`): the sequence arrives one step at a time, as in a live stream. One
   * timed sample is T forwards of one step (B, 1, I), each from the state the previous one left
   * (`module.stream()`; ONNX Runtime: a run per step with the state fed back; PyTorch: `model(x_t, state)`),
   * each step's output read; compared as the (B, T, H) of the whole sequence.
   */
  readonly stream?: boolean;
}

/** The learning rate of every implementation's plain SGD (no momentum) on the training configs. */
export const TRAIN_LR = 0.01;

type Shape = Omit<BenchConfig, 'id' | 'cell' | 'lengths' | 'train' | 'stream'>;
const shape = (
  batch: number,
  steps: number,
  inputSize: number,
  hiddenSize: number,
  numLayers: number,
  bidirectional = false,
): Shape => ({ batch, steps, inputSize, hiddenSize, numLayers, bidirectional });

/** The shapes C0–C5 (float32, batch-first, eval). */
const SHAPES: Readonly<Record<string, Shape>> = {
  C0: shape(2, 3, 2, 3, 1),
  C1: shape(1, 128, 32, 64, 1),
  C2: shape(16, 128, 128, 256, 2),
  C3: shape(16, 128, 128, 256, 2, true),
  C4: shape(64, 256, 512, 1024, 1),
  C5: shape(1, 4096, 64, 128, 1),
  // not the issue's: a stacked batch of one (the two-thread backend runs its layers as a wavefront)
  C6: shape(1, 2048, 64, 128, 2),
};

const withCell = (cell: Cell, ids: readonly string[]): BenchConfig[] =>
  ids.map((id) => ({ id: cell === 'RNN' ? id : `${id}-${cell}`, cell, ...(SHAPES[id] as Shape) }));

/**
 * Lengths for a packed batch, drawn once from a fixed seed (mulberry32): uniform integers in [⌈T/4⌉, T],
 * the longest then set to T so the padded batch is exactly T steps (and `padPackedSequence` returns T).
 */
export function drawLengths(batch: number, steps: number, seed = 1): number[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const lo = Math.ceil(steps / 4);
  const lengths = Array.from({ length: batch }, () => lo + Math.floor(next() * (steps - lo + 1)));
  lengths[lengths.indexOf(Math.max(...lengths))] = steps;
  return lengths;
}

/**
 * `id-packed` configs of a shape, one per cell: the packed row is C2 with lengths from [T/4, T].
 * `changes` alters the shape (the quick set's smaller batches); the lengths are drawn for the result.
 */
const packed = (cells: readonly Cell[], id: string, changes: Partial<Shape> = {}): BenchConfig[] => {
  const s = { ...(SHAPES[id] as Shape), ...changes };
  const lengths = drawLengths(s.batch, s.steps);
  return cells.map((cell) => ({
    id: cell === 'RNN' ? `${id}-packed` : `${id}-${cell}-packed`,
    cell,
    ...s,
    lengths,
  }));
};

/** `id-train` configs (`C1-train`, `C1-LSTM-train`): a training step of each cell on each shape. */
const training = (cells: readonly Cell[], ids: readonly string[]): BenchConfig[] =>
  cells.flatMap((cell) => withCell(cell, ids).map((c) => ({ ...c, id: `${c.id}-train`, train: true })));

/** `id-stream` configs (`C1-stream`, `C1-LSTM-stream`): each cell's shape streamed one step at a time. */
const streamed = (cells: readonly Cell[], ids: readonly string[]): BenchConfig[] =>
  cells.flatMap((cell) => withCell(cell, ids).map((c) => ({ ...c, id: `${c.id}-stream`, stream: true })));

/**
 * The RNN (tanh) on C0–C5, then the LSTM and the GRU on C1, C2, C3 and C5, and on C6 (two stacked layers of a
 * batch of one); then the packed configs: C2 for
 * every cell (the issue's row), and for the quick set C0 (bidirectional, B=3) and C1 (B=4, 2 layers); then
 * the training step of every cell on C1, C2 and C5 (issue 12's training benchmark); then C1 of every cell
 * streamed one step at a time.
 */
export const CONFIGS: readonly BenchConfig[] = [
  ...withCell('RNN', ['C0', 'C1', 'C2', 'C3', 'C4', 'C5']),
  ...withCell('LSTM', ['C1', 'C2', 'C3', 'C5']),
  ...withCell('GRU', ['C1', 'C2', 'C3', 'C5']),
  ...withCell('LSTM', ['C6']),
  ...withCell('GRU', ['C6']),
  ...packed(['RNN'], 'C0', { batch: 3, bidirectional: true }),
  ...packed(['RNN', 'LSTM', 'GRU'], 'C1', { batch: 4, numLayers: 2 }),
  ...packed(['RNN', 'LSTM', 'GRU'], 'C2'),
  ...training(['RNN', 'LSTM', 'GRU'], ['C1', 'C2', 'C5']),
  ...streamed(['RNN', 'LSTM', 'GRU'], ['C1']),
];

/**
 * The CI smoke subset: small enough to run in seconds, big enough to exercise every code path and cell
 * (packed: unsorted lengths, a layer fed packed output, a reverse direction starting at each length;
 * training: a step of each cell).
 */
export const QUICK: readonly string[] = [
  'C0',
  'C1',
  'C1-LSTM',
  'C1-GRU',
  'C0-packed',
  'C1-packed',
  'C1-LSTM-packed',
  'C1-GRU-packed',
  'C1-train',
  'C1-LSTM-train',
  'C1-GRU-train',
  'C1-LSTM-stream',
];

/** Real tokens of a forward: Σ lengths when packed, else B·T. */
export function tokensOf(c: BenchConfig): number {
  return c.lengths ? c.lengths.reduce((s, l) => s + l, 0) : c.batch * c.steps;
}

/**
 * Σ over layers and directions of 2·tokens·G·H·(I_l + H), G the gate count (1 RNN, 4 LSTM, 3 GRU), tokens
 * B·T or, packed, Σ lengths: the work a forward needs, so a padded forward of a packed config is charged
 * only for the real tokens too. A training step is charged 3× its forward (the usual estimate: the backward
 * through time is a GEMM for the data and one for the weights per forward GEMM).
 */
export function flopsOf(c: BenchConfig): number {
  const D = c.bidirectional ? 2 : 1;
  const rows = GATES[c.cell] * c.hiddenSize;
  let total = 0;
  for (let layer = 0; layer < c.numLayers; layer++) {
    const inputs = layer === 0 ? c.inputSize : D * c.hiddenSize;
    total += D * 2 * tokensOf(c) * rows * (inputs + c.hiddenSize);
  }
  return c.train ? 3 * total : total;
}

export function describeConfig(c: BenchConfig): string {
  const bi = c.bidirectional ? ', bidirectional' : '';
  const packedNote = c.lengths
    ? `, packed: lengths [${c.lengths.join(', ')}] (${tokensOf(c)} of ${c.batch * c.steps} tokens)`
    : '';
  const trainNote = c.train ? `, training step (MSE, SGD lr ${TRAIN_LR})` : '';
  const streamNote = c.stream ? `, streamed: ${c.steps} forwards of one step, the state carried` : '';
  return `${c.cell}, B=${c.batch}, T=${c.steps}, I=${c.inputSize}, H=${c.hiddenSize}, layers=${c.numLayers}${bi}${packedNote}${trainNote}${streamNote}`;
}

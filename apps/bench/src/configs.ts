/** The recurrent module a configuration runs: `torch.nn.RNN` (tanh), `LSTM` or `GRU`. */
export type Cell = 'RNN' | 'LSTM' | 'GRU';

/** Gate blocks per cell: the rows of `weight_ih` are `gates·H` (PyTorch's i, f, g, o; r, z, n). */
export const GATES: Readonly<Record<Cell, number>> = { RNN: 1, LSTM: 4, GRU: 3 };

/**
 * One benchmark configuration: `torch.nn.<cell>(I, H, layers, batch_first=True, bidirectional=…)` on
 * (B, T, I). The id is the (`C2`) for the RNN, and `C2-LSTM`, `C2-GRU` for the other cells.
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
}

type Shape = Omit<BenchConfig, 'id' | 'cell'>;
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
};

const withCell = (cell: Cell, ids: readonly string[]): BenchConfig[] =>
  ids.map((id) => ({ id: cell === 'RNN' ? id : `${id}-${cell}`, cell, ...(SHAPES[id] as Shape) }));

/** The RNN (tanh) on C0–C5, then the LSTM and the GRU on C1, C2, C3 and C5. */
export const CONFIGS: readonly BenchConfig[] = [
  ...withCell('RNN', ['C0', 'C1', 'C2', 'C3', 'C4', 'C5']),
  ...withCell('LSTM', ['C1', 'C2', 'C3', 'C5']),
  ...withCell('GRU', ['C1', 'C2', 'C3', 'C5']),
];

/** The CI smoke subset: small enough to run in seconds, big enough to exercise every code path and cell. */
export const QUICK: readonly string[] = ['C0', 'C1', 'C1-LSTM', 'C1-GRU'];

/** Σ over layers and directions of 2·T·B·G·H·(I_l + H), G the gate count (1 RNN, 4 LSTM, 3 GRU). */
export function flopsOf(c: BenchConfig): number {
  const D = c.bidirectional ? 2 : 1;
  const rows = GATES[c.cell] * c.hiddenSize;
  let total = 0;
  for (let layer = 0; layer < c.numLayers; layer++) {
    const inputs = layer === 0 ? c.inputSize : D * c.hiddenSize;
    total += D * 2 * c.steps * c.batch * rows * (inputs + c.hiddenSize);
  }
  return total;
}

export function describeConfig(c: BenchConfig): string {
  const bi = c.bidirectional ? ', bidirectional' : '';
  return `${c.cell}, B=${c.batch}, T=${c.steps}, I=${c.inputSize}, H=${c.hiddenSize}, layers=${c.numLayers}${bi}`;
}

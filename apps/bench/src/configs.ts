/** One benchmark configuration: `torch.nn.RNN(I, H, layers, batch_first=True, bidirectional=…)` on (B, T, I). */
export interface BenchConfig {
  readonly id: string;
  readonly batch: number;
  readonly steps: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
}

const config = (
  id: string,
  batch: number,
  steps: number,
  inputSize: number,
  hiddenSize: number,
  numLayers: number,
  bidirectional = false,
): BenchConfig => ({ id, batch, steps, inputSize, hiddenSize, numLayers, bidirectional });

/** The configurations C0–C5 (float32, tanh, batch-first, eval). */
export const CONFIGS: readonly BenchConfig[] = [
  config('C0', 2, 3, 2, 3, 1),
  config('C1', 1, 128, 32, 64, 1),
  config('C2', 16, 128, 128, 256, 2),
  config('C3', 16, 128, 128, 256, 2, true),
  config('C4', 64, 256, 512, 1024, 1),
  config('C5', 1, 4096, 64, 128, 1),
];

/** The CI smoke subset: small enough to run in seconds, big enough to exercise every code path. */
export const QUICK: readonly string[] = ['C0', 'C1'];

/** Σ over layers and directions of 2·T·B·(I_l·H + H·H). */
export function flopsOf(c: BenchConfig): number {
  const D = c.bidirectional ? 2 : 1;
  let total = 0;
  for (let layer = 0; layer < c.numLayers; layer++) {
    const inputs = layer === 0 ? c.inputSize : D * c.hiddenSize;
    total += D * 2 * c.steps * c.batch * (inputs * c.hiddenSize + c.hiddenSize * c.hiddenSize);
  }
  return total;
}

export function describeConfig(c: BenchConfig): string {
  const bi = c.bidirectional ? ', bidirectional' : '';
  return `B=${c.batch}, T=${c.steps}, I=${c.inputSize}, H=${c.hiddenSize}, layers=${c.numLayers}${bi}`;
}

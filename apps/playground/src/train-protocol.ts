// The messages between the "train" panel (main thread) and its worker (train-worker.ts), and the
// training configuration both sides check the same way.

/**
 * Where the worker trains: `'webgpu'` the WebGPU backend (the parameters, the backward, the loss and
 * Adam's steps all on the GPU; one readback a step, the loss), `'cpu'` the WebAssembly SIMD backend
 * (plain TypeScript where the engine has no SIMD), `'ts'` the plain TypeScript one.
 */
export type TrainBackendName = 'cpu' | 'ts' | 'webgpu';

/**
 * The backend choice: one of {@link TrainBackendName}, or `'auto'`: WebGPU where the worker's
 * `navigator.gpu` gives a hardware adapter, else `'cpu'` (a software fallback adapter, such as
 * SwiftShader, trains far slower than WebAssembly SIMD).
 */
export type TrainBackendChoice = TrainBackendName | 'auto';

/** Whether each backend can train: all of them, since @recurrent/nn's modules train on WebGPU. */
export const TRAINS_ON: Readonly<Record<TrainBackendName, boolean>> = { cpu: true, ts: true, webgpu: true };

/**
 * The character model (Embedding → LSTM, batch first → Linear, as apps/char-rnn's) and how it trains:
 * Adam on cross entropy over `batchSize` random windows of `seqLen + 1` characters of the text, gradients
 * clipped to norm `clip`. Every `sampleEvery` steps (and at the end) it samples `sampleLength` characters
 * from `prompt` at `temperature`, drawn from a generator seeded with `seed` (the same draws each time, so
 * samples differ only by what the model learned).
 */
export interface TrainConfig {
  backend: TrainBackendChoice;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  seqLen: number;
  batchSize: number;
  lr: number;
  steps: number;
  clip: number;
  seed: number;
  sampleEvery: number;
  sampleLength: number;
  temperature: number;
  prompt: string;
}

/** Sized to learn visibly in a few hundred steps at some 20 steps/s on one core. */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  backend: 'auto',
  embeddingDim: 32,
  hiddenSize: 64,
  numLayers: 1,
  seqLen: 32,
  batchSize: 8,
  lr: 0.01,
  steps: 1000,
  clip: 5,
  seed: 0,
  sampleEvery: 100,
  sampleLength: 200,
  temperature: 0.8,
  prompt: 'MENENIUS:\n',
});

type NumberKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never }[keyof TrainConfig];

/** Each numeric field's range: integers in [min, max], or (int false) numbers in (0, max]. */
const RANGES: Record<NumberKey, { min: number; max: number; int: boolean }> = {
  embeddingDim: { min: 1, max: 512, int: true },
  hiddenSize: { min: 1, max: 512, int: true },
  numLayers: { min: 1, max: 4, int: true },
  seqLen: { min: 1, max: 512, int: true },
  batchSize: { min: 1, max: 256, int: true },
  lr: { min: 0, max: 1, int: false },
  steps: { min: 1, max: 100_000, int: true },
  clip: { min: 0, max: 1e6, int: false },
  seed: { min: 0, max: 2 ** 32 - 1, int: true },
  sampleEvery: { min: 1, max: 100_000, int: true },
  sampleLength: { min: 1, max: 2000, int: true },
  temperature: { min: 0, max: 10, int: false },
};

/** What is wrong with each field of `config` (empty when it can train), by field name. */
export function checkTrainConfig(config: TrainConfig): Partial<Record<keyof TrainConfig, string>> {
  const errors: Partial<Record<keyof TrainConfig, string>> = {};
  for (const [key, { min, max, int }] of Object.entries(RANGES) as [
    NumberKey,
    (typeof RANGES)[NumberKey],
  ][]) {
    const v = config[key];
    if (int && !(Number.isInteger(v) && v >= min && v <= max))
      errors[key] = `must be an integer from ${min} to ${max}, received ${v}`;
    if (!int && !(Number.isFinite(v) && v > min && v <= max))
      errors[key] = `must be a number above ${min} and at most ${max}, received ${v}`;
  }
  if (config.prompt.length === 0) errors.prompt = 'must have at least one character';
  return errors;
}

/** The main thread's requests. `checkpoint` is answered between steps, while running, paused or done. */
export type ToWorker =
  | { type: 'start'; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'checkpoint' };

/** One training step's loss (mean cross entropy per character, in nats). */
export interface LossPoint {
  step: number;
  loss: number;
}

/** The worker's reports. Losses come in batches, about every {@link REPORT_MS} ms. */
export type FromWorker =
  | {
      type: 'started';
      /** The backend that trains (what `'auto'` chose). */
      device: TrainBackendName;
      /** Its label, e.g. `webgpu (nvidia …)` or `cpu (WebAssembly SIMD)`. */
      backend: string;
      /** Why `'auto'` did not choose WebGPU; absent when it did, or when the choice was not `'auto'`. */
      notOnGpu?: string;
      vocabSize: number;
      parameters: number;
      textLength: number;
    }
  | { type: 'losses'; points: LossPoint[]; stepsPerSecond: number }
  | { type: 'sample'; step: number; text: string }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  | { type: 'done'; step: number; stopped: boolean }
  | { type: 'checkpoint'; step: number; bytes: ArrayBuffer }
  | { type: 'error'; message: string };

/** How long the worker trains between reports (and between reading the main thread's requests). */
export const REPORT_MS = 100;

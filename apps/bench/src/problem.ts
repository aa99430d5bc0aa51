import { GRU, LSTM, type PackedSequence, RNN } from '@recurrent/nn';
import { manualSeed, randn, type Tensor } from '@recurrent/tensor';
import type { BenchConfig } from './configs.js';

/**
 * One layer-direction's weights in PyTorch's layout, as plain arrays every peer can take. G is the gate
 * count (1 RNN, 4 LSTM, 3 GRU): the rows hold the gate blocks in PyTorch's order (i, f, g, o; r, z, n).
 */
export interface DirectionWeights {
  /** (G·H, I_l) */
  readonly wIh: Float32Array;
  /** (G·H, H) */
  readonly wHh: Float32Array;
  /** (G·H) */
  readonly bIh: Float32Array;
  /** (G·H) */
  readonly bHh: Float32Array;
}

/** `@recurrent/nn`'s module for a config. */
export type Model = RNN | LSTM | GRU;

/** `new RNN/LSTM/GRU({...})` with the config's shape, batch first; PyTorch's init from the current seed. */
export function createModel(c: BenchConfig): Model {
  const options = {
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    batchFirst: true,
  };
  return c.cell === 'LSTM' ? new LSTM(options) : c.cell === 'GRU' ? new GRU(options) : new RNN(options);
}

/** One forward of a model: the output and the final states (h; or h and c for an LSTM). */
export function forwardAll(model: Model, input: Tensor): { output: Tensor<'float32'>; states: Tensor[] } {
  if (model instanceof LSTM) {
    const [output, state] = model.forward(input);
    return { output, states: state };
  }
  const [output, hN] = model instanceof GRU ? model.forward(input) : model.forward(input);
  return { output, states: [hN] };
}

/** One forward of a model on a packed batch: the packed output and the final states. */
export function forwardPacked(
  model: Model,
  input: PackedSequence,
): { output: PackedSequence; states: Tensor[] } {
  if (model instanceof LSTM) {
    const [output, state] = model.forward(input);
    return { output, states: state };
  }
  const [output, hN] = model instanceof GRU ? model.forward(input) : model.forward(input);
  return { output, states: [hN] };
}

/** A benchmark problem: PyTorch-initialized weights (seed 0), a standard-normal input, and the config. */
export interface Problem {
  readonly config: BenchConfig;
  /** `layers[k][d]` */
  readonly layers: readonly (readonly DirectionWeights[])[];
  readonly stateDict: Record<string, Tensor<'float32'>>;
  /** (B, T, I), batch-first */
  readonly input: Tensor<'float32'>;
  /** Training configs: the fixed MSE target (B, T, D·H), standard normal, drawn after the input; else null. */
  readonly target: Tensor<'float32'> | null;
}

export function makeProblem(config: BenchConfig): Problem {
  manualSeed(0);
  const model = createModel(config);
  const input = randn([config.batch, config.steps, config.inputSize]);
  const D = config.bidirectional ? 2 : 1;
  const target = config.train ? randn([config.batch, config.steps, D * config.hiddenSize]) : null;
  const stateDict = model.stateDict();
  const get = (key: string): Float32Array => {
    const t = stateDict[key];
    if (!t) throw new Error(`bench: missing parameter ${key}`);
    return t.dataSync();
  };
  const layers: DirectionWeights[][] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const dirs: DirectionWeights[] = [];
    for (const s of config.bidirectional ? ['', '_reverse'] : ['']) {
      dirs.push({
        wIh: get(`weight_ih_l${layer}${s}`),
        wHh: get(`weight_hh_l${layer}${s}`),
        bIh: get(`bias_ih_l${layer}${s}`),
        bHh: get(`bias_hh_l${layer}${s}`),
      });
    }
    layers.push(dirs);
  }
  return { config, layers, stateDict, input, target };
}

/**
 * A (B, T, F) batch-first output with the positions past each sequence's length set to 0, in place: what
 * `padPackedSequence` (and PyTorch's `pad_packed_sequence`) gives there. For checking a runner whose padding
 * positions hold something else (a padded forward runs them; a masked one carries its state on), so only the
 * valid positions are compared. Not packed: unchanged.
 */
export function zeroPadding(c: BenchConfig, output: Float32Array): Float32Array {
  if (!c.lengths) return output;
  const F = output.length / (c.batch * c.steps);
  c.lengths.forEach((length, b) => {
    output.fill(0, (b * c.steps + length) * F, (b + 1) * c.steps * F);
  });
  return output;
}

/** The flat output shape (B, T, D·H) of a problem. */
export function outputSize(c: BenchConfig): number {
  return c.batch * c.steps * (c.bidirectional ? 2 : 1) * c.hiddenSize;
}

/** What a streamed config runs: a model's `stream()`, whatever its cell. */
export interface Stream {
  step(chunk: Tensor): Tensor;
  reset(state: null): void;
}

export function streamOf(model: Model, batch: number): Stream {
  if (model instanceof LSTM) return model.stream({ batch });
  return model instanceof GRU ? model.stream({ batch }) : model.stream({ batch });
}

/**
 * The (B, T, F) batch-first output of a streamed config, filled step by step: `put(t, y)` writes step t's
 * output y (B, 1, F).
 */
export function stepsOutput(
  c: BenchConfig,
  width: number,
): { out: Float32Array; put(t: number, y: Float32Array): void } {
  const out = new Float32Array(c.batch * c.steps * width);
  return {
    out,
    put(t, y) {
      for (let b = 0; b < c.batch; b++)
        out.set(y.subarray(b * width, (b + 1) * width), (b * c.steps + t) * width);
    },
  };
}

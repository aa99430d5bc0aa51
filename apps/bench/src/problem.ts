import { RNN } from '@recurrent/nn';
import { manualSeed, randn, type Tensor } from '@recurrent/tensor';
import type { BenchConfig } from './configs.js';

/** One layer-direction's weights in PyTorch's layout, as plain arrays every peer can take. */
export interface DirectionWeights {
  /** (H, I_l) */
  readonly wIh: Float32Array;
  /** (H, H) */
  readonly wHh: Float32Array;
  /** (H) */
  readonly bIh: Float32Array;
  /** (H) */
  readonly bHh: Float32Array;
}

/** A benchmark problem: PyTorch-initialized weights (seed 0), a standard-normal input, and the config. */
export interface Problem {
  readonly config: BenchConfig;
  /** `layers[k][d]` */
  readonly layers: readonly (readonly DirectionWeights[])[];
  readonly stateDict: Record<string, Tensor>;
  /** (B, T, I), batch-first */
  readonly input: Tensor;
}

export function makeProblem(config: BenchConfig): Problem {
  manualSeed(0);
  const rnn = new RNN({
    inputSize: config.inputSize,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    bidirectional: config.bidirectional,
    batchFirst: true,
  });
  const input = randn([config.batch, config.steps, config.inputSize]);
  const stateDict = rnn.stateDict();
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
  return { config, layers, stateDict, input };
}

/** The flat output shape (B, T, D·H) of a problem. */
export function outputSize(c: BenchConfig): number {
  return c.batch * c.steps * (c.bidirectional ? 2 : 1) * c.hiddenSize;
}

import type { Generator, Tensor } from '@recurrent/tensor';

/** The activation of an Elman RNN (`torch.nn.RNN`'s `nonlinearity`). */
export type Nonlinearity = 'tanh' | 'relu';

/** The weights of one layer in one direction, as tensors on the backend. PyTorch's layout. */
export interface RnnDirectionWeights {
  /** `(hiddenSize, layerInputSize)` — `weight_ih_l{k}[_reverse]`. */
  readonly weightIh: Tensor;
  /** `(hiddenSize, hiddenSize)` — `weight_hh_l{k}[_reverse]`. */
  readonly weightHh: Tensor;
  /** `(hiddenSize)`, or null when the module has `bias: false`. */
  readonly biasIh: Tensor | null;
  /** `(hiddenSize)`, or null when the module has `bias: false`. */
  readonly biasHh: Tensor | null;
}

/** Inverted dropout between layers: keep with probability `1 − p`, scale kept values by `1 / (1 − p)`. */
export interface DropoutSpec {
  readonly p: number;
  /** The mask is drawn from this generator in PyTorch's order, so a seeded run matches PyTorch. */
  readonly generator: Generator;
}

/** One whole RNN forward: every layer, every direction, every time step, in one backend call. */
export interface RnnArgs {
  /** `(T, N, inputSize)`, or `(N, T, inputSize)` when `batchFirst`. On this backend. */
  readonly input: Tensor;
  readonly batchFirst: boolean;
  /** `(D·numLayers, N, hiddenSize)` on this backend, or null for zeros. */
  readonly h0: Tensor | null;
  /** `layers[k][d]`: layer k, direction d (0 forward, 1 reverse). */
  readonly layers: readonly (readonly RnnDirectionWeights[])[];
  readonly hiddenSize: number;
  readonly nonlinearity: Nonlinearity;
  /** Applied to the output of every layer but the last; null in eval mode. */
  readonly dropout: DropoutSpec | null;
}

/** What `RnnArgs` produce, on the backend. */
export interface RnnResult {
  /** `(T, N, D·hiddenSize)`, or `(N, T, D·hiddenSize)` when `batchFirst`: directions concatenated. */
  readonly output: Tensor;
  /** `(D·numLayers, N, hiddenSize)`, layer-major then direction. */
  readonly hN: Tensor;
}

/**
 * A compute backend for `@recurrent/nn`. Shapes are validated by the modules before a backend is
 * called, so a backend may assume well-formed arguments. Modules keep their parameters on the CPU
 * as the source of truth and hand each backend its own copy through `fromCpu`.
 */
export interface Backend {
  /** The device name tensors on this backend report (`'cpu'`, `'webgpu'`). */
  readonly name: string;
  /** A copy of a CPU tensor on this backend (the CPU backend returns it as is). */
  fromCpu(t: Tensor): Tensor;
  /** The whole multi-layer, possibly bidirectional RNN over the whole sequence. */
  rnn(args: RnnArgs): RnnResult;
}

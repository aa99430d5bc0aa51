import type { Generator, Tensor } from '@recurrent/tensor';
import type { CellSpec } from '../cell.js';

/** The activation of an Elman RNN (`torch.nn.RNN`'s `nonlinearity`). */
export type Nonlinearity = 'tanh' | 'relu';

/**
 * The weights of one layer in one direction, as tensors on the backend, in PyTorch's layout: the gate
 * blocks are stacked by rows in the cell's `gateOrder` (`G = cell.gates`, `H = hiddenSize`,
 * `P = projSize || H`).
 */
export interface RnnDirectionWeights {
  /** `(G·H, layerInputSize)` — `weight_ih_l{k}[_reverse]`. */
  readonly weightIh: Tensor;
  /** `(G·H, P)` — `weight_hh_l{k}[_reverse]`. */
  readonly weightHh: Tensor;
  /** `(G·H)`, or null when the module has `bias: false`. */
  readonly biasIh: Tensor | null;
  /** `(G·H)`, or null when the module has `bias: false`. */
  readonly biasHh: Tensor | null;
  /** LSTM with `projSize`: `(P, H)` — `weight_hr_l{k}[_reverse]`; otherwise null. */
  readonly weightHr: Tensor | null;
}

/** Inverted dropout between layers: keep with probability `1 − p`, scale kept values by `1 / (1 − p)`. */
export interface DropoutSpec {
  readonly p: number;
  /** The mask is drawn from this generator in PyTorch's order, so a seeded run matches PyTorch. */
  readonly generator: Generator;
}

/** One whole recurrent forward: every layer, every direction, every time step, in one backend call. */
export interface RnnArgs {
  /** The cell: Elman (tanh or relu), LSTM (with its projection) or GRU. */
  readonly cell: CellSpec;
  /** `(T, N, inputSize)`, or `(N, T, inputSize)` when `batchFirst`. On this backend. */
  readonly input: Tensor;
  readonly batchFirst: boolean;
  /** `(D·numLayers, N, P)` on this backend, or null for zeros. */
  readonly h0: Tensor | null;
  /** LSTM only: `(D·numLayers, N, H)` on this backend, or null for zeros. */
  readonly c0: Tensor | null;
  /** `layers[k][d]`: layer k, direction d (0 forward, 1 reverse). */
  readonly layers: readonly (readonly RnnDirectionWeights[])[];
  /** Applied to the output of every layer but the last; null in eval mode. */
  readonly dropout: DropoutSpec | null;
}

/** What `RnnArgs` produce, on the backend. */
export interface RnnResult {
  /** `(T, N, D·P)`, or `(N, T, D·P)` when `batchFirst`: directions concatenated. */
  readonly output: Tensor<'float32'>;
  /** `(D·numLayers, N, P)`, layer-major then direction. */
  readonly hN: Tensor<'float32'>;
  /** LSTM: `(D·numLayers, N, H)`; null for the other cells. */
  readonly cN: Tensor<'float32'> | null;
}

/**
 * A compute backend for `@recurrent/nn`. Shapes are validated by the modules before a backend is
 * called, so a backend may assume well-formed arguments. Modules keep their parameters on the CPU
 * as the source of truth and hand each backend its own copy through `fromCpu`.
 */
export interface Backend {
  /** The device its tensors live on, as `tensor.device` reports it (`'cpu'`, `'webgpu'`). */
  readonly device: string;
  /** A human label for menus and logs (`'cpu (TypeScript)'`, `'cpu (WebAssembly SIMD, 2 threads)'`). */
  readonly label: string;
  /** Whether `t` lives on this backend (so `rnn` may take it without a copy). */
  owns(t: Tensor): boolean;
  /** A copy of a CPU tensor on this backend (a CPU backend returns it as is). */
  fromCpu(t: Tensor): Tensor;
  /** A copy of one of this backend's tensors with storage of its own (PyTorch's `clone`). */
  clone(t: Tensor): Tensor;
  /** The whole multi-layer, possibly bidirectional recurrent forward over the whole sequence. */
  rnn(args: RnnArgs): RnnResult;
  /** Releases what the backend holds (workers, GPU buffers, device); later calls throw. Idempotent. */
  dispose(): void;
  /** True once `dispose()` has been called. */
  readonly disposed: boolean;
}

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
  /**
   * `(T, N, inputSize)`, or `(N, T, inputSize)` when `batchFirst`; packed (`batchSizes` given):
   * `(Σ batchSizes, inputSize)`, `PackedSequence.data`. On this backend.
   */
  readonly input: Tensor;
  /** Ignored when packed. */
  readonly batchFirst: boolean;
  /**
   * A packed batch (`PackedSequence.batchSizes`, on the CPU): step t holds the first `batchSizes[t]`
   * sequences, sorted longest first, so the batch only shrinks (`batchSizes[0] = N`, every entry ≥ 1).
   * The forward computes only those rows: a sequence's state stops at its own last step, and the reverse
   * direction starts each sequence at its own end from its `h0`. Null for a rectangular batch.
   */
  readonly batchSizes: Int32Array | null;
  /** `(D·numLayers, N, P)` on this backend, or null for zeros (packed: in the sorted order). */
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
  /**
   * `(T, N, D·P)`, or `(N, T, D·P)` when `batchFirst`: directions concatenated. Packed:
   * `(Σ batchSizes, D·P)` in the input's row order.
   */
  readonly output: Tensor<'float32'>;
  /** `(D·numLayers, N, P)`, layer-major then direction (packed: each sequence's own last state). */
  readonly hN: Tensor<'float32'>;
  /** LSTM: `(D·numLayers, N, H)`; null for the other cells. */
  readonly cN: Tensor<'float32'> | null;
}

/** The gradients reaching a recurrent forward's results (PyTorch's `grad_output`s); null: none (zeros). */
export interface RnnGradOutputs {
  /** Shaped like `RnnResult.output`. */
  readonly output: Tensor | null;
  /** Shaped like `RnnResult.hN`. */
  readonly hN: Tensor | null;
  /** Shaped like `RnnResult.cN` (LSTM). */
  readonly cN: Tensor | null;
}

/** The gradients of one layer-direction's weights, shaped like `RnnDirectionWeights` (null where it has none). */
export interface RnnDirectionGrads {
  readonly weightIh: Tensor<'float32'>;
  readonly weightHh: Tensor<'float32'>;
  readonly biasIh: Tensor<'float32'> | null;
  readonly biasHh: Tensor<'float32'> | null;
  readonly weightHr: Tensor<'float32'> | null;
}

/** What `Backend.rnnBackward` returns: the gradient of every input of `RnnArgs`. */
export interface RnnGrads {
  /** Shaped like `RnnArgs.input` (batch-first or packed layout as given); null when skipped (`inputGrad: false`). */
  readonly input: Tensor<'float32'> | null;
  /** `(D·numLayers, N, P)`, the gradient of `h0` (of the zeros when h0 was null). */
  readonly h0: Tensor<'float32'>;
  /** LSTM: `(D·numLayers, N, H)`; null for the other cells. */
  readonly c0: Tensor<'float32'> | null;
  /** `layers[k][d]`, as `RnnArgs.layers`. */
  readonly layers: readonly (readonly RnnDirectionGrads[])[];
}

/** How `rnnBackward` treats what `rnnTrain` saved. */
export interface RnnBackwardOptions {
  /**
   * Keep the saved activations for another backward (the autograd graph is retained, `retainGraph`); by
   * default the backward frees them as it goes, and they serve one backward.
   */
  readonly retainSaved?: boolean;
  /**
   * Whether the input's gradient is wanted (default true). With false a backend may skip it (the first
   * layer's `dx = dgates·W_ih` GEMM) and return `input: null`; h0/c0 and the weights are computed as ever.
   */
  readonly inputGrad?: boolean;
}

/** A training forward: the result and what the backend's backward reads (opaque to the caller). */
export interface RnnTrainResult {
  readonly result: RnnResult;
  /** Saved activations (gates, states, dropout masks), owned by the backend; pass to `rnnBackward` once. */
  readonly saved: unknown;
}

/** `linear`: `y = x·Wᵀ + b` over the last dimension, one GEMM with the bias fused. */
export interface LinearArgs {
  /** `(…, K)` float32, on this backend. */
  readonly input: Tensor;
  /** `(N, K)`, on this backend (PyTorch's `Linear.weight`). */
  readonly weight: Tensor;
  /** `(N)` on this backend, or null for none. */
  readonly bias: Tensor | null;
}

/** `embedding`: rows of a table picked by int32 indices. */
export interface EmbeddingArgs {
  /** int32 indices of any shape `(…)`, on this backend. */
  readonly indices: Tensor<'int32'>;
  /** `(numEmbeddings, D)`, on this backend. */
  readonly weight: Tensor;
  /**
   * The padding row in [0, numEmbeddings), or null. The forward does not depend on it (the module zeroes
   * that row at init, as PyTorch does); it is the row a backward pass leaves without gradient.
   */
  readonly paddingIdx: number | null;
}

/** `gatherRows`: `out[i] = input[indices[i]]`, or a row of `fill` where `indices[i]` is −1. */
export interface GatherRowsArgs {
  /** `(R, F)` float32, on this backend. */
  readonly input: Tensor;
  /** `(M)` int32 on this backend, each in [−1, R) (the callers build them; not checked). */
  readonly indices: Tensor<'int32'>;
  /** The value of the rows whose index is −1. */
  readonly fill: number;
}

/** An op over the last dimension (the only one backends implement; PyTorch's `dim=-1`). */
export interface LastDimArgs {
  /** Any shape, float32, on this backend. */
  readonly input: Tensor;
  readonly dim: -1;
}

/** `dropout`: inverted dropout of every element (`Dropout` in training mode, p > 0). */
export interface ElementDropoutArgs extends DropoutSpec {
  /** Any shape, float32, on this backend; not modified. */
  readonly input: Tensor;
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
  /**
   * Optional: takes back a result of this backend whose memory nobody reads or writes again (the tensor,
   * its views and its array), so that a later result may be written there instead of allocating.
   * `RNNStream` gives back each state it replaces that it never handed out (the WASM backend then writes
   * the next step's hN and cN over it). A tensor the backend did not make this way is left as it is.
   */
  recycle?(t: Tensor): void;
  /**
   * Training forward (optional): the same numbers as `rnn`, also saving the activations the backward
   * needs (dropout masks drawn as `rnn` draws them). Modules call it when a gradient is required (a CPU
   * backend without it trains through `cpuBackend`'s; a device backend without it cannot train: the
   * module throws on backward, naming the backend).
   */
  rnnTrain?(args: RnnArgs): RnnTrainResult;
  /**
   * Backpropagation through time (optional, with `rnnTrain`): from the gradients of the results of
   * `rnnTrain(args)` (the same `args`) to the gradients of its input, states and every weight. Fused per
   * layer-direction: one GEMM per step for the recurrent gradient, whole-sequence GEMMs for the weights.
   */
  rnnBackward?(args: RnnArgs, saved: unknown, grads: RnnGradOutputs, options?: RnnBackwardOptions): RnnGrads;
  /** `(…, K)` → `(…, N)`: `input·weightᵀ + bias` (`torch.nn.functional.linear`). */
  linear(args: LinearArgs): Tensor<'float32'>;
  /**
   * `(…)` int32 → `(…, D)`: `weight[indices]` (`torch.nn.functional.embedding`). An index outside
   * [0, numEmbeddings): the CPU backends throw a RangeError naming it and its position; WebGPU cannot
   * check without a readback and writes that output row as NaN instead.
   */
  embedding(args: EmbeddingArgs): Tensor<'float32'>;
  /**
   * The backward of `linear` on the backend (optional: CPU backends use the CPU formula): from the
   * output's gradient `(…, N)` to `[input (…, K), weight (N, K), bias (N)]` (null where `needs[i]` is false
   * or there is no bias): one GEMM per operand and a column sum for the bias.
   */
  linearBackward?(args: LinearArgs, grad: Tensor, needs: readonly boolean[]): (Tensor<'float32'> | null)[];
  /**
   * The backward of `embedding` on the backend (optional, as `linearBackward`): `(numEmbeddings, D)`, each
   * row the sum of the gradient rows that picked it (none for `paddingIdx`).
   */
  embeddingBackward?(args: EmbeddingArgs, grad: Tensor): Tensor<'float32'>;
  /**
   * `(R, F)` → `(M, F)`: rows picked by index, −1 giving a row of `fill` (how `PackedSequence` data is
   * packed, unpacked and its states reordered, on the backend, without a readback).
   */
  gatherRows(args: GatherRowsArgs): Tensor<'float32'>;
  /**
   * `(…, n)` → `(…)` int32 on this backend: the index of the largest element of each last-dimension row
   * (`torch.argmax(x, -1)`): ties give the first index, a NaN counts as the largest (its first index).
   * A RangeError for n = 0.
   */
  argmax(args: LastDimArgs): Tensor<'int32'>;
  /** `softmax(x, -1)`: `exp(x − max) / Σ exp(x − max)` per row; a row holding NaN or +Inf is NaN. */
  softmax(args: LastDimArgs): Tensor<'float32'>;
  /** `log_softmax(x, -1)`: `x − max − log Σ exp(x − max)` per row (−Inf stays −Inf). */
  logSoftmax(args: LastDimArgs): Tensor<'float32'>;
  /**
   * Inverted dropout of every element, a new tensor: the mask is drawn on the CPU from `generator` in
   * PyTorch's order (one `bernoulli_(1 − p)` over the elements), kept values scaled by
   * `float32(1 / float32(1 − p))`, so a seeded run equals PyTorch's bit for bit; p = 1 multiplies by 0.
   */
  dropout(args: ElementDropoutArgs): Tensor<'float32'>;
  /**
   * `dropout` that keeps its mask on the backend for the backward (optional: CPU backends draw and apply
   * the mask on the CPU): the output, and the mask (null for p = 1) to hand to `dropoutBackward`.
   */
  dropoutTrain?(args: ElementDropoutArgs): { output: Tensor<'float32'>; mask: Tensor | null };
  /** The backward of `dropoutTrain`: `grad ⊙ mask · float32(1/(1 − p))` (p = 1: `grad · 0`). */
  dropoutBackward?(grad: Tensor, mask: Tensor | null, p: number): Tensor<'float32'>;
  /** Releases what the backend holds (workers, GPU buffers, device); later calls throw. Idempotent. */
  dispose(): void;
  /** True once `dispose()` has been called. */
  readonly disposed: boolean;
}

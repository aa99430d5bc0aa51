import type { Tensor } from '@recurrent/tensor';
import type { Nonlinearity } from './backend/types.js';
import { cellSpec, rnnMode } from './cell.js';
import { checkNonlinearity } from './options.js';
import { PackedSequence } from './packed-sequence.js';
import { RECURRENT_OPTIONS, RecurrentBase, type RecurrentOptions } from './recurrent.js';
import { RNNStream, type RNNStreamOptions } from './stream.js';

/** Options of `RNN`: `torch.nn.RNN`'s arguments in camelCase, with the same defaults. */
export interface RNNOptions extends RecurrentOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
}

/**
 * An Elman RNN with `torch.nn.RNN`'s options, parameters, initialization and numbers:
 * `h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)`.
 *
 * Parameters: `weight_ih_l{k}` `(H, Hin)` for k = 0 and `(H, D·H)` after, `weight_hh_l{k}` `(H, H)`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` `(H)`, and `…_reverse` for the second direction, all initialized
 * `U(−1/√H, 1/√H)` in PyTorch's order (so `manualSeed(s)` gives PyTorch's weights for `torch.manual_seed(s)`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.RNN.html | torch.nn.RNN}
 */
export class RNN extends RecurrentBase {
  readonly nonlinearity: Nonlinearity;

  constructor(options: RNNOptions) {
    const nonlinearity = checkNonlinearity('RNN', options?.nonlinearity);
    super('RNN', options, [...RECURRENT_OPTIONS, 'nonlinearity'], (H) => cellSpec(rnnMode(nonlinearity), H));
    this.nonlinearity = nonlinearity;
    this.initParameters();
  }

  /**
   * Runs the RNN over a whole sequence.
   *
   * @param input `(L, N, inputSize)`, `(N, L, inputSize)` with `batchFirst`, or unbatched `(L, inputSize)`.
   *              A CPU tensor or one already on the module's backend.
   * @param h0    `(D·numLayers, N, hiddenSize)` (unbatched: `(D·numLayers, hiddenSize)`); zeros if omitted.
   * @returns `[output, hN]`: output `(L, N, D·hiddenSize)` (`(N, L, …)` with `batchFirst`, `(L, …)` unbatched),
   *          both directions concatenated on the last dim; hN shaped like h0, layer-major then direction.
   *          Both live on the module's backend.
   */
  forward(input: Tensor, h0?: Tensor | null): [output: Tensor<'float32'>, hN: Tensor<'float32'>];
  /**
   * Runs the RNN over a batch of sequences of different lengths, computing only their real steps.
   *
   * @param input a `PackedSequence` (`packPaddedSequence`, `packSequence`) of `inputSize` features.
   * @param h0    `(D·numLayers, N, hiddenSize)` in the caller's batch order; zeros if omitted.
   * @returns `[output, hN]`: output a `PackedSequence` of `D·hiddenSize` features (`padPackedSequence`
   *          unpacks it), hN each sequence's state after its own last step, in the caller's batch order.
   */
  forward(input: PackedSequence, h0?: Tensor | null): [output: PackedSequence, hN: Tensor<'float32'>];
  forward(
    input: Tensor | PackedSequence,
    h0?: Tensor | null,
  ): [output: Tensor<'float32'> | PackedSequence, hN: Tensor<'float32'>] {
    const state = { h: h0 ?? null, c: null };
    const { output, hN } =
      input instanceof PackedSequence ? this.runPacked(input, state) : this.run(input, state);
    return [output, hN];
  }

  /**
   * A stream over this RNN for input that arrives in chunks: `step(chunk)` continues from the state the
   * previous chunk left (kept on the module's backend, never read back), so consecutive chunks give the
   * outputs of one `forward` over their concatenation. See `RNNStream`.
   *
   * @param options `batch`: the N of every chunk `(L, N, inputSize)` (`(N, L, inputSize)` with `batchFirst`),
   *                or null for unbatched chunks `(L, inputSize)`; `h0`: the starting state (zeros if omitted).
   * @throws for a bidirectional RNN, whose reverse direction needs the whole sequence.
   * @example
   * const stream = rnn.eval().stream({ batch: 1 });
   * for await (const chunk of source) render(stream.step(chunk));
   */
  stream(options: RNNStreamOptions<Tensor>): RNNStream<Tensor> {
    return new RNNStream(this, options);
  }
}

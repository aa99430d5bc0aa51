import type { Tensor } from '@recurrent/tensor';
import { cellSpec } from './cell.js';
import { PackedSequence } from './packed-sequence.js';
import { RECURRENT_OPTIONS, RecurrentBase, type RecurrentOptions } from './recurrent.js';
import { RNNStream, type RNNStreamOptions } from './stream.js';

/** Options of `GRU`: `torch.nn.GRU`'s arguments in camelCase, with the same defaults. */
export type GRUOptions = RecurrentOptions;

/**
 * A gated recurrent unit with `torch.nn.GRU`'s options, parameters, initialization and numbers:
 *
 * ```
 * r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)        z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
 * n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn))   h' = (1 − z) ⊙ n + z ⊙ h
 * ```
 *
 * Parameters as PyTorch's: `weight_ih_l{k}` `(3H, Hin)` (k = 0) or `(3H, D·H)`, `weight_hh_l{k}` `(3H, H)`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` `(3H)`, gate blocks in the order r, z, n, and `…_reverse`; all
 * `U(−1/√H, 1/√H)` in PyTorch's order.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.GRU.html | torch.nn.GRU}
 */
export class GRU extends RecurrentBase {
  constructor(options: GRUOptions) {
    const projSize = (options as { projSize?: unknown } | undefined)?.projSize;
    if (projSize !== undefined) {
      throw new TypeError(
        `GRU: projSize is only supported by LSTM (torch.nn.LSTM's proj_size), received projSize ${JSON.stringify(projSize)}`,
      );
    }
    super('GRU', options, RECURRENT_OPTIONS, (H) => cellSpec('GRU', H));
    this.initParameters();
  }

  /**
   * Runs the GRU over a whole sequence.
   *
   * @param input `(L, N, inputSize)`, `(N, L, inputSize)` with `batchFirst`, or unbatched `(L, inputSize)`.
   * @param h0    `(D·numLayers, N, hiddenSize)` (unbatched: `(D·numLayers, hiddenSize)`); zeros if omitted.
   * @returns `[output, hN]`: output `(L, N, D·hiddenSize)` (`(N, L, …)` with `batchFirst`), hN shaped like h0.
   *          Both live on the module's backend.
   */
  forward(input: Tensor, h0?: Tensor | null): [output: Tensor<'float32'>, hN: Tensor<'float32'>];
  /**
   * Runs the GRU over a batch of sequences of different lengths, computing only their real steps.
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

  /** A stream over this GRU for input that arrives in chunks; see `RNN.stream` and `RNNStream`. */
  stream(options: RNNStreamOptions<Tensor>): RNNStream<Tensor> {
    return new RNNStream(this, options);
  }
}

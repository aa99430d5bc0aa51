import type { Tensor } from '@recurrent/tensor';
import { cellSpec } from './cell.js';
import { checkInteger } from './options.js';
import { PackedSequence } from './packed-sequence.js';
import { describeValue, RECURRENT_OPTIONS, RecurrentBase, type RecurrentOptions } from './recurrent.js';
import { RNNStream, type RNNStreamOptions } from './stream.js';

/** Options of `LSTM`: `torch.nn.LSTM`'s arguments in camelCase, with the same defaults. */
export interface LSTMOptions extends RecurrentOptions {
  /**
   * Project `h` to this many features with `weight_hr_l{k}` `(projSize, hiddenSize)` (PyTorch's
   * `proj_size`): `h` and the output then have `projSize` features, `c` keeps `hiddenSize`.
   * 0 (default) for none; must be smaller than `hiddenSize`.
   */
  projSize?: number;
}

/** The state of an LSTM: `[h, c]`. */
export type LSTMState = [h: Tensor, c: Tensor];

/**
 * A long short-term memory network with `torch.nn.LSTM`'s options, parameters, initialization and numbers:
 *
 * ```
 * i = σ(x W_iiᵀ + b_ii + h W_hiᵀ + b_hi)   f = σ(x W_ifᵀ + b_if + h W_hfᵀ + b_hf)
 * g = tanh(x W_igᵀ + b_ig + h W_hgᵀ + b_hg) o = σ(x W_ioᵀ + b_io + h W_hoᵀ + b_ho)
 * c' = f ⊙ c + i ⊙ g                       h' = o ⊙ tanh(c')   (then h' W_hrᵀ with projSize)
 * ```
 *
 * Parameters as PyTorch's: `weight_ih_l{k}` `(4H, Hin)` (k = 0) or `(4H, D·P)`, `weight_hh_l{k}` `(4H, P)`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` `(4H)`, `weight_hr_l{k}` `(P, H)` with projSize (P = projSize || H), gate
 * blocks in the order i, f, g, o, and `…_reverse`; all `U(−1/√H, 1/√H)` in PyTorch's order.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.LSTM.html | torch.nn.LSTM}
 */
export class LSTM extends RecurrentBase {
  /** PyTorch's `proj_size`: 0 for none. */
  readonly projSize: number;

  constructor(options: LSTMOptions) {
    const projSize = checkInteger('LSTM', 'projSize', options?.projSize ?? 0, 0);
    const hiddenSize = options?.hiddenSize;
    if (projSize > 0 && typeof hiddenSize === 'number' && projSize >= hiddenSize) {
      throw new RangeError(
        `LSTM: projSize must be smaller than hiddenSize (${hiddenSize}), received projSize ${projSize}`,
      );
    }
    super('LSTM', options, [...RECURRENT_OPTIONS, 'projSize'], (H) => cellSpec('LSTM', H, projSize));
    this.projSize = projSize;
    this.initParameters();
  }

  /**
   * Runs the LSTM over a whole sequence.
   *
   * @param input `(L, N, inputSize)`, `(N, L, inputSize)` with `batchFirst`, or unbatched `(L, inputSize)`.
   * @param state `[h0, c0]`: h0 `(D·numLayers, N, P)` and c0 `(D·numLayers, N, hiddenSize)`, P = projSize ||
   *              hiddenSize (unbatched: without N); zeros if omitted.
   * @returns `[output, [hN, cN]]`: output `(L, N, D·P)` (`(N, L, …)` with `batchFirst`), hN and cN shaped
   *          like h0 and c0. All live on the module's backend.
   */
  forward(
    input: Tensor,
    state?: LSTMState | null,
  ): [output: Tensor<'float32'>, state: [h: Tensor<'float32'>, c: Tensor<'float32'>]];
  /**
   * Runs the LSTM over a batch of sequences of different lengths, computing only their real steps.
   *
   * @param input a `PackedSequence` (`packPaddedSequence`, `packSequence`) of `inputSize` features.
   * @param state `[h0, c0]` in the caller's batch order, shaped as for a tensor input; zeros if omitted.
   * @returns `[output, [hN, cN]]`: output a `PackedSequence` of `D·P` features (`padPackedSequence` unpacks
   *          it), hN and cN each sequence's state after its own last step, in the caller's batch order.
   */
  forward(
    input: PackedSequence,
    state?: LSTMState | null,
  ): [output: PackedSequence, state: [h: Tensor<'float32'>, c: Tensor<'float32'>]];
  forward(
    input: Tensor | PackedSequence,
    state?: LSTMState | null,
  ): [output: Tensor<'float32'> | PackedSequence, state: [h: Tensor<'float32'>, c: Tensor<'float32'>]] {
    const [h, c] = this.#checkPair(state);
    const { output, hN, cN } =
      input instanceof PackedSequence ? this.runPacked(input, { h, c }) : this.run(input, { h, c });
    return [output, [hN, cN as Tensor<'float32'>]];
  }

  /**
   * A stream over this LSTM for input that arrives in chunks; the state is `[h, c]`. See `RNNStream`.
   * @example
   * const stream = lstm.eval().stream({ batch: 1 });
   * for await (const chunk of source) render(stream.step(chunk));
   */
  stream(options: RNNStreamOptions<LSTMState>): RNNStream<LSTMState> {
    return new RNNStream(this, options);
  }

  #checkPair(state: LSTMState | null | undefined): [Tensor | null, Tensor | null] {
    if (state === undefined || state === null) return [null, null];
    if (!Array.isArray(state) || state.length !== 2) {
      throw new TypeError(
        `LSTM: expected the state as [h0, c0] (a pair of tensors, like PyTorch's (h_0, c_0) tuple), received ${describeValue(state)}`,
      );
    }
    return state;
  }
}

import type { Tensor } from '@recurrent/tensor';
import { cellSpec } from './cell.js';
import type { LSTMState } from './lstm.js';
import { describeValue } from './recurrent.js';
import { CELL_OPTIONS, RecurrentCellBase, type RecurrentCellOptions } from './recurrent-cell.js';

/** Options of `LSTMCell`: `torch.nn.LSTMCell`'s arguments in camelCase. */
export type LSTMCellOptions = RecurrentCellOptions;

/**
 * One step of an LSTM, like `torch.nn.LSTMCell` (the equations of `LSTM`, without projection). Parameters
 * `weight_ih (4H, Hin)`, `weight_hh (4H, H)`, `bias_ih`, `bias_hh (4H)`, gate blocks i, f, g, o, init
 * `U(−1/√H, 1/√H)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.LSTMCell.html | torch.nn.LSTMCell}
 */
export class LSTMCell extends RecurrentCellBase {
  constructor(options: LSTMCellOptions) {
    super(options, CELL_OPTIONS, (H) => cellSpec('LSTM', H));
  }

  /**
   * One step.
   * @param input `(N, inputSize)` or unbatched `(inputSize)`.
   * @param state `[hx, cx]`, each `(N, hiddenSize)` or unbatched `(hiddenSize)`; zeros if omitted.
   * @returns `[h', c']` shaped like the state, on the module's backend.
   */
  forward(input: Tensor, state?: LSTMState | null): [h: Tensor<'float32'>, c: Tensor<'float32'>] {
    if (state !== undefined && state !== null && (!Array.isArray(state) || state.length !== 2)) {
      throw new TypeError(
        `LSTMCell: expected the state as [hx, cx] (a pair of tensors, like PyTorch's (h_0, c_0) tuple), received ${describeValue(state)}`,
      );
    }
    const [h, c] = this.step(input, state?.[0] ?? null, state?.[1] ?? null);
    return [h, c as Tensor<'float32'>];
  }
}

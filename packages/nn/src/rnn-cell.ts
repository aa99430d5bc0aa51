import type { Tensor } from '@recurrent/tensor';
import type { Nonlinearity } from './backend/types.js';
import { cellSpec, rnnMode } from './cell.js';
import { checkNonlinearity } from './options.js';
import { CELL_OPTIONS, RecurrentCellBase, type RecurrentCellOptions } from './recurrent-cell.js';

/** Options of `RNNCell`: `torch.nn.RNNCell`'s arguments in camelCase. */
export interface RNNCellOptions extends RecurrentCellOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
}

/**
 * One step of an Elman RNN, like `torch.nn.RNNCell`: `h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`.
 * Parameters `weight_ih (H, Hin)`, `weight_hh (H, H)`, `bias_ih`, `bias_hh (H)`, init `U(−1/√H, 1/√H)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.RNNCell.html | torch.nn.RNNCell}
 */
export class RNNCell extends RecurrentCellBase {
  readonly nonlinearity: Nonlinearity;

  constructor(options: RNNCellOptions) {
    const nonlinearity = checkNonlinearity('RNNCell', options?.nonlinearity);
    super(options, [...CELL_OPTIONS, 'nonlinearity'], (H) => cellSpec(rnnMode(nonlinearity), H));
    this.nonlinearity = nonlinearity;
  }

  /**
   * One step.
   * @param input `(N, inputSize)` or unbatched `(inputSize)`.
   * @param hx    `(N, hiddenSize)` or unbatched `(hiddenSize)`; zeros if omitted.
   * @returns h' with hx's shape, on the module's backend.
   */
  forward(input: Tensor, hx?: Tensor | null): Tensor<'float32'> {
    return this.step(input, hx ?? null, null)[0];
  }
}

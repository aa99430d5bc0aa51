import type { Tensor } from '@recurrent/tensor';
import { cellSpec } from './cell.js';
import { CELL_OPTIONS, RecurrentCellBase, type RecurrentCellOptions } from './recurrent-cell.js';

/** Options of `GRUCell`: `torch.nn.GRUCell`'s arguments in camelCase. */
export type GRUCellOptions = RecurrentCellOptions;

/**
 * One step of a GRU, like `torch.nn.GRUCell` (the equations of `GRU`). Parameters `weight_ih (3H, Hin)`,
 * `weight_hh (3H, H)`, `bias_ih`, `bias_hh (3H)`, gate blocks r, z, n, init `U(−1/√H, 1/√H)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.GRUCell.html | torch.nn.GRUCell}
 */
export class GRUCell extends RecurrentCellBase {
  constructor(options: GRUCellOptions) {
    super(options, CELL_OPTIONS, (H) => cellSpec('GRU', H));
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

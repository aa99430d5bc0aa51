import { add, cat, relu, select, stack, type Tensor, tanh, unsqueeze } from '@recurrent/tensor';
import { dropLayerAxis, fromHidden, fromInput, reverseInTime, splitGates } from './step-helpers.js';

/** The activation of an Elman RNN: PyTorch's `nonlinearity` option. */
export type Nonlinearity = 'tanh' | 'relu';

/**
 * One RNN layer in one direction, written the way the notebook wrote `rnn_forward`:
 * at each time step `t`,
 *
 *     h_t = tanh(W_ih · x_t + b_ih + W_hh · h_{t−1} + b_hh)
 *
 * computed with batched matrix products (`bmm`) over weights tiled across the batch.
 * It is written to be read, not to be fast.
 *
 * @param input    `(bs, T, inputSize)` — batch first.
 * @param weightIh `(hiddenSize, inputSize)` — PyTorch's `weight_ih_l0`.
 * @param weightHh `(hiddenSize, hiddenSize)` — PyTorch's `weight_hh_l0`.
 * @param biasIh   `(hiddenSize)` or `null` when the RNN has no bias.
 * @param biasHh   `(hiddenSize)` or `null`.
 * @param hPrev    `(bs, hiddenSize)` or `(1, bs, hiddenSize)` — the state before the first step.
 * @returns `[hOut (bs, T, hiddenSize), hLast (1, bs, hiddenSize)]`.
 */
export function rnnForward(
  input: Tensor,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
  hPrev: Tensor,
  nonlinearity: Nonlinearity = 'tanh',
): [hOut: Tensor, hLast: Tensor] {
  const [bs, T] = input.shape as [number, number, number];
  const activation = nonlinearity === 'relu' ? relu : tanh;

  // One gate: each weight matrix copied once per batch element, (H, I) → (bs, H, I), so bmm can multiply
  // every sequence of the batch by the same matrix in one call.
  const { hidden } = splitGates(['hidden'], bs, weightIh, weightHh, biasIh, biasHh);

  let h = dropLayerAxis(hPrev); // (bs, H)
  const outputs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const x = select(input, 1, t); // (bs, I): the inputs at step t
    h = activation(add(fromInput(hidden, x), fromHidden(hidden, h))); // W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh
    outputs.push(h);
  }
  // Stack the T states along the time axis: (bs, T, H). The last state is h_n.
  return [stack(outputs, 1), unsqueeze(h, 0)];
}

/**
 * The same layer read backwards in time, as PyTorch's reverse direction does: `rnnForward` on the flipped
 * sequence, its outputs flipped back so `hOut[:, t]` lines up with `input[:, t]`. Shapes as in `rnnForward`.
 */
export const rnnForwardReversed: typeof rnnForward = reverseInTime(rnnForward);

/** Concatenates the two directions' outputs on the feature axis: `(bs, T, H) ×2 → (bs, T, 2H)`. */
export function concatDirections(forward: Tensor, reverse: Tensor): Tensor {
  return cat([forward, reverse], 2);
}

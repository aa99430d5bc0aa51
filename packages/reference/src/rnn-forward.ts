import {
  add,
  bmm,
  cat,
  flip,
  relu,
  select,
  squeeze,
  stack,
  type Tensor,
  tanh,
  tile,
  unsqueeze,
} from '@recurrent/tensor';

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

  // Copy each weight matrix once per batch element: (H, I) → (bs, H, I), so bmm can
  // multiply every sequence of the batch by the same matrix in one call.
  const weightIhBatch = tile(unsqueeze(weightIh, 0), [bs, 1, 1]);
  const weightHhBatch = tile(unsqueeze(weightHh, 0), [bs, 1, 1]);

  let h = hPrev.ndim === 3 ? select(hPrev, 0, 0) : hPrev; // (bs, H)
  const outputs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const xT = unsqueeze(select(input, 1, t), 2); // (bs, I, 1): the inputs at step t as column vectors
    const wIhTimesX = squeeze(bmm(weightIhBatch, xT), 2); // (bs, H)
    const wHhTimesH = squeeze(bmm(weightHhBatch, unsqueeze(h, 2)), 2); // (bs, H)
    let preActivation = add(wIhTimesX, wHhTimesH);
    if (biasIh) preActivation = add(preActivation, biasIh); // (H) broadcasts over the batch
    if (biasHh) preActivation = add(preActivation, biasHh);
    h = activation(preActivation);
    outputs.push(h);
  }
  // Stack the T states along the time axis: (bs, T, H). The last state is h_n.
  return [stack(outputs, 1), unsqueeze(h, 0)];
}

/**
 * The same layer read backwards in time, as PyTorch's reverse direction does: flip the sequence,
 * run `rnnForward`, flip the outputs back so `hOut[:, t]` lines up with `input[:, t]`.
 * Shapes as in `rnnForward`.
 */
export function rnnForwardReversed(
  input: Tensor,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
  hPrev: Tensor,
  nonlinearity: Nonlinearity = 'tanh',
): [hOut: Tensor, hLast: Tensor] {
  const [hOut, hLast] = rnnForward(flip(input, [1]), weightIh, weightHh, biasIh, biasHh, hPrev, nonlinearity);
  return [flip(hOut, [1]), hLast];
}

/** Concatenates the two directions' outputs on the feature axis: `(bs, T, H) ×2 → (bs, T, 2H)`. */
export function concatDirections(forward: Tensor, reverse: Tensor): Tensor {
  return cat([forward, reverse], 2);
}

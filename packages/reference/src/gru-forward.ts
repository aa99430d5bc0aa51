import { add, mul, select, sigmoid, stack, sub, type Tensor, tanh, unsqueeze } from '@recurrent/tensor';
import { dropLayerAxis, fromHidden, fromInput, reverseInTime, splitGates } from './step-helpers.js';

/**
 * One GRU layer in one direction, written like `rnnForward`: at each time step `t`, with PyTorch's gates
 * (σ the logistic sigmoid, ⊙ the elementwise product)
 *
 *     r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)               reset gate
 *     z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)               update gate
 *     n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))    new gate
 *     h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
 *
 * computed with `bmm` over weights tiled across the batch. Written to be read, not to be fast.
 * Below H is hiddenSize.
 *
 * @param input    `(bs, T, inputSize)` — batch first.
 * @param weightIh `(3H, inputSize)` — PyTorch's `weight_ih_l0`: the rows of W_ir, W_iz, W_in stacked.
 * @param weightHh `(3H, H)` — PyTorch's `weight_hh_l0`: W_hr, W_hz, W_hn stacked.
 * @param biasIh   `(3H)` (b_ir, b_iz, b_in) or `null` when the GRU has no bias.
 * @param biasHh   `(3H)` (b_hr, b_hz, b_hn) or `null`.
 * @param hPrev    `(bs, H)` or `(1, bs, H)` — the state before the first step.
 * @returns `[hOut (bs, T, H), hLast (1, bs, H)]`.
 */
export function gruForward(
  input: Tensor,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
  hPrev: Tensor,
): [hOut: Tensor, hLast: Tensor] {
  const [bs, T] = input.shape as [number, number, number];

  // PyTorch stacks the three gates' rows in one matrix, in the order r, z, n.
  const gate = splitGates(['reset', 'update', 'new'], bs, weightIh, weightHh, biasIh, biasHh);

  let h = dropLayerAxis(hPrev); // (bs, H)
  const outputs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const x = select(input, 1, t); // (bs, I): the inputs at step t
    const r = sigmoid(add(fromInput(gate.reset, x), fromHidden(gate.reset, h)));
    const z = sigmoid(add(fromInput(gate.update, x), fromHidden(gate.update, h)));
    // r scales the whole hidden part, b_hn included (PyTorch's and cuDNN's GRU; the original paper differs)
    const n = tanh(add(fromInput(gate.new, x), mul(r, fromHidden(gate.new, h))));
    h = add(mul(sub(1, z), n), mul(z, h)); // (bs, H)
    outputs.push(h);
  }
  // Stack the T states along the time axis: (bs, T, H). The last state is h_n.
  return [stack(outputs, 1), unsqueeze(h, 0)];
}

/**
 * The same layer read backwards in time, as PyTorch's reverse direction does: `gruForward` on the flipped
 * sequence, its outputs flipped back so `hOut[:, t]` lines up with `input[:, t]`. Shapes as in `gruForward`.
 */
export const gruForwardReversed: typeof gruForward = reverseInTime(gruForward);

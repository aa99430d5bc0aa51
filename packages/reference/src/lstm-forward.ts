import { add, mul, select, sigmoid, stack, type Tensor, tanh, unsqueeze } from '@recurrent/tensor';
import {
  affine,
  dropLayerAxis,
  fromHidden,
  fromInput,
  reverseInTime,
  splitGates,
  tileOverBatch,
} from './step-helpers.js';

/**
 * One LSTM layer in one direction, written like `rnnForward`: at each time step `t`, with PyTorch's gates
 * (σ the logistic sigmoid, ⊙ the elementwise product)
 *
 *     i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)        input gate
 *     f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)        forget gate
 *     g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)     cell gate
 *     o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)        output gate
 *     c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
 *     h_t = o_t ⊙ tanh(c_t)                  and with a projection (projSize P > 0): h_t = W_hr h_t
 *
 * computed with `bmm` over weights tiled across the batch. Written to be read, not to be fast.
 * Below H is hiddenSize and P is projSize, or H without a projection.
 *
 * @param input    `(bs, T, inputSize)` — batch first.
 * @param weightIh `(4H, inputSize)` — PyTorch's `weight_ih_l0`: the rows of W_ii, W_if, W_ig, W_io stacked.
 * @param weightHh `(4H, P)` — PyTorch's `weight_hh_l0`: W_hi, W_hf, W_hg, W_ho stacked.
 * @param biasIh   `(4H)` (b_ii, b_if, b_ig, b_io) or `null` when the LSTM has no bias.
 * @param biasHh   `(4H)` (b_hi, b_hf, b_hg, b_ho) or `null`.
 * @param state    `[hPrev, cPrev]`: `(bs, P)` and `(bs, H)`, or each with a leading 1 — the state before step 0.
 * @param weightHr `(P, H)` — PyTorch's `weight_hr_l0` when the LSTM has `projSize > 0`; `null` (default) without.
 * @returns `[hOut (bs, T, P), [hLast (1, bs, P), cLast (1, bs, H)]]`.
 */
export function lstmForward(
  input: Tensor,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
  state: readonly [hPrev: Tensor, cPrev: Tensor],
  weightHr: Tensor | null = null,
): [hOut: Tensor, state: [hLast: Tensor, cLast: Tensor]] {
  const [bs, T] = input.shape as [number, number, number];

  // PyTorch stacks the four gates' rows in one matrix, in the order i, f, g, o.
  const gate = splitGates(['input', 'forget', 'cell', 'output'], bs, weightIh, weightHh, biasIh, biasHh);
  const weightHrBatch = weightHr && tileOverBatch(weightHr, bs);

  const [hPrev, cPrev] = state;
  let h = dropLayerAxis(hPrev); // (bs, P)
  let c = dropLayerAxis(cPrev); // (bs, H)
  const outputs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const x = select(input, 1, t); // (bs, I): the inputs at step t
    const i = sigmoid(add(fromInput(gate.input, x), fromHidden(gate.input, h)));
    const f = sigmoid(add(fromInput(gate.forget, x), fromHidden(gate.forget, h)));
    const g = tanh(add(fromInput(gate.cell, x), fromHidden(gate.cell, h)));
    const o = sigmoid(add(fromInput(gate.output, x), fromHidden(gate.output, h)));
    c = add(mul(f, c), mul(i, g)); // (bs, H)
    h = mul(o, tanh(c)); // (bs, H)
    if (weightHrBatch) h = affine(weightHrBatch, h, null); // the projection (no bias): (bs, P)
    outputs.push(h);
  }
  // Stack the T outputs along the time axis: (bs, T, P). The last h and c are h_n and c_n.
  return [stack(outputs, 1), [unsqueeze(h, 0), unsqueeze(c, 0)]];
}

/**
 * The same layer read backwards in time, as PyTorch's reverse direction does: `lstmForward` on the flipped
 * sequence, its outputs flipped back so `hOut[:, t]` lines up with `input[:, t]`. Shapes as in `lstmForward`.
 */
export const lstmForwardReversed: typeof lstmForward = reverseInTime(lstmForward);

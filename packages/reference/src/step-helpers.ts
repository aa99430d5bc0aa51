import { add, bmm, flip, narrow, select, squeeze, type Tensor, tile, unsqueeze } from '@recurrent/tensor';

/** One gate's rows of the stacked weights, each matrix tiled over the batch for `bmm`. */
export interface Gate {
  weightIh: Tensor; // (bs, H, I)
  weightHh: Tensor; // (bs, H, P)
  biasIh: Tensor | null; // (H)
  biasHh: Tensor | null; // (H)
}

/** Copies a matrix once per batch element: (R, C) → (bs, R, C), so one `bmm` multiplies every sequence by it. */
export function tileOverBatch(weight: Tensor, bs: number): Tensor {
  return tile(unsqueeze(weight, 0), [bs, 1, 1]);
}

/** `W · v + b` for each batch element: (bs, R, C), (bs, C) and (R) or null → (bs, R). */
export function affine(weightBatch: Tensor, v: Tensor, bias: Tensor | null): Tensor {
  const product = squeeze(bmm(weightBatch, unsqueeze(v, 2)), 2); // the rows of v as column vectors
  return bias ? add(product, bias) : product; // (R) broadcasts over the batch
}

/**
 * Splits PyTorch's stacked weights into the named gates, in PyTorch's order (LSTM i, f, g, o; GRU r, z, n; RNN
 * one gate): the k-th name owns rows kH … kH+H−1 of weight_ih, weight_hh, bias_ih and bias_hh (H = rows / count).
 */
export function splitGates<const Name extends string>(
  names: readonly Name[],
  bs: number,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
): Record<Name, Gate> {
  const H = (weightHh.shape[0] as number) / names.length;
  const gate = (k: number): Gate => ({
    weightIh: tileOverBatch(narrow(weightIh, 0, k * H, H), bs),
    weightHh: tileOverBatch(narrow(weightHh, 0, k * H, H), bs),
    biasIh: biasIh && narrow(biasIh, 0, k * H, H),
    biasHh: biasHh && narrow(biasHh, 0, k * H, H),
  });
  return Object.fromEntries(names.map((name, k) => [name, gate(k)])) as Record<Name, Gate>;
}

/** A gate's input part `W_i· x + b_i·`: (bs, H). */
export function fromInput(gate: Gate, x: Tensor): Tensor {
  return affine(gate.weightIh, x, gate.biasIh);
}

/** A gate's hidden part `W_h· h + b_h·`: (bs, H). */
export function fromHidden(gate: Gate, h: Tensor): Tensor {
  return affine(gate.weightHh, h, gate.biasHh);
}

/** A state given as `(bs, ·)` or `(1, bs, ·)`, as `(bs, ·)`. */
export function dropLayerAxis(state: Tensor): Tensor {
  return state.ndim === 3 ? select(state, 0, 0) : state;
}

/**
 * The same layer read backwards in time, as PyTorch's reverse direction does: flip the sequence, run `forward`,
 * flip the outputs back so `hOut[:, t]` lines up with `input[:, t]`. The last states are returned as they are.
 */
export function reverseInTime<Rest extends unknown[], Last>(
  forward: (input: Tensor, ...rest: Rest) => [hOut: Tensor, last: Last],
): (input: Tensor, ...rest: Rest) => [hOut: Tensor, last: Last] {
  return (input, ...rest) => {
    const [hOut, last] = forward(flip(input, [1]), ...rest);
    return [flip(hOut, [1]), last];
  };
}

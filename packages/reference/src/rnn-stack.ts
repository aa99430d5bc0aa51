import {
  cat,
  formatShape,
  select,
  squeeze,
  type Tensor,
  transpose,
  unsqueeze,
  zeros,
} from '@recurrent/tensor';
import { concatDirections, type Nonlinearity, rnnForward, rnnForwardReversed } from './rnn-forward.js';

/** The configuration of a (possibly deep, possibly bidirectional) RNN, as `torch.nn.RNN` takes it. */
export interface ReferenceConfig {
  numLayers?: number;
  bidirectional?: boolean;
  nonlinearity?: Nonlinearity;
  batchFirst?: boolean;
}

/**
 * What `torch.nn.RNN` computes in eval mode, built from `rnnForward` one layer and direction at a time.
 * Layer k reads the output of layer k−1 (both directions concatenated) — not the raw input, which is
 * what PyTorch's own docstring loop mistakenly shows (pytorch#129446).
 *
 * @param input  `(T, N, Hin)`, or `(N, T, Hin)` with `batchFirst`, or unbatched `(T, Hin)`.
 * @param params PyTorch state-dict entries: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`
 *               and the `_reverse` ones (biases may be absent when the RNN has `bias=False`).
 * @param h0     `(D·numLayers, N, H)` (or `(D·numLayers, H)` unbatched); zeros when omitted.
 * @returns `[output, hN]` with PyTorch's shapes.
 */
export function rnnReference(
  input: Tensor,
  params: Readonly<Record<string, Tensor>>,
  config: ReferenceConfig = {},
  h0?: Tensor,
): [output: Tensor, hN: Tensor] {
  const { numLayers = 1, bidirectional = false, nonlinearity = 'tanh', batchFirst = false } = config;
  const unbatched = input.ndim === 2;
  // Work batch first: (N, T, Hin).
  let x = unbatched ? unsqueeze(input, 0) : batchFirst ? input : transpose(input, 0, 1);
  const batch = x.shape[0] as number;
  const param = (name: string): Tensor => {
    const p = params[name];
    if (!p) throw new Error(`rnnReference: missing parameter '${name}'`);
    return p;
  };
  const hiddenSize = param('weight_hh_l0').shape[0] as number;
  const directions = bidirectional ? 2 : 1;
  let hInit = h0 ?? zeros([directions * numLayers, batch, hiddenSize]);
  if (unbatched && h0) hInit = unsqueeze(h0, 1);
  if (hInit.shape[0] !== directions * numLayers) {
    throw new Error(
      `rnnReference: h0 must have ${directions * numLayers} layers, received ${formatShape(hInit.shape)}`,
    );
  }

  const lastStates: Tensor[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    const run = (suffix: string, direction: number): [Tensor, Tensor] => {
      const step = direction === 0 ? rnnForward : rnnForwardReversed;
      return step(
        x,
        param(`weight_ih_l${layer}${suffix}`),
        param(`weight_hh_l${layer}${suffix}`),
        params[`bias_ih_l${layer}${suffix}`] ?? null,
        params[`bias_hh_l${layer}${suffix}`] ?? null,
        select(hInit, 0, layer * directions + direction),
        nonlinearity,
      );
    };
    const [forwardOut, forwardLast] = run('', 0);
    lastStates.push(forwardLast);
    if (bidirectional) {
      const [reverseOut, reverseLast] = run('_reverse', 1);
      lastStates.push(reverseLast);
      x = concatDirections(forwardOut, reverseOut);
    } else {
      x = forwardOut;
    }
  }
  const hN = cat(lastStates, 0); // (D·numLayers, N, H): layer-major, then direction
  if (unbatched) return [squeeze(x, 0), squeeze(hN, 1)];
  return [batchFirst ? x : transpose(x, 0, 1), hN];
}

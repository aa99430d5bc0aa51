import type { Tensor } from '@recurrent/tensor';
import { parameterLookup, type StackConfig, stackLayers } from './layer-stack.js';
import { type Nonlinearity, rnnForward, rnnForwardReversed } from './rnn-forward.js';

/** The configuration of a (possibly deep, possibly bidirectional) RNN, as `torch.nn.RNN` takes it. */
export interface ReferenceConfig extends StackConfig {
  nonlinearity?: Nonlinearity;
}

/**
 * What `torch.nn.RNN` computes in eval mode, built from `rnnForward` one layer and direction at a time.
 * Layer k reads the output of layer k−1 (both directions concatenated), as `stackLayers` says.
 *
 * @param input  `(T, N, Hin)`, or `(N, T, Hin)` with `batchFirst`, or unbatched `(T, Hin)`.
 * @param params PyTorch state-dict entries: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`
 *               and the `_reverse` ones (biases may be absent when the RNN has `bias=False`).
 * @param h0     `(D·numLayers, N, H)` (or `(D·numLayers, H)` unbatched); zeros when omitted.
 * @returns `[output, hN]` with PyTorch's shapes.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.RNN.html | torch.nn.RNN}
 */
export function rnnReference(
  input: Tensor,
  params: Readonly<Record<string, Tensor>>,
  config: ReferenceConfig = {},
  h0?: Tensor,
): [output: Tensor, hN: Tensor] {
  const param = parameterLookup('rnnReference', params);
  const hiddenSize = param('weight_hh_l0').shape[0] as number;
  const [output, [hN]] = stackLayers(
    'rnnReference',
    input,
    params,
    config,
    { names: ['h0'], widths: [hiddenSize], given: h0 && [h0] },
    (x, w, reverse, [h]) => {
      const step = reverse ? rnnForwardReversed : rnnForward;
      const [out, hLast] = step(
        x,
        w.weightIh,
        w.weightHh,
        w.biasIh,
        w.biasHh,
        h as Tensor,
        config.nonlinearity,
      );
      return [out, [hLast]];
    },
  );
  return [output, hN as Tensor];
}

import type { Tensor } from '@recurrent/tensor';
import { gruForward, gruForwardReversed } from './gru-forward.js';
import { parameterLookup, type StackConfig, stackLayers } from './layer-stack.js';
import { lstmForward, lstmForwardReversed } from './lstm-forward.js';

/** The configuration of a (possibly deep, possibly bidirectional) GRU, as `torch.nn.GRU` takes it. */
export interface GruReferenceConfig extends StackConfig {}

/** The configuration of an LSTM, as `torch.nn.LSTM` takes it. */
export interface LstmReferenceConfig extends GruReferenceConfig {
  /** Size of the projected h (PyTorch's `proj_size`); 0: none. Default: the rows of `weight_hr_l0`, or 0. */
  projSize?: number;
}

/**
 * What `torch.nn.LSTM` computes in eval mode, built from `lstmForward` one layer and direction at a time.
 *
 * @param input  `(T, N, Hin)`, or `(N, T, Hin)` with `batchFirst`, or unbatched `(T, Hin)`.
 * @param params PyTorch state-dict entries: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`,
 *               `weight_hr_l{k}` with `projSize`, and the `_reverse` ones (no biases when `bias=False`).
 * @param state  `[h0, c0]`: `(D·numLayers, N, P)` and `(D·numLayers, N, H)` (no N unbatched), P being projSize
 *               or H without one; zeros when omitted.
 * @returns `[output, [hN, cN]]` with PyTorch's shapes: output `(T, N, D·P)` (or batch first, or unbatched).
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.LSTM.html | torch.nn.LSTM}
 */
export function lstmReference(
  input: Tensor,
  params: Readonly<Record<string, Tensor>>,
  config: LstmReferenceConfig = {},
  state?: readonly [h0: Tensor, c0: Tensor],
): [output: Tensor, state: [hN: Tensor, cN: Tensor]] {
  const param = parameterLookup('lstmReference', params);
  const hiddenSize = (param('weight_hh_l0').shape[0] as number) / 4;
  const projSize = config.projSize ?? (params.weight_hr_l0?.shape[0] as number | undefined) ?? 0;
  const [output, [hN, cN]] = stackLayers(
    'lstmReference',
    input,
    params,
    config,
    { names: ['h0', 'c0'], widths: [projSize > 0 ? projSize : hiddenSize, hiddenSize], given: state },
    (x, w, reverse, [h, c]) => {
      const step = reverse ? lstmForwardReversed : lstmForward;
      const weightHr = projSize > 0 ? w.named('weight_hr') : null;
      const [out, last] = step(
        x,
        w.weightIh,
        w.weightHh,
        w.biasIh,
        w.biasHh,
        [h as Tensor, c as Tensor],
        weightHr,
      );
      return [out, last];
    },
  );
  return [output, [hN as Tensor, cN as Tensor]];
}

/**
 * What `torch.nn.GRU` computes in eval mode, built from `gruForward` one layer and direction at a time.
 *
 * @param input  `(T, N, Hin)`, or `(N, T, Hin)` with `batchFirst`, or unbatched `(T, Hin)`.
 * @param params PyTorch state-dict entries: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`
 *               and the `_reverse` ones (no biases when `bias=False`).
 * @param h0     `(D·numLayers, N, H)` (or `(D·numLayers, H)` unbatched); zeros when omitted.
 * @returns `[output, hN]` with PyTorch's shapes.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.GRU.html | torch.nn.GRU}
 */
export function gruReference(
  input: Tensor,
  params: Readonly<Record<string, Tensor>>,
  config: GruReferenceConfig = {},
  h0?: Tensor,
): [output: Tensor, hN: Tensor] {
  const param = parameterLookup('gruReference', params);
  const hiddenSize = (param('weight_hh_l0').shape[0] as number) / 3;
  const [output, [hN]] = stackLayers(
    'gruReference',
    input,
    params,
    config,
    { names: ['h0'], widths: [hiddenSize], given: h0 && [h0] },
    (x, w, reverse, [h]) => {
      const step = reverse ? gruForwardReversed : gruForward;
      const [out, hLast] = step(x, w.weightIh, w.weightHh, w.biasIh, w.biasHh, h as Tensor);
      return [out, [hLast]];
    },
  );
  return [output, hN as Tensor];
}

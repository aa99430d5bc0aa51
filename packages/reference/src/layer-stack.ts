import {
  cat,
  formatShape,
  select,
  shapesEqual,
  squeeze,
  type Tensor,
  transpose,
  unsqueeze,
  zeros,
} from '@recurrent/tensor';
import { concatDirections } from './rnn-forward.js';

/** How layers stack, as `torch.nn.RNN`, `LSTM` and `GRU` take it. */
export interface StackConfig {
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
}

/** The states a cell carries (h; or h and c): their names, feature sizes, and the initial ones if given. */
export interface StateSpec {
  names: readonly string[];
  widths: readonly number[];
  /** As the caller passed them: `(D·numLayers, N, width)`, or `(D·numLayers, width)` unbatched. */
  given: readonly Tensor[] | undefined;
}

/** One layer-direction's PyTorch parameters (`weight_ih_l1_reverse` …); `named('weight_hr')` reads any other. */
export interface LayerWeights {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  named: (name: string) => Tensor;
}

/** One layer in one direction: `(x (N, T, ·), initial states (N, ·)) → [output (N, T, ·), last states (1, N, ·)]`. */
export type RunDirection = (
  x: Tensor,
  weights: LayerWeights,
  reverse: boolean,
  states: Tensor[],
) => [output: Tensor, last: Tensor[]];

/** Reads a required state-dict entry; a missing one throws `<caller>: missing parameter '<name>'`. */
export function parameterLookup(
  caller: string,
  params: Readonly<Record<string, Tensor>>,
): (name: string) => Tensor {
  return (name) => {
    const p = params[name];
    if (!p) throw new Error(`${caller}: missing parameter '${name}'`);
    return p;
  };
}

/**
 * The layer/direction loop of `torch.nn.RNN`, `LSTM` and `GRU`, for any number of states: layer k reads the
 * output of layer k−1, both directions concatenated — not the raw input, which is what PyTorch's own
 * docstring loop mistakenly shows (pytorch#129446).
 *
 * @param input `(T, N, Hin)`, or `(N, T, Hin)` with `batchFirst`, or unbatched `(T, Hin)`.
 * @returns `[output, final states]` with PyTorch's shapes; each final state is `(D·numLayers, N, width)`.
 */
export function stackLayers(
  caller: string,
  input: Tensor,
  params: Readonly<Record<string, Tensor>>,
  config: StackConfig,
  states: StateSpec,
  run: RunDirection,
): [output: Tensor, states: Tensor[]] {
  const param = parameterLookup(caller, params);
  const { numLayers = 1, bidirectional = false, batchFirst = false } = config;
  const unbatched = input.ndim === 2;
  // Work batch first: (N, T, Hin).
  let x = unbatched ? unsqueeze(input, 0) : batchFirst ? input : transpose(input, 0, 1);
  const batch = x.shape[0] as number;
  const directions = bidirectional ? 2 : 1;
  const initial = states.widths.map((width, k) => {
    const want = unbatched ? [directions * numLayers, width] : [directions * numLayers, batch, width];
    const state = states.given?.[k];
    if (!state) return zeros([directions * numLayers, batch, width]);
    if (!shapesEqual(state.shape, want)) {
      throw new Error(
        `${caller}: ${states.names[k]} must have shape ${formatShape(want)}, received ${formatShape(state.shape)}`,
      );
    }
    return unbatched ? unsqueeze(state, 1) : state;
  });

  const lastStates: Tensor[][] = states.widths.map(() => []);
  for (let layer = 0; layer < numLayers; layer++) {
    const outputs: Tensor[] = [];
    for (let direction = 0; direction < directions; direction++) {
      const start = initial.map((s) => select(s, 0, layer * directions + direction));
      const suffix = direction === 0 ? '' : '_reverse';
      const named = (name: string): Tensor => param(`${name}_l${layer}${suffix}`);
      const weights: LayerWeights = {
        weightIh: named('weight_ih'),
        weightHh: named('weight_hh'),
        biasIh: params[`bias_ih_l${layer}${suffix}`] ?? null,
        biasHh: params[`bias_hh_l${layer}${suffix}`] ?? null,
        named,
      };
      const [out, last] = run(x, weights, direction === 1, start);
      outputs.push(out);
      for (const [k, s] of last.entries()) lastStates[k]?.push(s);
    }
    x = bidirectional ? concatDirections(outputs[0] as Tensor, outputs[1] as Tensor) : (outputs[0] as Tensor);
  }
  // Each final state is (D·numLayers, N, ·): layer-major, then direction.
  const finals = lastStates.map((list) => cat(list, 0));
  if (unbatched) return [squeeze(x, 0), finals.map((s) => squeeze(s, 1))];
  return [batchFirst ? x : transpose(x, 0, 1), finals];
}

import { cat, Generator, randn, type Tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  decode,
  decodeStateDict,
  type EncodedTensor,
  lstmGruFixtures,
  rnnFixtures,
} from '../../../fixtures/load.js';
import { gruReference, type LstmReferenceConfig, lstmReference } from './lstm-gru-stack.js';
import { type ReferenceConfig, rnnReference } from './rnn-stack.js';

type Params = Record<string, Tensor>;
type Config = ReferenceConfig & LstmReferenceConfig;
/** A reference with its states as a list (h; or h and c): `(x, params, config, states?) → [output, states]`. */
type Run = (x: Tensor, params: Params, config: Config, states?: Tensor[]) => [Tensor, Tensor[]];
/** What the eval-mode fixtures of one module hold: the input, the initial and final states, the output. */
interface Fixture {
  name: string;
  train: boolean;
  config: Config;
  stateDict: Record<string, EncodedTensor>;
  input: EncodedTensor;
  output: EncodedTensor;
  h0: EncodedTensor | null;
  c0?: EncodedTensor | null;
  hN: EncodedTensor;
  cN?: EncodedTensor | null;
}

const cells: [name: string, gates: number, fixtures: Fixture[], run: Run][] = [
  [
    'rnnReference',
    1,
    rnnFixtures.rnn,
    (x, p, config, states) => {
      const [out, hN] = rnnReference(x, p, config, states?.[0]);
      return [out, [hN]];
    },
  ],
  [
    'gruReference',
    3,
    lstmGruFixtures.gru,
    (x, p, config, states) => {
      const [out, hN] = gruReference(x, p, config, states?.[0]);
      return [out, [hN]];
    },
  ],
  [
    'lstmReference',
    4,
    lstmGruFixtures.lstm,
    (x, p, config, states) => lstmReference(x, p, config, states as [Tensor, Tensor] | undefined),
  ],
];

describe.each(cells)('%s', (_, gates, fixtures, run) => {
  const evalCases = fixtures.filter((c) => !c.train).map((c) => [c.name, c] as const);
  it.each(evalCases)('equals PyTorch 1.13 on the eval-mode fixture %s', async (name, c) => {
    const given = [c.h0, c.c0 ?? null].filter((s): s is EncodedTensor => s !== null).map(decode);
    const [output, states] = run(decode(c.input), decodeStateDict(c.stateDict), c.config, given[0] && given);
    await assertClose(output, c.output, `${name} output`);
    const want = [c.hN, c.cN].filter((s): s is EncodedTensor => !!s);
    expect(states).toHaveLength(want.length);
    for (const [k, s] of want.entries()) await assertClose(states[k] as Tensor, s, `${name} state ${k}`);
  });

  it('feeds layer k the output of layer k−1, not the raw input (pytorch#129446)', async () => {
    const [I, H] = [3, 4];
    const g = new Generator(3);
    const layer = (inputs: number): Params => ({
      weight_ih_l0: randn([gates * H, inputs], { generator: g }),
      weight_hh_l0: randn([gates * H, H], { generator: g }),
    });
    const [first, second] = [layer(I), layer(H)];
    const stacked = {
      ...first,
      weight_ih_l1: second.weight_ih_l0 as Tensor,
      weight_hh_l1: second.weight_hh_l0 as Tensor,
    };
    const x = randn([5, 1, I], { generator: g });
    const [out, states] = run(x, stacked, { numLayers: 2 });
    const [layer0, states0] = run(x, first, {});
    const [layer1, states1] = run(layer0, second, {});
    await assertClose(out, layer1, 'stacked');
    for (const [k, s] of states.entries()) {
      await assertClose(s, cat([states0[k] as Tensor, states1[k] as Tensor], 0), `state ${k}`);
    }
  });
});

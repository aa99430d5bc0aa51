// The float64 oracle of the gradient checks equals PyTorch 1.13 on its committed fixtures.
import { describe, expect, it } from 'vitest';
import {
  decode,
  type EncodedTensor,
  lstmGruFixtures,
  type RecurrentFixture,
  type RnnFixture,
  rnnFixtures,
} from '../../../../fixtures/load.js';
import {
  type Array64,
  cellForward64,
  type Mode64,
  type Params64,
  recurrentForward64,
} from './float64-recurrent.js';

const array = (t: EncodedTensor): Array64 => ({ shape: t.shape, data: decode(t).dataSync() as Float32Array });

const params = (d: Record<string, EncodedTensor>): Params64 =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, array(v)]));

/** PyTorch computes in float32: its rounding, ~1e-7 per op, grows to a few 1e-6 over 320 steps. */
function expectClose(got: Array64, want: EncodedTensor, label: string): void {
  expect(got.shape, label).toEqual(want.shape);
  const w = decode(want).dataSync();
  for (let i = 0; i < w.length; i++) {
    const [g, v] = [got.data[i] as number, w[i] as number];
    if (Number.isNaN(v)) expect(g, `${label}[${i}]`).toBeNaN();
    else if (!Number.isFinite(v)) expect(g, `${label}[${i}]`).toBe(v);
    else
      expect(Math.abs(g - v), `${label}[${i}]: ${g} vs ${v}`).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(v));
  }
}

// training-mode cases with dropout draw masks the oracle does not model
const inference = (c: RnnFixture | RecurrentFixture): boolean => !c.train || !c.config.dropout;

describe('the float64 oracle equals PyTorch 1.13 on every fixture', () => {
  const modules: [Mode64, RnnFixture | RecurrentFixture][] = [
    ...rnnFixtures.rnn.map((c) => ['RNN', c] as [Mode64, RnnFixture]),
    ...lstmGruFixtures.lstm.map((c) => ['LSTM', c] as [Mode64, RecurrentFixture]),
    ...lstmGruFixtures.gru.map((c) => ['GRU', c] as [Mode64, RecurrentFixture]),
  ];
  it.each(
    modules.filter(([, c]) => inference(c)).map(([mode, c]) => [`${mode} ${c.name}`, mode, c] as const),
  )('%s', (_, mode, c) => {
    const c0 = 'c0' in c && c.c0 ? array(c.c0) : null;
    const got = recurrentForward64(
      { mode, ...c.config },
      params(c.stateDict),
      array(c.input),
      c.h0 ? array(c.h0) : null,
      c0,
    );
    expectClose(got.output, c.output, 'output');
    expectClose(got.hN, c.hN, 'hN');
    if ('cN' in c && c.cN) expectClose(got.cN as Array64, c.cN, 'cN');
  });

  const cells = [
    ...rnnFixtures.cell.map((c) => ['RNN', c, null, null] as const),
    ...lstmGruFixtures.lstmCell.map((c) => ['LSTM', c, c.cx, c.c] as const),
    ...lstmGruFixtures.gruCell.map((c) => ['GRU', c, null, null] as const),
  ];
  it.each(cells.map(([mode, c, cx, cc]) => [`${mode}Cell ${c.name}`, mode, c, cx, cc] as const))(
    '%s',
    (_, mode, c, cx, cc) => {
      const got = cellForward64(
        { mode, ...c.config },
        params(c.stateDict),
        array(c.input),
        c.hx ? array(c.hx) : null,
        cx ? array(cx) : null,
      );
      expectClose(got.h, c.h, 'h');
      if (cc) expectClose(got.c as Array64, cc, 'c');
    },
  );
});

import { Generator, randn, reshape, type Tensor, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decode, decodeStateDict, lstmGruFixtures } from '../../../fixtures/load.js';
import { lstmForward } from './lstm-forward.js';
import { lstmReference } from './lstm-gru-stack.js';

describe('lstmForward', () => {
  it.each(lstmGruFixtures.lstmCell.map((c) => [c.name, c] as const))(
    'one step is nn.LSTMCell: %s',
    async (_, c) => {
      const p = decodeStateDict(c.stateDict);
      const [inputSize, hiddenSize] = [c.config.inputSize, c.config.hiddenSize];
      const bs = c.input.shape.length === 1 ? 1 : (c.input.shape[0] as number);
      const x = reshape(decode(c.input), [bs, 1, inputSize]); // (bs, T = 1, I)
      const [hx, cx] = [c.hx, c.cx].map((s) =>
        s ? reshape(decode(s), [bs, hiddenSize]) : zeros([bs, hiddenSize]),
      );
      const [, [h, cell]] = lstmForward(
        x,
        p.weight_ih as Tensor,
        p.weight_hh as Tensor,
        p.bias_ih ?? null,
        p.bias_hh ?? null,
        [hx as Tensor, cx as Tensor],
      );
      await assertClose(reshape(h, c.h.shape), c.h, `${c.name} h`);
      await assertClose(reshape(cell, c.c.shape), c.c, `${c.name} c`);
    },
  );

  it('is PyTorch’s LSTM formula with a projection, step by step', async () => {
    const [bs, T, I, H, P] = [2, 4, 3, 5, 2];
    const generator = new Generator(7);
    const [wIh, wHh, bIh, bHh, wHr] = [[4 * H, I], [4 * H, P], [4 * H], [4 * H], [P, H]].map((shape) =>
      randn(shape, { generator }),
    ) as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const x = randn([bs, T, I], { generator });
    const h0 = randn([1, bs, P], { generator });
    const c0 = randn([1, bs, H], { generator });
    const [hOut, [hLast, cLast]] = lstmForward(x, wIh, wHh, bIh, bHh, [h0, c0], wHr);
    expect([hOut.shape, hLast.shape, cLast.shape]).toEqual([
      [bs, T, P],
      [1, bs, P],
      [1, bs, H],
    ]);

    // recompute with scalar loops; gate k (i, f, g, o) owns rows kH … kH+H−1
    const [X, Wi, Wh, bi, bh, Wr] = [x, wIh, wHh, bIh, bHh, wHr].map((t) => t.dataSync()) as Float32Array[];
    const at = (a: Float32Array | undefined, i: number): number => a?.[i] ?? Number.NaN;
    const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
    const want: number[] = [];
    const cWant: number[] = [];
    for (let b = 0; b < bs; b++) {
      let h = Array.from({ length: P }, (_, j) => at(h0.dataSync(), b * P + j));
      let c = Array.from({ length: H }, (_, j) => at(c0.dataSync(), b * H + j));
      for (let t = 0; t < T; t++) {
        const pre = (row: number): number => {
          let s = at(bi, row) + at(bh, row);
          for (let k = 0; k < I; k++) s += at(Wi, row * I + k) * at(X, (b * T + t) * I + k);
          for (let k = 0; k < P; k++) s += at(Wh, row * P + k) * (h[k] as number);
          return s;
        };
        c = c.map((cj, j) => {
          const [i, f, g] = [sigmoid(pre(j)), sigmoid(pre(H + j)), Math.tanh(pre(2 * H + j))];
          return f * cj + i * g;
        });
        const full = c.map((cj, j) => sigmoid(pre(3 * H + j)) * Math.tanh(cj));
        h = h.map((_, r) => full.reduce((s, v, k) => s + at(Wr, r * H + k) * v, 0));
        want.push(...h);
      }
      cWant.push(...c);
    }
    await assertClose(hOut, tensor(want, [bs, T, P]), 'hOut');
    await assertClose(
      hLast,
      tensor(
        want.filter((_, k) => Math.floor(k / P) % T === T - 1),
        [1, bs, P],
      ),
      'hLast',
    );
    await assertClose(cLast, tensor(cWant, [1, bs, H]), 'cLast');
  });
});

describe('lstmReference', () => {
  it('covers projSize, unbatched, no bias and NaN/±Inf inputs', () => {
    const names = lstmGruFixtures.lstm.filter((c) => !c.train).map((c) => c.name);
    for (const name of ['proj_2layers_batch_first_h0', 'proj_unbatched', 'no_bias', 'nan_inf_input']) {
      expect(names).toContain(name);
    }
  });
  it('takes projSize from weight_hr_l0 when the config leaves it out', async () => {
    const c = lstmGruFixtures.lstm.find((x) => x.name === 'proj_2layers_batch_first_h0');
    if (!c) throw new Error('fixture proj_2layers_batch_first_h0 missing');
    const { projSize: _, ...config } = c.config;
    const state = [decode(c.h0 ?? c.input), decode(c.c0 ?? c.input)] as const;
    const [output] = lstmReference(decode(c.input), decodeStateDict(c.stateDict), config, state);
    await assertClose(output, c.output, 'output');
  });

  it('names a missing parameter and a state of the wrong shape', () => {
    expect(() => lstmReference(zeros([2, 1, 3]), { weight_hh_l0: zeros([8, 2]) })).toThrow(
      "lstmReference: missing parameter 'weight_ih_l0'",
    );
    const params = { weight_ih_l0: zeros([8, 3]), weight_hh_l0: zeros([8, 1]) };
    expect(() => lstmReference(zeros([2, 1, 3]), params, { projSize: 1 })).toThrow(
      "lstmReference: missing parameter 'weight_hr_l0'",
    );
    expect(() =>
      lstmReference(zeros([2, 1, 3]), { weight_ih_l0: zeros([8, 3]), weight_hh_l0: zeros([8, 2]) }, {}, [
        zeros([1, 1, 2]),
        zeros([1, 1, 3]),
      ]),
    ).toThrow('lstmReference: c0 must have shape [1, 1, 2], received [1, 1, 3]');
  });
});

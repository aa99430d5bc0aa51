import { Generator, randn, reshape, type Tensor, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decode, decodeStateDict, lstmGruFixtures } from '../../../fixtures/load.js';
import { gruForward } from './gru-forward.js';
import { gruReference } from './lstm-gru-stack.js';

describe('gruForward', () => {
  it.each(lstmGruFixtures.gruCell.map((c) => [c.name, c] as const))(
    'one step is nn.GRUCell: %s',
    async (_, c) => {
      const p = decodeStateDict(c.stateDict);
      const [inputSize, hiddenSize] = [c.config.inputSize, c.config.hiddenSize];
      const bs = c.input.shape.length === 1 ? 1 : (c.input.shape[0] as number);
      const x = reshape(decode(c.input), [bs, 1, inputSize]); // (bs, T = 1, I)
      const hx = c.hx ? reshape(decode(c.hx), [bs, hiddenSize]) : zeros([bs, hiddenSize]);
      const [, h] = gruForward(
        x,
        p.weight_ih as Tensor,
        p.weight_hh as Tensor,
        p.bias_ih ?? null,
        p.bias_hh ?? null,
        hx,
      );
      await assertClose(reshape(h, c.h.shape), c.h, `${c.name} h`);
    },
  );

  it('is PyTorch’s GRU formula, step by step', async () => {
    const [bs, T, I, H] = [2, 4, 3, 5];
    const generator = new Generator(8);
    const [wIh, wHh, bIh, bHh] = [[3 * H, I], [3 * H, H], [3 * H], [3 * H]].map((shape) =>
      randn(shape, { generator }),
    ) as [Tensor, Tensor, Tensor, Tensor];
    const x = randn([bs, T, I], { generator });
    const h0 = randn([1, bs, H], { generator });
    const [hOut, hLast] = gruForward(x, wIh, wHh, bIh, bHh, h0);
    expect([hOut.shape, hLast.shape]).toEqual([
      [bs, T, H],
      [1, bs, H],
    ]);

    // recompute with scalar loops; gate k (r, z, n) owns rows kH … kH+H−1
    const [X, Wi, Wh, bi, bh] = [x, wIh, wHh, bIh, bHh].map((t) => t.dataSync()) as Float32Array[];
    const at = (a: Float32Array | undefined, i: number): number => a?.[i] ?? Number.NaN;
    const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
    const want: number[] = [];
    for (let b = 0; b < bs; b++) {
      let h = Array.from({ length: H }, (_, j) => at(h0.dataSync(), b * H + j));
      for (let t = 0; t < T; t++) {
        const fromInput = (row: number): number => {
          let s = at(bi, row);
          for (let k = 0; k < I; k++) s += at(Wi, row * I + k) * at(X, (b * T + t) * I + k);
          return s;
        };
        const fromHidden = (row: number): number => {
          let s = at(bh, row);
          for (let k = 0; k < H; k++) s += at(Wh, row * H + k) * (h[k] as number);
          return s;
        };
        h = h.map((hj, j) => {
          const r = sigmoid(fromInput(j) + fromHidden(j));
          const z = sigmoid(fromInput(H + j) + fromHidden(H + j));
          const n = Math.tanh(fromInput(2 * H + j) + r * fromHidden(2 * H + j));
          return (1 - z) * n + z * hj;
        });
        want.push(...h);
      }
    }
    await assertClose(hOut, tensor(want, [bs, T, H]), 'hOut');
    await assertClose(
      hLast,
      tensor(
        want.filter((_, k) => Math.floor(k / H) % T === T - 1),
        [1, bs, H],
      ),
      'hLast',
    );
  });
});

describe('gruReference', () => {
  it('names a missing parameter and an h0 of the wrong shape', () => {
    expect(() => gruReference(zeros([2, 1, 3]), { weight_hh_l0: zeros([6, 2]) })).toThrow(
      "gruReference: missing parameter 'weight_ih_l0'",
    );
    const params = { weight_ih_l0: zeros([6, 3]), weight_hh_l0: zeros([6, 2]) };
    expect(() => gruReference(zeros([2, 1, 3]), params, { numLayers: 1 }, zeros([2, 1, 2]))).toThrow(
      'gruReference: h0 must have shape [1, 1, 2], received [2, 1, 2]',
    );
  });
});

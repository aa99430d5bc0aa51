import { Generator, randn, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../../fixtures/load.js';
import { rnnForward } from './rnn-forward.js';
import { rnnReference } from './rnn-stack.js';

describe('rnnForward', () => {
  it('is the notebook formula, step by step', async () => {
    const generator = new Generator(1);
    const [wIh, wHh, bIh, bHh] = [
      randn([3, 2], { generator }),
      randn([3, 3], { generator }),
      randn([3], { generator }),
      randn([3], { generator }),
    ];
    const x = randn([2, 4, 2], { generator });
    const [hOut, hLast] = rnnForward(x, wIh, wHh, bIh, bHh, zeros([2, 3]));
    expect(hOut.shape).toEqual([2, 4, 3]);
    expect(hLast.shape).toEqual([1, 2, 3]);
    // recompute with scalar loops
    const [X, Wi, Wh, bi, bh] = [x, wIh, wHh, bIh, bHh].map((t) => t.dataSync()) as Float32Array[];
    const got = hOut.dataSync();
    for (let b = 0; b < 2; b++) {
      let h = [0, 0, 0];
      for (let t = 0; t < 4; t++) {
        h = [0, 1, 2].map((i) => {
          let s = (bi?.[i] ?? 0) + (bh?.[i] ?? 0);
          for (let k = 0; k < 2; k++) s += (Wi?.[i * 2 + k] ?? 0) * (X?.[(b * 4 + t) * 2 + k] ?? 0);
          for (let k = 0; k < 3; k++) s += (Wh?.[i * 3 + k] ?? 0) * (h[k] ?? 0);
          return Math.tanh(s);
        });
        for (let i = 0; i < 3; i++) expect(got[(b * 4 + t) * 3 + i]).toBeCloseTo(h[i] ?? Number.NaN, 6);
      }
    }
    const last = [...got.slice(9, 12), ...got.slice(21, 24)];
    await assertClose(hLast, tensor(last, [1, 2, 3]), 'hLast is the last step of hOut');
  });

  it('accepts h_prev as (bs, H) or (1, bs, H)', async () => {
    const g = new Generator(2);
    const args = [
      randn([2, 3, 4], { generator: g }),
      randn([5, 4], { generator: g }),
      randn([5, 5], { generator: g }),
      null,
      null,
    ] as const;
    const h = randn([2, 5], { generator: g });
    const [a] = rnnForward(...args, h);
    const [b] = rnnForward(...args, tensor(h.dataSync(), [1, 2, 5]));
    expect(await a.data()).toEqual(await b.data());
  });
});

describe('rnnReference', () => {
  it('names a missing parameter', () => {
    expect(() => rnnReference(zeros([2, 1, 3]), { weight_hh_l0: zeros([4, 4]) })).toThrow(
      "rnnReference: missing parameter 'weight_ih_l0'",
    );
  });
});

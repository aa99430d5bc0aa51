import { manualSeed, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decode, decodeStateDict, moduleFixtures } from '../../../fixtures/load.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Sequential } from './sequential.js';

describe('Sequential against PyTorch', () => {
  describe.each(moduleFixtures.sequential)('$name', (fx) => {
    const build = () => {
      const [a, b, c] = fx.sizes;
      return new Sequential(
        new Linear({ inFeatures: a, outFeatures: b }),
        new Dropout({ p: fx.p }),
        new Linear({ inFeatures: b, outFeatures: c }),
      );
    };

    it('has PyTorch’s keys, init and module names', () => {
      manualSeed(fx.seed);
      const seq = build();
      const want = decodeStateDict(fx.stateDict);
      expect(Object.keys(seq.stateDict())).toEqual(Object.keys(want));
      for (const [k, v] of Object.entries(seq.stateDict()))
        expect(v.dataSync(), k).toEqual(want[k]?.dataSync());
      expect(seq.namedModules().map(([n]) => n)).toEqual(fx.namedModules);
    });

    it('chains forward in eval and training mode', async () => {
      const seq = build();
      seq.loadStateDict(decodeStateDict(fx.stateDict));
      const x = decode(fx.input);
      await assertClose(seq.eval().forward(x), fx.eval, 'eval');
      manualSeed(fx.maskSeed);
      await assertClose(seq.train().forward(x), fx.train, 'train');
    });
  });
});

describe('Sequential', () => {
  it('names children by position and gives them back', () => {
    const first = new Linear({ inFeatures: 2, outFeatures: 2 });
    const seq = new Sequential(first).append(new Dropout());
    expect(seq.length).toBe(2);
    expect(seq.at(0)).toBe(first);
    expect(seq.at(-1)).toBeInstanceOf(Dropout);
    expect(seq.namedChildren().map(([n]) => n)).toEqual(['0', '1']);
    const x = zeros([1, 2]);
    expect(new Sequential().forward(x)).toBe(x);
  });

  it('sets every child’s mode', () => {
    const seq = new Sequential(new Linear({ inFeatures: 1, outFeatures: 1 }), new Dropout());
    seq.eval();
    expect(seq.modules().map((m) => m.training)).toEqual([false, false, false]);
  });
});

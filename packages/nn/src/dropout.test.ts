import { manualSeed, Tensor, tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { decode, moduleFixtures } from '../../../fixtures/load.js';
import { Dropout } from './dropout.js';

describe('Dropout against PyTorch', () => {
  it.each(moduleFixtures.dropout.map((f) => [f.name, f] as const))('%s', (_, fx) => {
    const dropout = new Dropout({ p: fx.p }).train(fx.train);
    const x = decode(fx.input);
    manualSeed(fx.seed);
    const y = dropout.forward(x);
    // the same mask and PyTorch's float32 scale: bit for bit
    expect(y.dataSync()).toEqual(decode(fx.output).dataSync());
    if (!fx.train) expect(y).toBe(x);
  });
});

describe('Dropout', () => {
  it('is the identity in eval mode and for p = 0, and multiplies by zero for p = 1', () => {
    const x = tensor([1, Number.POSITIVE_INFINITY, -2]);
    expect(new Dropout({ p: 0 }).forward(x)).toBe(x);
    expect(new Dropout().eval().forward(x)).toBe(x);
    expect([...new Dropout({ p: 1 }).forward(x).dataSync()]).toEqual([0, Number.NaN, -0]);
    expect(new Dropout().p).toBe(0.5);
  });

  it('rejects bad options and inputs', () => {
    expect(() => new Dropout({ p: 1.5 })).toThrow('Dropout: p must be a number in [0, 1], received 1.5');
    expect(() => new Dropout({ rate: 0.1 } as never)).toThrow("Dropout: unknown option 'rate'");
    expect(() => new Dropout().forward(Tensor.fromArray(new Int32Array(2), [2]) as never)).toThrow(
      'Dropout: input must be a float32 tensor, received int32',
    );
  });
});

import { manualSeed, ones, randn, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { decodeStateDict, rnnFixtures } from '../../../fixtures/load.js';
import { RNN, type RNNOptions } from './rnn.js';

describe('RNN options', () => {
  it('has PyTorch defaults', () => {
    const rnn = new RNN({ inputSize: 4, hiddenSize: 3 });
    expect([
      rnn.numLayers,
      rnn.nonlinearity,
      rnn.bias,
      rnn.batchFirst,
      rnn.dropout,
      rnn.bidirectional,
    ]).toEqual([1, 'tanh', true, false, 0, false]);
    expect(rnn.training).toBe(true);
  });

  it.each<[Partial<RNNOptions> & Record<string, unknown>, string]>([
    [{ inputSize: 0 }, 'RNN: inputSize must be an integer >= 1, received 0'],
    [{ inputSize: 2.5 }, 'RNN: inputSize must be an integer >= 1, received 2.5'],
    [{ hiddenSize: -3 }, 'RNN: hiddenSize must be an integer >= 1, received -3'],
    [{ hiddenSize: Number.NaN }, 'RNN: hiddenSize must be an integer >= 1, received NaN'],
    [{ numLayers: 0 }, 'RNN: numLayers must be an integer >= 1, received 0'],
    [{ numLayers: 1.5 }, 'RNN: numLayers must be an integer >= 1, received 1.5'],
    [{ dropout: 1.5 }, 'RNN: dropout must be a number in [0, 1], received 1.5'],
    [{ dropout: -0.1 }, 'RNN: dropout must be a number in [0, 1], received -0.1'],
    [{ nonlinearity: 'sigmoid' as 'tanh' }, "RNN: nonlinearity must be 'tanh' or 'relu', received 'sigmoid'"],
    [{ bidirectional: 'yes' as unknown as boolean }, "RNN: bidirectional must be a boolean, received 'yes'"],
    [{ hidden_size: 3 }, "RNN: unknown option 'hidden_size' (did you mean 'hiddenSize'?)"],
  ])('rejects %o', (bad, message) => {
    expect(() => new RNN({ inputSize: 4, hiddenSize: 3, ...bad } as RNNOptions)).toThrow(message);
  });
});

describe('RNN parameters', () => {
  it("uses PyTorch's names, shapes and order", () => {
    const rnn = new RNN({ inputSize: 4, hiddenSize: 3, numLayers: 2, bidirectional: true });
    const shapes = rnn.namedParameters().map(([k, v]) => `${k}:${v.shape.join('x')}`);
    expect(shapes).toEqual([
      'weight_ih_l0:3x4',
      'weight_hh_l0:3x3',
      'bias_ih_l0:3',
      'bias_hh_l0:3',
      'weight_ih_l0_reverse:3x4',
      'weight_hh_l0_reverse:3x3',
      'bias_ih_l0_reverse:3',
      'bias_hh_l0_reverse:3',
      'weight_ih_l1:3x6',
      'weight_hh_l1:3x3',
      'bias_ih_l1:3',
      'bias_hh_l1:3',
      'weight_ih_l1_reverse:3x6',
      'weight_hh_l1_reverse:3x3',
      'bias_ih_l1_reverse:3',
      'bias_hh_l1_reverse:3',
    ]);
    expect(new RNN({ inputSize: 2, hiddenSize: 5, bias: false }).parameters()).toHaveLength(2);
  });

  it('initializes within U(-1/sqrt(H), 1/sqrt(H)) and reproducibly under a seed', () => {
    manualSeed(3);
    const a = new RNN({ inputSize: 8, hiddenSize: 25 });
    manualSeed(3);
    const b = new RNN({ inputSize: 8, hiddenSize: 25 });
    for (const [k, v] of a.namedParameters()) {
      const data = v.dataSync();
      expect(Math.max(...data.map(Math.abs))).toBeLessThanOrEqual(0.2);
      expect(Math.max(...data.map(Math.abs))).toBeGreaterThan(0.15);
      expect(b.stateDict()[k]?.dataSync()).toEqual(data);
    }
  });

  it.each(rnnFixtures.rnn.map((c) => [c.name, c] as const))(
    'initializes exactly as PyTorch under torch.manual_seed (%s)',
    (_, c) => {
      manualSeed(c.seed);
      const rnn = new RNN(c.config);
      const want = decodeStateDict(c.stateDict);
      expect(Object.keys(rnn.stateDict())).toEqual(Object.keys(want));
      for (const [k, v] of Object.entries(rnn.stateDict())) expect(v.dataSync()).toEqual(want[k]?.dataSync());
    },
  );
});

describe('RNN.forward errors', () => {
  const rnn = new RNN({ inputSize: 4, hiddenSize: 3, numLayers: 2, batchFirst: true, bidirectional: true });

  it('rejects an input that is not 2-D or 3-D', () => {
    expect(() => rnn.forward(zeros([4]))).toThrow(
      'RNN: input must be 2-D (L, inputSize) or 3-D (N, L, inputSize), received shape [4]',
    );
    expect(() => rnn.forward(zeros([1, 2, 3, 4]))).toThrow('received shape [1, 2, 3, 4]');
  });

  it('rejects a last dimension other than inputSize', () => {
    expect(() => rnn.forward(zeros([1, 2, 5]))).toThrow(
      "RNN: input's last dimension must equal inputSize (4), received shape [1, 2, 5]",
    );
  });

  it('rejects an empty sequence', () => {
    expect(() => rnn.forward(zeros([2, 0, 4]))).toThrow('RNN: the sequence is empty (input shape [2, 0, 4])');
  });

  it('rejects h0 of the wrong shape or batch', () => {
    expect(() => rnn.forward(zeros([2, 5, 4]), zeros([2, 2, 3]))).toThrow(
      'RNN: expected h0 of shape [4, 2, 3] (D·numLayers, N, hiddenSize) for a batched input, received shape [2, 2, 3]',
    );
    expect(() => rnn.forward(zeros([2, 5, 4]), zeros([4, 1, 3]))).toThrow('expected h0 of shape [4, 2, 3]');
    expect(() => rnn.forward(zeros([5, 4]), zeros([4, 1, 3]))).toThrow(
      'RNN: expected h0 of shape [4, 3] (D·numLayers, hiddenSize) for an unbatched input, received shape [4, 1, 3]',
    );
  });

  it('rejects something that is not a tensor', () => {
    expect(() => rnn.forward([1, 2, 3] as never)).toThrow(
      'RNN: input must be a Tensor, received an array of length 3',
    );
  });
});

describe('RNN.forward shapes', () => {
  it.each([
    [{ batchFirst: true }, [1, 2, 4], [1, 2, 3], [1, 1, 3]],
    [{ batchFirst: true, bidirectional: true }, [1, 2, 4], [1, 2, 6], [2, 1, 3]],
    [{ numLayers: 3, bidirectional: true }, [7, 2, 4], [7, 2, 6], [6, 2, 3]],
    [{ numLayers: 2 }, [7, 4], [7, 3], [2, 3]],
    [{ batchFirst: true, bidirectional: true }, [7, 4], [7, 6], [2, 3]],
  ])('%o on %o gives output %o and hN %o', (options, input, output, hN) => {
    const [o, h] = new RNN({ inputSize: 4, hiddenSize: 3, ...options }).forward(randn(input));
    expect(o.shape).toEqual(output);
    expect(h.shape).toEqual(hN);
  });

  it('lets NaN and Infinity through as PyTorch does, without throwing', async () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 2 });
    const [o] = rnn.forward(tensor([[[Number.NaN, 0]], [[0, 0]], [[Number.POSITIVE_INFINITY, 1]]]));
    const data = await o.data();
    expect(Number.isNaN(data[0])).toBe(true);
    expect(Number.isNaN(data[2])).toBe(true); // NaN state feeds every later step
  });
});

describe('RNN dropout', () => {
  const build = (): RNN => {
    manualSeed(5);
    return new RNN({ inputSize: 3, hiddenSize: 8, numLayers: 3, dropout: 0.4 });
  };

  it('is off in eval mode and on in training mode, between layers only', async () => {
    const rnn = build();
    const x = randn([6, 2, 3]);
    const [evalOut] = rnn.eval().forward(x);
    const [evalAgain] = rnn.forward(x);
    expect(await evalAgain.data()).toEqual(await evalOut.data());
    const [trainOut] = rnn.train().forward(x);
    expect(await trainOut.data()).not.toEqual(await evalOut.data());
    // a single layer has no layer after it to drop into
    const single = new RNN({ inputSize: 3, hiddenSize: 8, dropout: 0.9 });
    expect(await single.train().forward(x)[0].data()).toEqual(await single.eval().forward(x)[0].data());
  });

  it('is reproducible under a seed', async () => {
    const x = randn([6, 2, 3]);
    const a = build();
    manualSeed(9);
    const [o1] = a.forward(x);
    manualSeed(9);
    const [o2] = a.forward(x);
    expect(await o1.data()).toEqual(await o2.data());
  });

  it('with p = 1 feeds zeros to the next layer', async () => {
    manualSeed(1);
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 1 });
    const [o] = rnn.forward(randn([5, 1, 3]));
    const top = new RNN({ inputSize: 4, hiddenSize: 4 });
    top.loadStateDict({
      weight_ih_l0: rnn.stateDict().weight_ih_l1 as never,
      weight_hh_l0: rnn.stateDict().weight_hh_l1 as never,
      bias_ih_l0: rnn.stateDict().bias_ih_l1 as never,
      bias_hh_l0: rnn.stateDict().bias_hh_l1 as never,
    });
    const [want] = top.forward(zeros([5, 1, 4]));
    expect(await o.data()).toEqual(await want.data());
  });

  it('keeps about 1 - p of the values, scaled by 1 / (1 - p)', async () => {
    manualSeed(2);
    // layer 1 outputs tanh(1) in every unit; layer 2 copies each unit through an identity W_ih, so
    // its output is tanh(mask · tanh(1) / (1 − p)) and the zeros are exactly the dropped units
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1000, numLayers: 2, dropout: 0.25, bias: false });
    const dict = rnn.stateDict();
    rnn.loadStateDict({
      ...dict,
      weight_ih_l0: ones([1000, 1]),
      weight_hh_l0: zeros([1000, 1000]),
      weight_ih_l1: tensor(
        Float32Array.from({ length: 1000 * 1000 }, (_, i) => (i % 1001 === 0 ? 1 : 0)),
        [1000, 1000],
      ),
      weight_hh_l1: zeros([1000, 1000]),
    });
    const [o] = rnn.forward(ones([1, 1, 1]));
    const data = await o.data();
    const kept = data.filter((v) => v !== 0);
    expect(kept.length / data.length).toBeGreaterThan(0.7);
    expect(kept.length / data.length).toBeLessThan(0.8);
    expect(kept[0]).toBeCloseTo(Math.tanh(Math.tanh(1) / 0.75), 6);
  });
});

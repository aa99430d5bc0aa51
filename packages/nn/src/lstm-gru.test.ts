// LSTM, GRU and their cells: options, PyTorch's parameters, state forms and every bad input.
import { manualSeed, randn, type Tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { decodeStateDict, lstmGruFixtures } from '../../../fixtures/load.js';
import { GRU, type GRUOptions } from './gru.js';
import { GRUCell } from './gru-cell.js';
import { LSTM, type LSTMOptions } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import { RNN } from './rnn.js';
import { RNNCell } from './rnn-cell.js';

const shapesOf = (m: { namedParameters(): [string, Tensor][] }) =>
  m.namedParameters().map(([k, v]) => `${k}:${v.shape.join('x')}`);

describe('LSTM and GRU parameters', () => {
  it("LSTM with projSize: PyTorch's names, shapes and order", () => {
    const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true, projSize: 3 });
    expect(shapesOf(lstm)).toEqual([
      'weight_ih_l0:28x5',
      'weight_hh_l0:28x3',
      'bias_ih_l0:28',
      'bias_hh_l0:28',
      'weight_hr_l0:3x7',
      'weight_ih_l0_reverse:28x5',
      'weight_hh_l0_reverse:28x3',
      'bias_ih_l0_reverse:28',
      'bias_hh_l0_reverse:28',
      'weight_hr_l0_reverse:3x7',
      'weight_ih_l1:28x6',
      'weight_hh_l1:28x3',
      'bias_ih_l1:28',
      'bias_hh_l1:28',
      'weight_hr_l1:3x7',
      'weight_ih_l1_reverse:28x6',
      'weight_hh_l1_reverse:28x3',
      'bias_ih_l1_reverse:28',
      'bias_hh_l1_reverse:28',
      'weight_hr_l1_reverse:3x7',
    ]);
    expect(lstm.cell).toMatchObject({
      mode: 'LSTM',
      gates: 4,
      gateOrder: ['i', 'f', 'g', 'o'],
      stateSize: 3,
    });
  });

  it('GRU: 3·H rows in the order r, z, n; no bias drops four tensors per layer-direction', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 4, numLayers: 2 });
    expect(shapesOf(gru)).toEqual([
      'weight_ih_l0:12x2',
      'weight_hh_l0:12x4',
      'bias_ih_l0:12',
      'bias_hh_l0:12',
      'weight_ih_l1:12x4',
      'weight_hh_l1:12x4',
      'bias_ih_l1:12',
      'bias_hh_l1:12',
    ]);
    expect(gru.cell.gateOrder).toEqual(['r', 'z', 'n']);
    expect(
      new GRU({ inputSize: 2, hiddenSize: 4, bias: false, bidirectional: true }).parameters(),
    ).toHaveLength(4);
  });

  it.each([
    ...lstmGruFixtures.lstm.map((c) => ['LSTM', c] as const),
    ...lstmGruFixtures.gru.map((c) => ['GRU', c] as const),
  ])("%s %s: manualSeed(s) gives torch.manual_seed(s)'s initial weights", (kind, c) => {
    manualSeed(c.seed);
    const m = kind === 'LSTM' ? new LSTM(c.config) : new GRU(c.config);
    const want = decodeStateDict(c.stateDict);
    expect(Object.keys(m.stateDict())).toEqual(Object.keys(want));
    for (const [k, v] of Object.entries(m.stateDict()))
      expect(Array.from(v.dataSync()), k).toEqual(Array.from((want[k] as Tensor).dataSync()));
  });

  it.each([
    ...lstmGruFixtures.lstmCell.map((c) => ['LSTMCell', c] as const),
    ...lstmGruFixtures.gruCell.map((c) => ['GRUCell', c] as const),
  ])("%s %s: manualSeed(s) gives PyTorch's initial weights", (kind, c) => {
    manualSeed(c.seed);
    const m = kind === 'LSTMCell' ? new LSTMCell(c.config) : new GRUCell(c.config);
    const want = decodeStateDict(c.stateDict);
    for (const [k, v] of Object.entries(m.stateDict()))
      expect(Array.from(v.dataSync()), k).toEqual(Array.from((want[k] as Tensor).dataSync()));
  });

  it('draws every parameter from U(−1/√H, 1/√H)', () => {
    for (const m of [
      new LSTM({ inputSize: 3, hiddenSize: 16, projSize: 4 }),
      new GRUCell({ inputSize: 3, hiddenSize: 16 }),
    ]) {
      for (const p of m.parameters()) {
        const v = Array.from(p.dataSync());
        expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(0.25);
        expect(new Set(v).size).toBe(v.length);
      }
    }
  });

  it('cells: weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh (G·H)', () => {
    expect(shapesOf(new LSTMCell({ inputSize: 3, hiddenSize: 2 }))).toEqual([
      'weight_ih:8x3',
      'weight_hh:8x2',
      'bias_ih:8',
      'bias_hh:8',
    ]);
    expect(shapesOf(new GRUCell({ inputSize: 3, hiddenSize: 2, bias: false }))).toEqual([
      'weight_ih:6x3',
      'weight_hh:6x2',
    ]);
  });
});

describe('LSTM and GRU forward: shapes and state forms', () => {
  it('LSTM returns [output, [hN, cN]]; h has projSize features, c hiddenSize', () => {
    const lstm = new LSTM({
      inputSize: 5,
      hiddenSize: 7,
      numLayers: 2,
      batchFirst: true,
      bidirectional: true,
      projSize: 3,
    });
    const [output, [hN, cN]] = lstm.forward(randn([2, 4, 5]));
    expect([output.shape, hN.shape, cN.shape]).toEqual([
      [2, 4, 6],
      [4, 2, 3],
      [4, 2, 7],
    ]);
    const [o2, [h2, c2]] = lstm.forward(randn([4, 5]), [zeros([4, 3]), zeros([4, 7])]);
    expect([o2.shape, h2.shape, c2.shape]).toEqual([
      [4, 6],
      [4, 3],
      [4, 7],
    ]);
  });

  it('GRU returns [output, hN]; cells return h (GRUCell) and [h, c] (LSTMCell)', () => {
    const [out, hN] = new GRU({ inputSize: 5, hiddenSize: 7 }).forward(randn([3, 2, 5]), zeros([1, 2, 7]));
    expect([out.shape, hN.shape]).toEqual([
      [3, 2, 7],
      [1, 2, 7],
    ]);
    expect(new GRUCell({ inputSize: 5, hiddenSize: 7 }).forward(randn([5])).shape).toEqual([7]);
    const [h, c] = new LSTMCell({ inputSize: 5, hiddenSize: 7 }).forward(randn([2, 5]));
    expect([h.shape, c.shape]).toEqual([
      [2, 7],
      [2, 7],
    ]);
  });

  it('omitted states equal zero states', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 }).eval();
    const x = randn([5, 2, 3]);
    const [a, [ah, ac]] = lstm.forward(x);
    const [b, [bh, bc]] = lstm.forward(x, [zeros([2, 2, 4]), zeros([2, 2, 4])]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(ah.dataSync())).toEqual(Array.from(bh.dataSync()));
    expect(Array.from(ac.dataSync())).toEqual(Array.from(bc.dataSync()));
  });
});

describe('LSTM and GRU bad input', () => {
  it.each<[Partial<LSTMOptions>, string]>([
    [{ projSize: 7 }, 'LSTM: projSize must be smaller than hiddenSize (7), received projSize 7'],
    [{ projSize: 9 }, 'LSTM: projSize must be smaller than hiddenSize (7), received projSize 9'],
    [{ projSize: -1 }, 'LSTM: projSize must be an integer >= 0, received -1'],
    [{ projSize: 1.5 }, 'LSTM: projSize must be an integer >= 0, received 1.5'],
    [{ hiddenSize: 0 }, 'LSTM: hiddenSize must be an integer >= 1, received 0'],
    [{ proj_size: 2 } as never, "LSTM: unknown option 'proj_size' (did you mean 'projSize'?)"],
    [{ dropout: 2 }, 'LSTM: dropout must be a number in [0, 1], received 2'],
  ])('LSTM rejects %o', (bad, message) => {
    expect(() => new LSTM({ inputSize: 5, hiddenSize: 7, ...bad })).toThrow(message);
  });

  it.each<[Record<string, unknown>, string]>([
    [
      { projSize: 3 },
      "GRU: projSize is only supported by LSTM (torch.nn.LSTM's proj_size), received projSize 3",
    ],
    [{ nonlinearity: 'relu' }, "GRU: unknown option 'nonlinearity'"],
    [{ num_layers: 2 }, "GRU: unknown option 'num_layers' (did you mean 'numLayers'?)"],
  ])('GRU rejects %o', (bad, message) => {
    expect(() => new GRU({ inputSize: 5, hiddenSize: 7, ...bad } as GRUOptions)).toThrow(message);
  });

  it('LSTM refuses a single tensor as its state, or a pair of the wrong shapes', () => {
    const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, projSize: 3 });
    const x = randn([4, 2, 5]);
    expect(() => lstm.forward(x, zeros([2, 2, 3]) as never)).toThrow(
      "LSTM: expected the state as [h0, c0] (a pair of tensors, like PyTorch's (h_0, c_0) tuple), received a Tensor of shape [2, 2, 3]",
    );
    expect(() => lstm.forward(x, [zeros([2, 2, 3])] as never)).toThrow('received an array of length 1');
    expect(() => lstm.forward(x, [zeros([2, 2, 7]), zeros([2, 2, 7])])).toThrow(
      'LSTM: expected h0 of shape [2, 2, 3] (D·numLayers, N, projSize) for a batched input, received shape [2, 2, 7]',
    );
    expect(() => lstm.forward(x, [zeros([2, 2, 3]), zeros([2, 2, 3])])).toThrow(
      'LSTM: expected c0 of shape [2, 2, 7] (D·numLayers, N, hiddenSize) for a batched input, received shape [2, 2, 3]',
    );
    expect(() => lstm.forward(x, [zeros([2, 2, 3]), null as never])).toThrow(
      'LSTM: expected c0 of shape [2, 2, 7] (D·numLayers, N, hiddenSize) for a batched input, received null',
    );
    expect(() => lstm.forward(randn([4, 5]), [zeros([2, 2, 3]), zeros([2, 2, 7])])).toThrow(
      'LSTM: expected h0 of shape [2, 3] (D·numLayers, projSize) for an unbatched input, received shape [2, 2, 3]',
    );
  });

  it('GRU checks its input and h0 like the RNN', () => {
    const gru = new GRU({ inputSize: 5, hiddenSize: 7, bidirectional: true, batchFirst: true });
    expect(() => gru.forward(randn([2, 3]))).toThrow(
      "GRU: input's last dimension must equal inputSize (5), received shape [2, 3]",
    );
    expect(() => gru.forward(randn([1, 2, 3, 5]))).toThrow(
      'GRU: input must be 2-D (L, inputSize) or 3-D (N, L, inputSize), received shape [1, 2, 3, 5]',
    );
    expect(() => gru.forward(randn([2, 0, 5]))).toThrow('GRU: the sequence is empty (input shape [2, 0, 5])');
    expect(() => gru.forward(randn([2, 3, 5]), zeros([1, 2, 7]))).toThrow(
      'GRU: expected h0 of shape [2, 2, 7] (D·numLayers, N, hiddenSize) for a batched input, received shape [1, 2, 7]',
    );
  });

  it('cells check input and state', () => {
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 2 });
    expect(() => cell.forward(randn([4, 3]), zeros([4, 2]) as never)).toThrow(
      'LSTMCell: expected the state as [hx, cx]',
    );
    expect(() => cell.forward(randn([4, 3]), [zeros([4, 2]), zeros([3, 2])])).toThrow(
      'LSTMCell: expected cx of shape [4, 2] for input of shape [4, 3], received shape [3, 2]',
    );
    expect(() => new GRUCell({ inputSize: 3, hiddenSize: 2 }).forward(randn([4, 4]))).toThrow(
      "GRUCell: input's last dimension must equal inputSize (3), received shape [4, 4]",
    );
    expect(() => new GRUCell({ inputSize: 3, hiddenSize: 2 }).forward(randn([3]), zeros([1, 2]))).toThrow(
      'GRUCell: expected hx of shape [2] for input of shape [3], received shape [1, 2]',
    );
  });

  it('names the cell type a state dict of another cell looks like', () => {
    const lstmDict = new LSTM({ inputSize: 3, hiddenSize: 7 }).stateDict();
    expect(() => new GRU({ inputSize: 3, hiddenSize: 7 }).loadStateDict(lstmDict)).toThrow(
      'The keys look like an LSTM state dict (weight_hh_l0 has shape [28, 7]: 4·hiddenSize rows for hiddenSize 7), ' +
        "not a GRU's (3·hiddenSize rows): load it into LSTM.",
    );
    expect(() => new RNN({ inputSize: 3, hiddenSize: 7 }).loadStateDict(lstmDict)).toThrow(
      "not an RNN's (hiddenSize rows): load it into LSTM.",
    );
    const gruDict = new GRU({ inputSize: 3, hiddenSize: 7 }).stateDict();
    expect(() => new LSTM({ inputSize: 3, hiddenSize: 7 }).loadStateDict(gruDict)).toThrow(
      'The keys look like a GRU state dict (weight_hh_l0 has shape [21, 7]: 3·hiddenSize rows for hiddenSize 7)',
    );
    const projected = new LSTM({ inputSize: 3, hiddenSize: 7, projSize: 2 }).stateDict();
    expect(() => new LSTM({ inputSize: 3, hiddenSize: 7 }).loadStateDict(projected)).toThrow(
      'The keys look like an LSTM with projSize 2 (they have weight_hr_l0): construct it with { projSize: 2 }.',
    );
    const cellDict = new LSTMCell({ inputSize: 3, hiddenSize: 7 }).stateDict();
    expect(() => new RNNCell({ inputSize: 3, hiddenSize: 7 }).loadStateDict(cellDict)).toThrow(
      "The keys look like an LSTMCell state dict (weight_hh has shape [28, 7]: 4·hiddenSize rows for hiddenSize 7), not an RNNCell's",
    );
    // the same kind with other sizes gets PyTorch's size-mismatch lines only
    const other = new GRU({ inputSize: 3, hiddenSize: 5 }).stateDict();
    expect(() => new GRU({ inputSize: 3, hiddenSize: 7 }).loadStateDict(other)).toThrow(
      /size mismatch for weight_hh_l0/,
    );
    expect(() => new GRU({ inputSize: 3, hiddenSize: 7 }).loadStateDict(other)).not.toThrow(/look like/);
  });
});

// Sizes that cannot be allocated are refused at once, naming the options and the bytes.
import { randn, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { GRUCell } from './gru-cell.js';
import { LSTM } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import { RNN } from './rnn.js';
import { RNNCell } from './rnn-cell.js';
import { formatBytes } from './sizes.js';

describe('sizes that cannot be allocated', () => {
  it('refuses hiddenSize 1e9 before allocating anything, naming the options and the bytes', () => {
    expect(() => new RNN({ inputSize: 4, hiddenSize: 1e9 })).toThrow(
      'RNN: inputSize 4, hiddenSize 1000000000 and numLayers 1 need weight_hh_l0 of 1,000,000,000,000,000,000 floats ' +
        '(3.47 EiB), more than a Float32Array can hold (4,294,967,296)',
    );
  });

  it('refuses parameters over maxBytes (2 GiB by default) and takes a larger maxBytes', () => {
    expect(() => new LSTM({ inputSize: 10, hiddenSize: 20_000 })).toThrow(
      'LSTM: inputSize 10, hiddenSize 20000 and numLayers 1 need 5.96 GiB (6,403,840,000 bytes), ' +
        'over maxBytes (2.00 GiB (2,147,483,648 bytes)); pass a larger maxBytes to allow it',
    );
    expect(() => new GRU({ inputSize: 8, hiddenSize: 16, maxBytes: 1000 })).toThrow(
      'GRU: inputSize 8, hiddenSize 16 and numLayers 1 need 4.88 KiB (4,992 bytes), over maxBytes (1000 bytes)',
    );
    expect(new GRU({ inputSize: 8, hiddenSize: 16, maxBytes: 5000 }).parameters()).toHaveLength(4);
    // the modules and the cells say what they allow
    expect(new GRU({ inputSize: 8, hiddenSize: 16, maxBytes: 5000 }).maxBytes).toBe(5000);
    expect(new LSTMCell({ inputSize: 8, hiddenSize: 16 }).maxBytes).toBe(2 ** 31);
    expect(new RNNCell({ inputSize: 8, hiddenSize: 16, maxBytes: 9000 }).maxBytes).toBe(9000);
    expect(() => new LSTMCell({ inputSize: 3, hiddenSize: 40_000 })).toThrow(
      'LSTMCell: inputSize 3 and hiddenSize 40000 need weight_hh of 6,400,000,000 floats (23.84 GiB',
    );
    expect(() => new RNN({ inputSize: 3, hiddenSize: 4, maxBytes: -1 })).toThrow(
      'RNN: maxBytes must be a positive number of bytes, received -1',
    );
  });

  it('refuses a forward whose activations exceed maxBytes, before the backend allocates them', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 8, maxBytes: 64 * 1024 });
    expect(() => gru.forward(zeros([1000, 4, 2]))).toThrow(
      'GRU: the activations of a forward over 1000 steps of a batch of 4 need 500.13 KiB (512,128 bytes), ' +
        'over maxBytes (64.00 KiB (65,536 bytes))',
    );
    expect(gru.forward(zeros([10, 4, 2]))[0].shape).toEqual([10, 4, 8]);
  });

  it('formats byte counts for people', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.50 KiB (1,536 bytes)');
  });
});

describe('cells with hiddenSize 0, as PyTorch 1.13 allows', () => {
  it('return (N, 0) states', () => {
    const x = randn([3, 10]);
    expect(new RNNCell({ inputSize: 10, hiddenSize: 0 }).forward(x).shape).toEqual([3, 0]);
    expect(new GRUCell({ inputSize: 10, hiddenSize: 0 }).forward(x, zeros([3, 0])).shape).toEqual([3, 0]);
    const [h, c] = new LSTMCell({ inputSize: 10, hiddenSize: 0 }).forward(randn([10]));
    expect([h.shape, c.shape]).toEqual([[0], [0]]);
    expect(
      new RNNCell({ inputSize: 10, hiddenSize: 0 }).namedParameters().map(([k, v]) => `${k}:${v.shape}`),
    ).toEqual(['weight_ih:0,10', 'weight_hh:0,0', 'bias_ih:0', 'bias_hh:0']);
    // the multi-layer modules refuse it, as PyTorch does
    expect(() => new RNN({ inputSize: 10, hiddenSize: 0 })).toThrow(
      'RNN: hiddenSize must be an integer >= 1, received 0',
    );
  });
});

describe('clear messages for unclear input', () => {
  it('names NaN and Infinity as themselves', () => {
    expect(() => new RNN({ inputSize: 4, hiddenSize: Number.NaN })).toThrow(
      'RNN: hiddenSize must be an integer >= 1, received NaN',
    );
    expect(() => new LSTM({ inputSize: Number.POSITIVE_INFINITY, hiddenSize: 3 })).toThrow(
      'LSTM: inputSize must be an integer >= 1, received Infinity',
    );
  });

  it('refuses null options and state dicts with a TypeError, not a property read', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 });
    expect(() => rnn.loadStateDict(rnn.stateDict(), null as never)).toThrow(
      'RNN.loadStateDict: options must be an object like { strict: false }, received null',
    );
    expect(() => rnn.loadStateDict(null as never)).toThrow(
      'RNN.loadStateDict: expected a state dict (an object or Map of name → Tensor), received null',
    );
  });

  it('checks the shape given to tensor() and caps a huge shape in messages', () => {
    expect(() => tensor(5, 'ab' as never)).toThrow(
      "tensor: shape must be an array of non-negative integers, received 'ab'",
    );
    const huge = new Array(5_000_000).fill(1);
    let message = '';
    try {
      tensor([1, 2], [...huge, -1]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      'tensor: shape must be an array of non-negative integers, received [1, 1, 1, 1, 1, 1, 1, 1, …, 1, -1] (5000001 dimensions)',
    );
  });
});

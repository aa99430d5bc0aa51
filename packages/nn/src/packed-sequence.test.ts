// torch.nn.utils.rnn in camelCase: packing, unpacking and padding equal PyTorch 1.13's, and bad input is refused.
import { manualSeed, randn, Tensor, tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  decode,
  type EncodedTensor,
  type PackedSequenceFixture,
  packedFixtures,
} from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import {
  PackedSequence,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
} from './packed-sequence.js';
import { RNN } from './rnn.js';

const value = (v: number | string): number =>
  typeof v === 'number'
    ? v
    : v === 'nan'
      ? Number.NaN
      : v === 'inf'
        ? Number.POSITIVE_INFINITY
        : Number.NEGATIVE_INFINITY;

const ints = (t: Tensor<'int32'> | null): number[] | null => (t ? [...t.dataSync()] : null);

function fromFixture(p: PackedSequenceFixture): PackedSequence {
  return new PackedSequence(decode(p.data), p.batchSizes, p.sortedIndices, p.unsortedIndices);
}

async function expectPacked(got: PackedSequence, want: PackedSequenceFixture): Promise<void> {
  expect(ints(got.batchSizes)).toEqual(want.batchSizes);
  expect(ints(got.sortedIndices)).toEqual(want.sortedIndices);
  expect(ints(got.unsortedIndices)).toEqual(want.unsortedIndices);
  await assertClose(got.data, want.data, 'data', { atol: 0, rtol: 0 });
}

describe('packPaddedSequence equals PyTorch on every recurrent fixture input', () => {
  it.each(packedFixtures.recurrent.map((c) => [`${c.module} ${c.name}`, c] as const))('%s', async (_, c) => {
    const packed = packPaddedSequence(decode(c.padded), c.lengths, {
      batchFirst: c.config.batchFirst,
      enforceSorted: c.enforceSorted,
    });
    await expectPacked(packed, c.packed);
    expect(packed.lengths()).toEqual(c.lengths);
    // lengths given as an int32 tensor pack the same
    const again = packPaddedSequence(
      decode(c.padded),
      tensor(Int32Array.from(c.lengths), [c.lengths.length]),
      {
        batchFirst: c.config.batchFirst,
        enforceSorted: c.enforceSorted,
      },
    );
    await expectPacked(again, c.packed);
  });
});

describe('padPackedSequence equals PyTorch', () => {
  it.each(packedFixtures.unpack.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const [out, lengths] = padPackedSequence(fromFixture(c.packed), {
      batchFirst: c.batchFirst,
      paddingValue: value(c.paddingValue),
      ...(c.totalLength === null ? {} : { totalLength: c.totalLength }),
    });
    await assertClose(out, c.output, 'padded', { atol: 0, rtol: 0 });
    expect(lengths).toEqual(c.lengths);
  });
});

describe('packSequence and padSequence equal PyTorch', () => {
  it.each(packedFixtures.pack.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const sequences = c.sequences.map((s: EncodedTensor) => decode(s));
    await expectPacked(packSequence(sequences, { enforceSorted: c.enforceSorted }), c.packed);
    for (const p of c.padSequence) {
      const out = padSequence(sequences, { batchFirst: p.batchFirst, paddingValue: value(p.paddingValue) });
      await assertClose(out, p.output, `padSequence batchFirst ${p.batchFirst}`, { atol: 0, rtol: 0 });
    }
  });
});

describe('RNN, LSTM and GRU on a PackedSequence equal PyTorch (TypeScript backend)', () => {
  it.each(packedFixtures.recurrent.map((c) => [`${c.module} ${c.name}`, c] as const))('%s', async (_, c) => {
    // replay PyTorch's draws (init, input, h0, c0) so training-mode dropout masks come out the same
    manualSeed(c.seed);
    const m =
      c.module === 'LSTM' ? new LSTM(c.config) : c.module === 'GRU' ? new GRU(c.config) : new RNN(c.config);
    randn(c.padded.shape);
    if (c.h0) randn(c.h0.shape);
    if (c.c0) randn(c.c0.shape);
    m.loadStateDict(Object.fromEntries(Object.entries(c.stateDict).map(([k, v]) => [k, decode(v)])));
    m.train(c.train).to(cpuBackend);
    const packed = fromFixture(c.packed);
    const h0 = c.h0 ? decode(c.h0) : null;
    const [out, hN, cN] =
      m instanceof LSTM
        ? (([o, [h, cc]]) => [o, h, cc])(m.forward(packed, h0 && c.c0 ? [h0, decode(c.c0)] : null))
        : [...(m as GRU).forward(packed, h0), null];
    await assertClose((out as PackedSequence).data, c.outputData, 'output data');
    expect(ints((out as PackedSequence).batchSizes)).toEqual(c.packed.batchSizes);
    const [padded, lengths] = padPackedSequence(out as PackedSequence, { batchFirst: c.config.batchFirst });
    await assertClose(padded, c.output, 'padded output');
    expect(lengths).toEqual(c.outputLengths);
    await assertClose(hN as Tensor, c.hN, 'hN');
    if (c.cN) await assertClose(cN as Tensor, c.cN, 'cN');
  });
});

describe('bad input gets a clear error', () => {
  const x = randn([5, 3, 2]);
  it('lengths not sorted with enforceSorted', () => {
    expect(() => packPaddedSequence(x, [2, 5, 4])).toThrow(
      'packPaddedSequence: lengths must be sorted in decreasing order when enforceSorted is true, received [2, 5, 4]; ' +
        'pass { enforceSorted: false } to have them sorted (the results come back in your order)',
    );
    expect(() => packSequence([randn([2, 1]), randn([3, 1])])).toThrow(
      /sorted in decreasing order.*\[2, 3\]/,
    );
  });
  it('a length of 0, or longer than the sequence', () => {
    expect(() => packPaddedSequence(x, [5, 0, 0])).toThrow(
      "packPaddedSequence: every length must be in [1, 5] (the input's 5 steps), received lengths[1] = 0 " +
        '(PyTorch: every sample must have length greater than 0)',
    );
    expect(() => packPaddedSequence(x, [6, 3, 2])).toThrow(
      "packPaddedSequence: every length must be in [1, 5] (the input's 5 steps), received lengths[0] = 6",
    );
    expect(() =>
      packPaddedSequence(randn([3, 5, 2]), [2, 6, 1], { batchFirst: true, enforceSorted: false }),
    ).toThrow(/received lengths\[1\] = 6/);
  });
  it('a count of lengths other than the batch', () => {
    expect(() => packPaddedSequence(x, [5, 4])).toThrow(
      'packPaddedSequence: expected 3 lengths, one per batch entry of input [5, 3, 2], received 2: [5, 4]',
    );
    expect(() =>
      packPaddedSequence(randn([3, 5, 2]), [5, 4, 3, 2], { batchFirst: true, enforceSorted: false }),
    ).toThrow(
      'packPaddedSequence: expected 3 lengths, one per batch entry of input [3, 5, 2] (batchFirst), received 4: [5, 4, 3, 2]',
    );
  });
  it('lengths that are not integers, and inputs that are not tensors', () => {
    expect(() => packPaddedSequence(x, [5, 2.5, 1])).toThrow(
      'packPaddedSequence: lengths must hold integers, received [5, 2.5, 1]',
    );
    expect(() => packPaddedSequence([1, 2] as unknown as Tensor, [1])).toThrow(
      'packPaddedSequence: input must be a Tensor (T, N, *) of at least 2 dimensions, received an array of length 2',
    );
  });
  it('unpacking with totalLength shorter than the longest sequence', () => {
    const packed = packPaddedSequence(x, [5, 3, 2]);
    expect(() => padPackedSequence(packed, { totalLength: 4 })).toThrow(
      'padPackedSequence: totalLength must be an integer of at least the length of the longest sequence (5), received 4',
    );
  });
  it('a PackedSequence whose parts disagree', () => {
    expect(() => new PackedSequence(randn([4, 2]), [2, 1])).toThrow(
      'PackedSequence: data must have Σ batchSizes = 3 rows, received shape [4, 2]',
    );
    expect(() => new PackedSequence(randn([3, 2]), [1, 2])).toThrow(
      'PackedSequence: batchSizes must be non-increasing and at least 1, received [1, 2]',
    );
    expect(() => new PackedSequence(randn([3, 2]), [2, 1], [0, 0])).toThrow(
      'PackedSequence: sortedIndices must be a permutation of 0…1, received [0, 0]',
    );
  });
  it('a module given packed data of the wrong width, or h0 of the wrong batch', () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 4 }).to(cpuBackend);
    expect(() => gru.forward(packPaddedSequence(x, [5, 3, 2]))).toThrow(
      "GRU: a PackedSequence's data must be (Σ lengths, inputSize 3), received shape [10, 2]",
    );
    const ok = packPaddedSequence(randn([5, 3, 3]), [5, 3, 2]);
    expect(() => gru.forward(ok, randn([1, 2, 4]))).toThrow(
      'GRU: expected h0 of shape [1, 3, 4] (D·numLayers, N, hiddenSize) for a batched input, received shape [1, 2, 4]',
    );
  });
  it('padSequence of tensors with different trailing dimensions', () => {
    expect(() => padSequence([randn([2, 3]), randn([4, 2])])).toThrow(
      'padSequence: every sequence must have the same trailing dimensions as sequences[0] [2, 3], received sequences[1] [4, 2]',
    );
    expect(() => padSequence([])).toThrow(
      'padSequence: expected a non-empty array of tensors, received an array of length 0',
    );
  });
});

describe('packed results equal running each sequence alone', () => {
  it('LSTM, bidirectional, 2 layers, unsorted, with [h0, c0]', async () => {
    const lstm = new LSTM({
      inputSize: 3,
      hiddenSize: 4,
      numLayers: 2,
      bidirectional: true,
      batchFirst: true,
    });
    lstm.eval().to(cpuBackend);
    const x = randn([3, 5, 3]);
    const [h0, c0] = [randn([4, 3, 4]), randn([4, 3, 4])];
    const lengths = [5, 2, 4];
    const [out, [hN, cN]] = lstm.forward(
      packPaddedSequence(x, lengths, { batchFirst: true, enforceSorted: false }),
      [h0, c0],
    );
    const [padded] = padPackedSequence(out, { batchFirst: true });
    for (let b = 0; b < 3; b++) {
      const len = lengths[b] as number;
      const xb = sliceBatch(x, 0, b, len);
      const [ob, [hb, cb]] = lstm.forward(xb, [sliceState(h0, b), sliceState(c0, b)]);
      await assertClose(sliceBatch(padded, 0, b, len), ob, `output ${b}`);
      await assertClose(sliceState(hN, b), hb, `hN ${b}`);
      await assertClose(sliceState(cN, b), cb, `cN ${b}`);
    }
  });
});

/** Batch entry b of a batch-first `(N, T, F)` tensor, its first `len` steps, as `(1, len, F)`. */
function sliceBatch(t: Tensor, _dim: 0, b: number, len: number): Tensor {
  const [, T, F] = t.shape as [number, number, number];
  const src = t.dataSync() as Float32Array;
  return Tensor.fromArray(src.slice(b * T * F, (b * T + len) * F), [1, len, F]);
}

/** Entry b of a state `(K, N, F)`, as `(K, 1, F)`. */
function sliceState(t: Tensor, b: number): Tensor {
  const [K, N, F] = t.shape as [number, number, number];
  const src = t.dataSync() as Float32Array;
  const out = new Float32Array(K * F);
  for (let k = 0; k < K; k++) out.set(src.subarray((k * N + b) * F, (k * N + b + 1) * F), k * F);
  return Tensor.fromArray(out, [K, 1, F]);
}

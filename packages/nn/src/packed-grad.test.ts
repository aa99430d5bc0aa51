// Gradients through torch.nn.utils.rnn's functions: packing and unpacking move rows, so the gradient of
// each input row is the gradient of the one row it became (PyTorch 1.13's grad_fn names), and token ids
// (int32) pack as PyTorch packs any dtype.
import { manualSeed, mean, mul, randn, sum, type Tensor, tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from './backend/cpu.js';
import { Embedding } from './embedding.js';
import { LSTM } from './lstm.js';
import {
  PackedSequence,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
} from './packed-sequence.js';

// + 0: a masked −0 is the 0 the padding gets
const list = (t: Tensor | null): number[] => [...((t?.dataSync() ?? []) as Float32Array)].map((v) => v + 0);

/** 1 at the real steps of each sequence of a (T, N, F) or (N, T, F) batch, 0 at the padding. */
function mask(shape: number[], lengths: number[], batchFirst: boolean): Tensor {
  const [d0, d1, F] = shape as [number, number, number];
  const m = new Float32Array(d0 * d1 * F);
  for (let i = 0; i < d0; i++)
    for (let j = 0; j < d1; j++) {
      const [b, t] = batchFirst ? [i, j] : [j, i];
      if (t < (lengths[b] as number)) m.fill(1, (i * d1 + j) * F, (i * d1 + j + 1) * F);
    }
  return tensor(m, shape);
}

describe('gradients through packing', () => {
  it.each([
    [false, true],
    [true, true],
    [false, false],
    [true, false],
  ])(
    'packPaddedSequence (batchFirst %s, enforceSorted %s): each real row gets its packed row’s gradient',
    (batchFirst, enforceSorted) => {
      manualSeed(1);
      const lengths = enforceSorted ? [4, 3, 1] : [3, 4, 1];
      const x = randn(batchFirst ? [3, 4, 2] : [4, 3, 2]).requiresGrad_(true);
      const packed = packPaddedSequence(x, lengths, { batchFirst, enforceSorted });
      expect(packed.data.gradFn?.name).toBe('PackPaddedSequenceBackward0');
      const r = randn(packed.data.shape);
      sum(mul(packed.data, r)).backward();
      // the gradient is r unpacked into the padded layout, zeros at the padding
      const [want] = padPackedSequence(
        new PackedSequence(r, packed.batchSizes, packed.sortedIndices, packed.unsortedIndices),
        { batchFirst },
      );
      expect(list(x.grad)).toEqual(list(want));
    },
  );

  it.each([
    [false, [4, 3, 1], 'CopySlices'],
    [true, [4, 3, 1], 'TransposeBackward0'],
    [false, [1, 4, 3], 'IndexSelectBackward0'],
    [true, [3, 1, 4], 'IndexSelectBackward0'],
  ] as const)(
    'padPackedSequence (batchFirst %s, lengths %j): grad_fn %s, the padding gets none',
    (batchFirst, lengths, name) => {
      manualSeed(2);
      const x = randn(batchFirst ? [3, 4, 2] : [4, 3, 2]).requiresGrad_(true);
      // sorted lengths with enforceSorted: PyTorch records no sorting (enforce_sorted=False always index_selects)
      const enforceSorted = lengths[0] === 4;
      const packed = packPaddedSequence(x, [...lengths], { batchFirst, enforceSorted });
      const [out, got] = padPackedSequence(packed, { batchFirst, totalLength: 5 });
      expect(got).toEqual([...lengths]);
      expect(out.gradFn?.name).toBe(name);
      const r = randn(out.shape);
      sum(mul(out, r)).backward();
      const padded = batchFirst ? [3, 5, 2] : [5, 3, 2];
      // x's gradient: r at the real steps (the extra step of totalLength is padding too)
      const wantFull = list(mul(r, mask(padded, [...lengths], batchFirst)));
      const T = 4;
      const want = batchFirst
        ? wantFull.filter((_, i) => Math.floor(i / 2) % 5 < T)
        : wantFull.slice(0, T * 3 * 2);
      expect(list(x.grad)).toEqual(want);
    },
  );

  it('padSequence and packSequence: each sequence gets its own rows of the gradient', () => {
    manualSeed(3);
    const seqs = [randn([2, 3]), randn([4, 3]), randn([1, 3])].map((s) => s.requiresGrad_(true));
    const padded = padSequence(seqs, { batchFirst: true });
    expect(padded.gradFn?.name).toBe('CopySlices');
    const r = randn([3, 4, 3]);
    sum(mul(padded, r)).backward();
    const rows = list(r);
    expect(list(seqs[0]?.grad ?? null)).toEqual(rows.slice(0, 6));
    expect(list(seqs[1]?.grad ?? null)).toEqual(rows.slice(12, 24));
    expect(list(seqs[2]?.grad ?? null)).toEqual(rows.slice(24, 27));
    for (const s of seqs) s.grad = null;
    const packed = packSequence(seqs, { enforceSorted: false });
    expect(packed.data.gradFn?.name).toBe('PackPaddedSequenceBackward0');
    sum(packed.data).backward();
    for (const s of seqs) expect(list(s.grad)).toEqual(new Array(s.numel()).fill(1));
  });
});

describe('token ids (int32) pack and unpack, as PyTorch packs any dtype', () => {
  it("packs PyTorch's example and pads it back", () => {
    const ids = tensor([1, 2, 3, 0, 4, 0], [3, 2], { dtype: 'int32' });
    const packed = packPaddedSequence(ids, [3, 1]);
    expect(packed.data.dtype).toBe('int32');
    expect([...packed.data.dataSync()]).toEqual([1, 2, 3, 4]); // torch: tensor([1, 2, 3, 4])
    const [back, lengths] = padPackedSequence(packed, { paddingValue: -1 });
    expect([...back.dataSync()]).toEqual([1, 2, 3, -1, 4, -1]);
    expect(lengths).toEqual([3, 1]);
    const seqs = [tensor([5, 6], [2], { dtype: 'int32' }), tensor([7, 8, 9], [3], { dtype: 'int32' })];
    const padded = padSequence(seqs, { batchFirst: true });
    expect(padded.dtype).toBe('int32');
    expect([...padded.dataSync()]).toEqual([5, 6, 0, 7, 8, 9]);
    expect(() => padSequence([seqs[0] as Tensor, randn([2])])).toThrow(
      'padSequence: every sequence must have the dtype of sequences[0] (int32), received sequences[1] float32',
    );
  });

  it('Embedding on packed ids → LSTM → padPackedSequence trains as the padded model does on real steps', () => {
    const lengths = [5, 2, 4];
    const idsData = [1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 2, 4, 6, 8, 0];
    const build = () => {
      manualSeed(7);
      return {
        emb: new Embedding({ numEmbeddings: 9, embeddingDim: 3 }).to(cpuBackend),
        lstm: new LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true }).to(cpuBackend),
      };
    };
    manualSeed(8);
    const r = randn([3, 5, 4]);
    const m = mask([3, 5, 4], lengths, true);
    // packed: only real tokens are embedded and run
    const a = build();
    const ids = tensor(idsData, [3, 5], { dtype: 'int32' });
    const packedIds = packPaddedSequence(ids, lengths, { batchFirst: true, enforceSorted: false });
    const embedded = new PackedSequence(
      a.emb.forward(packedIds.data as Tensor<'int32'>),
      packedIds.batchSizes,
      packedIds.sortedIndices,
      packedIds.unsortedIndices,
    );
    const [outPacked] = a.lstm.forward(embedded);
    const [out] = padPackedSequence(outPacked, { batchFirst: true });
    mean(mul(out, r)).backward();
    // padded: every step runs, the loss sees only the real ones (a forward LSTM's padding comes after them)
    const b = build();
    const [outPadded] = b.lstm.forward(b.emb.forward(ids));
    mean(mul(outPadded, mul(r, m))).backward();
    const pa = [...a.emb.namedParameters(), ...a.lstm.namedParameters()];
    const pb = [...b.emb.namedParameters(), ...b.lstm.namedParameters()];
    pa.forEach(([name, p], i) => {
      const want = list((pb[i] as [string, Tensor])[1].grad);
      const got = list(p.grad);
      expect(got.length, name).toBe(want.length);
      for (const [j, w] of want.entries())
        expect(Math.abs((got[j] as number) - w), `${name}[${j}]`).toBeLessThanOrEqual(
          1e-6 + 1e-4 * Math.abs(w),
        );
    });
    expect(list(a.emb.namedParameters()[0]?.[1].grad ?? null).some((v) => v !== 0)).toBe(true);
  });
});

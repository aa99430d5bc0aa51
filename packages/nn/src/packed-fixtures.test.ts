// packed.json (scripts/fixtures/packed_cases.py) loads and is self-consistent: plain index arithmetic only,
// no packing code, so it checks the fixture rather than our implementation.
import { describe, expect, it } from 'vitest';
import { type EncodedTensor, type PackedSequenceFixture, packedFixtures } from '../../../fixtures/load.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const num = (v: number | string) =>
  typeof v === 'number' ? v : v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : -Infinity;
const rowWidth = (t: EncodedTensor, dims: number) => t.shape.slice(dims).reduce((a, b) => a * b, 1);

/** Checks a PackedSequence against the caller-order lengths it should hold; returns the sorted order. */
function checkPacked(p: PackedSequenceFixture, lengths: number[], enforceSorted: boolean): number[] {
  const n = lengths.length;
  expect(p.data.shape[0]).toBe(sum(lengths));
  expect(sum(p.batchSizes)).toBe(sum(lengths));
  expect(p.batchSizes.length).toBe(Math.max(...lengths));
  p.batchSizes.forEach((b, t) => {
    expect(b).toBe(lengths.filter((l) => l > t).length);
    if (t > 0) expect(b).toBeLessThanOrEqual(p.batchSizes[t - 1] as number);
  });
  if (enforceSorted) {
    expect(p.sortedIndices).toBeNull();
    expect(p.unsortedIndices).toBeNull();
    return lengths.map((_, i) => i);
  }
  const sorted = p.sortedIndices as number[];
  const unsorted = p.unsortedIndices as number[];
  expect([...sorted].sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  expect(unsorted.length).toBe(n);
  expect(sorted.map((s) => unsorted[s])).toEqual(sorted.map((_, i) => i));
  // longest first (the order among ties is torch.sort's, not checked)
  for (let i = 1; i < n; i++) {
    expect(lengths[sorted[i] as number]).toBeLessThanOrEqual(lengths[sorted[i - 1] as number] as number);
  }
  return sorted;
}

/**
 * Element (b, t, j) of a padded tensor (`batchFirst`: (N, T, ...), else (T, N, ...)), j within a row.
 */
function paddedAt(t: EncodedTensor, batchFirst: boolean, b: number, step: number, j: number): number {
  const [d0, d1] = t.shape as [number, number];
  const w = rowWidth(t, 2);
  const row = batchFirst ? b * d1 + step : step * d1 + b;
  expect(batchFirst ? b < d0 && step < d1 : step < d0 && b < d1).toBe(true);
  return num(t.data[row * w + j] as number | string);
}

/** Every packed row equals the padded row it came from (step t, sorted position i → caller's batch index). */
function checkRows(
  p: PackedSequenceFixture,
  data: EncodedTensor,
  padded: EncodedTensor,
  batchFirst: boolean,
  order: number[],
) {
  const w = rowWidth(data, 1);
  expect(rowWidth(padded, 2)).toBe(w);
  let r = 0;
  p.batchSizes.forEach((size, step) => {
    for (let i = 0; i < size; i++, r++) {
      for (let j = 0; j < w; j++) {
        expect(
          Object.is(
            num(data.data[r * w + j] as number | string),
            paddedAt(padded, batchFirst, order[i] as number, step, j),
          ),
        ).toBe(true);
      }
    }
  });
}

describe('packed.json', () => {
  const { recurrent, unpack, pack, errors } = packedFixtures;

  it('is from PyTorch 1.13 and covers every cell type', () => {
    expect(packedFixtures.torch).toMatch(/^1\.13/);
    for (const m of ['RNN', 'LSTM', 'GRU'] as const) {
      expect(recurrent.filter((c) => c.module === m).length).toBeGreaterThanOrEqual(12);
    }
    expect(new Set(recurrent.map((c) => `${c.module} ${c.name}`)).size).toBe(recurrent.length);
  });

  describe.each(recurrent.map((c) => [`${c.module} ${c.name}`, c] as const))('recurrent %s', (_, c) => {
    const { config: cfg, lengths } = c;
    const n = lengths.length;
    const T = Math.max(...lengths);
    const d = cfg.bidirectional ? 2 : 1;
    const out = cfg.projSize || cfg.hiddenSize;

    it('packs the padded input as its lengths say', () => {
      const padT = c.padded.shape[cfg.batchFirst ? 1 : 0] as number;
      expect(c.padded.shape).toEqual(cfg.batchFirst ? [n, padT, cfg.inputSize] : [padT, n, cfg.inputSize]);
      expect(T).toBeLessThanOrEqual(padT);
      expect(Math.min(...lengths)).toBeGreaterThanOrEqual(1);
      expect(c.packed.data.shape).toEqual([sum(lengths), cfg.inputSize]);
      const order = checkPacked(c.packed, lengths, c.enforceSorted);
      checkRows(c.packed, c.packed.data, c.padded, cfg.batchFirst, order);
    });

    it('has outputs of the right shapes, finite, zero past each length', () => {
      expect(c.outputLengths).toEqual(lengths);
      expect(c.outputData.shape).toEqual([sum(lengths), d * out]);
      expect(c.output.shape).toEqual(cfg.batchFirst ? [n, T, d * out] : [T, n, d * out]);
      expect(c.hN.shape).toEqual([d * cfg.numLayers, n, out]);
      for (const t of [c.outputData, c.output, c.hN, ...(c.cN ? [c.cN] : [])]) {
        expect(t.data.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
      }
      const order = c.packed.sortedIndices ?? lengths.map((_, i) => i);
      checkRows(c.packed, c.outputData, c.output, cfg.batchFirst, order);
      lengths.forEach((len, b) => {
        for (let t = len; t < T; t++) {
          for (let j = 0; j < d * out; j++) expect(paddedAt(c.output, cfg.batchFirst, b, t, j)).toBe(0);
        }
      });
    });

    it('has states as the module takes and returns them', () => {
      expect(c.h0 === null || c.h0.shape.join() === c.hN.shape.join()).toBe(true);
      if (c.module === 'LSTM') {
        expect(c.c0 === null).toBe(c.h0 === null);
        expect(c.cN?.shape).toEqual([d * cfg.numLayers, n, cfg.hiddenSize]);
        if (c.c0) expect(c.c0.shape).toEqual(c.cN?.shape);
      } else {
        expect(c.c0).toBeNull();
        expect(c.cN).toBeNull();
      }
      expect(c.stateDict.weight_ih_l0?.shape[1]).toBe(cfg.inputSize);
      expect('bias_ih_l0' in c.stateDict).toBe(cfg.bias);
      expect(`weight_hh_l${cfg.numLayers - 1}${cfg.bidirectional ? '_reverse' : ''}` in c.stateDict).toBe(
        true,
      );
      expect(c.train).toBe(cfg.dropout > 0);
    });
  });

  it.each(unpack.map((c) => [c.name, c] as const))('unpack %s', (_, c) => {
    const { packed } = c;
    const n = packed.batchSizes[0] as number;
    const sorted = packed.sortedIndices ?? [...Array(n).keys()];
    const sortedLengths = sorted.map((_, i) => packed.batchSizes.filter((b) => b > i).length);
    const lengths = Array<number>(n);
    sorted.forEach((b, i) => {
      lengths[b] = sortedLengths[i] as number;
    });
    expect(c.lengths).toEqual(lengths);
    checkPacked(packed, c.lengths, packed.sortedIndices === null);
    const T = c.totalLength ?? Math.max(...lengths);
    const trailing = packed.data.shape.slice(1);
    expect(c.output.shape).toEqual(c.batchFirst ? [n, T, ...trailing] : [T, n, ...trailing]);
    checkRows(packed, packed.data, c.output, c.batchFirst, sorted);
    const pad = num(c.paddingValue);
    lengths.forEach((len, b) => {
      for (let t = len; t < T; t++) {
        for (let j = 0; j < rowWidth(c.output, 2); j++) {
          expect(Object.is(paddedAt(c.output, c.batchFirst, b, t, j), pad)).toBe(true);
        }
      }
    });
  });

  it.each(pack.map((c) => [c.name, c] as const))('pack %s', (_, c) => {
    const lengths = c.sequences.map((s) => s.shape[0] as number);
    const trailing = c.sequences[0]?.shape.slice(1) ?? [];
    for (const s of c.sequences) expect(s.shape.slice(1)).toEqual(trailing);
    expect(c.packed.data.shape).toEqual([sum(lengths), ...trailing]);
    const order = checkPacked(c.packed, lengths, c.enforceSorted);
    // pack_sequence is pack_padded_sequence of pad_sequence: check the rows against the (seq-first) padded copy
    const padded = c.padSequence.find((p) => !p.batchFirst) ?? c.padSequence[0];
    if (padded) checkRows(c.packed, c.packed.data, padded.output, padded.batchFirst, order);
    for (const p of c.padSequence) {
      const T = Math.max(...lengths);
      expect(p.output.shape).toEqual(
        p.batchFirst ? [lengths.length, T, ...trailing] : [T, lengths.length, ...trailing],
      );
      const w = rowWidth(p.output, 2);
      c.sequences.forEach((s, b) => {
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < w; j++) {
            const want =
              t < (lengths[b] as number) ? num(s.data[t * w + j] as number | string) : num(p.paddingValue);
            expect(Object.is(paddedAt(p.output, p.batchFirst, b, t, j), want)).toBe(true);
          }
        }
      });
    }
  });

  it("records PyTorch's messages for bad input", () => {
    const byName = new Map(errors.map((e) => [e.name, e]));
    const message = (name: string) => byName.get(name)?.message;
    expect(message('unsorted_enforce_sorted')).toMatch(/^`lengths` array must be sorted in decreasing order/);
    expect(message('zero_length_sorted')).toBe(
      "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0",
    );
    expect(message('more_lengths_than_batch')).toBe(
      'Expected `len(lengths)` to be equal to batch_size, but got 4 (batch_size=3)',
    );
    expect(message('total_length_too_short')).toBe(
      'Expected total_length to be at least the length of the longest sequence in input, but got total_length=4 and max sequence length being 5',
    );
    // PyTorch 1.13 does not check a length greater than T: it returns too few data rows
    const over = byName.get('length_greater_than_T');
    expect(over?.message).toBeNull();
    expect(over?.result?.dataShape[0]).toBeLessThan(sum(over?.result?.batchSizes ?? []));
    for (const e of errors) expect(e.message === null).toBe(e.type === null);
  });
});

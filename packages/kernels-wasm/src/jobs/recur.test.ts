import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fill, random } from '../../../tensor/src/testing/gemm-case.js';
import { NULL_PTR, type Ptr } from '../runtime/arena.js';
import type { WasmExecutor } from '../runtime/executor.js';
import { executors, expectClose, suiteExecutor } from '../testing/executors.js';
import { caseRows, type RecurCase, type RecurData, recurReference } from '../testing/recur-reference.js';
import { enableRelaxedSimd } from '../testing/relaxed-simd.js';
import { packedGemmJob } from './gemm.js';
import { packedFloats, packTransposedJob } from './pack.js';
import {
  type CellMode,
  cellGates,
  packedSteps,
  projectRecurJob,
  recurJob,
  recurLayout,
  recurScratchFloats,
} from './recur.js';

// the relaxed-SIMD build (fused multiply-adds) where this engine has it, else the plain one; and the plain
enableRelaxedSimd();

/** Random inputs for a case; weights scaled by 1/√fan-in as PyTorch initializes them. */
function dataFor(k: RecurCase, seed: number): RecurData {
  const rnd = random(seed);
  const P = k.proj || k.H;
  const GH = cellGates(k.mode) * k.H;
  const scaled = (n: number, fanIn: number) => fill(n, () => rnd() / Math.sqrt(fanIn));
  return {
    gx: fill(caseRows(k) * GH, rnd),
    whh: scaled(GH * P, P),
    bhh: k.bias ? scaled(GH, P) : null,
    whr: k.proj ? scaled(P * k.H, k.H) : null,
    h0: fill(k.N * P, rnd),
    c0: fill(k.N * k.H, rnd),
  };
}

/**
 * Runs the case on the kernels: rows split into `threads` jobs (multiples of 4) when N ≥ 8. Packed, in
 * chunks of `chunk` steps (default all T), each job pointing into the middle of one steps table, the
 * state carried from chunk to chunk (the reverse direction's chunks from the end).
 */
function runRecur(
  ex: WasmExecutor,
  k: RecurCase,
  d: RecurData,
  chunk = k.T,
): { out: Float32Array; h: Float32Array; c: Float32Array } {
  const { mode, T, N, H } = k;
  const P = k.proj || H;
  const GH = cellGates(mode) * H;
  const layout = recurLayout(N);
  return ex.arena.withScratch((s) => {
    const pack = (w: Float32Array, rows: number, cols: number) => {
      const dst = s.alloc(packedFloats(layout, cols, rows));
      ex.run([packTransposedJob(layout, s.put(w).at(), rows, cols, dst.at())]);
      return dst;
    };
    const whh = pack(d.whh, GH, P);
    const whr = d.whr ? pack(d.whr, P, H) : null;
    const gx = s.put(d.gx);
    const out = s.alloc(caseRows(k) * P).fill(Number.NaN); // every element must be written
    const c = s.put(d.c0);
    const [strideT, strideN] = k.batchFirst ? [1, T] : [N, 1];
    const size = N >= 8 ? Math.ceil(N / ex.threads / 4) * 4 : N;
    const parts: [number, number][] = [];
    for (let from = 0; from < N; from += size) parts.push([from, Math.min(N, from + size)]);
    const scratch = s.alloc(recurScratchFloats(mode, N, H, whr !== null));
    const h0 = s.put(d.h0);
    if (k.batchSizes) {
      const table = packedSteps(k.batchSizes);
      const steps = s.alloc(table.length);
      steps.i32.set(table);
      const starts = Array.from({ length: Math.ceil(T / chunk) }, (_, i) => i * chunk);
      for (const t0 of k.reverse ? starts.reverse() : starts) {
        const row = table[2 * t0] as number;
        const job = {
          ...{ mode, T: Math.min(chunk, T - t0), N, H, P, gx: gx.at(row * GH), gxRow: GH, gxStep: 0 },
          ...{ out: out.at(row * P), outRow: P, outStep: 0, h0: h0.at(), steps: steps.at(2 * t0) },
          ...{ c: mode === 'LSTM' ? c.at() : null, whh: whh.at(), whr: whr?.at() ?? null },
          ...{ bhh: d.bhh ? s.put(d.bhh).at() : null, scratch: scratch.at(), reverse: k.reverse },
        };
        ex.run(parts.map((rows) => recurJob({ ...job, rows })));
      }
      return { out: out.read(), h: h0.read(), c: c.read() };
    }
    ex.run(
      parts.map((rows) =>
        recurJob({
          ...{ mode, T, N, H, P, gx: gx.at(), gxRow: strideN * GH, gxStep: strideT * GH },
          ...{ out: out.at(), outRow: strideN * P, outStep: strideT * P, h0: h0.at() },
          ...{ c: mode === 'LSTM' ? c.at() : null, whh: whh.at(), whr: whr?.at() ?? null },
          ...{ bhh: d.bhh ? s.put(d.bhh).at() : null, scratch: scratch.at(), reverse: k.reverse, rows },
        }),
      ),
    );
    return { out: out.read(), h: h0.read(), c: c.read() };
  });
}

const MODES: CellMode[] = ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'];
const base: RecurCase = {
  ...{ mode: 'LSTM', T: 6, N: 1, H: 8, proj: 0 },
  ...{ reverse: false, batchFirst: false, bias: true },
};

describe.each(executors)('recurJob ($name) equals a plain loop', ({ create }) => {
  const suite = suiteExecutor(create);

  const check = (k: RecurCase, seed = 1, chunk = k.T) => {
    const d = dataFor(k, seed);
    const want = recurReference(k, d);
    const got = runRecur(suite.ex, k, d, chunk);
    expectClose(got.out, want.out, `${JSON.stringify(k)} out`, 2e-5, 1e-4);
    if (k.batchSizes) expectClose(got.h, want.h, `${JSON.stringify(k)} h`, 2e-5, 1e-4);
    if (k.mode === 'LSTM') expectClose(got.c, want.c, `${JSON.stringify(k)} c`, 2e-5, 1e-4);
  };

  it.each(MODES)('%s: a batch of one (the row kernel), H = 64 and odd H = 33', (mode) => {
    check({ ...base, mode, N: 1, H: 64, T: 20 });
    check({ ...base, mode, N: 1, H: 33, T: 7, reverse: true });
  });

  it.each(MODES)('%s: batches of 3, 8 and 13 with odd H, both row orders, split over threads', (mode) => {
    check({ ...base, mode, N: 3, H: 7 });
    check({ ...base, mode, N: 8, H: 33, batchFirst: true, reverse: true });
    check({ ...base, mode, N: 13, H: 20, bias: false });
  });

  it('LSTM with a projection (projSize < H), batch 1 and 9, odd sizes', () => {
    check({ ...base, N: 1, H: 33, proj: 5, T: 9 });
    check({ ...base, N: 9, H: 33, proj: 17, batchFirst: true });
    check({ ...base, N: 9, H: 40, proj: 39, reverse: true, bias: false });
  });

  it('hidden sizes deeper than one packed block (P > 256)', () => {
    check({ ...base, mode: 'GRU', N: 5, H: 260, T: 3 });
    check({ ...base, mode: 'LSTM', N: 1, H: 300, T: 3 });
  });

  it('on random cases (property)', () => {
    const cases = fc.record({
      mode: fc.constantFrom(...MODES),
      T: fc.integer({ min: 1, max: 6 }),
      N: fc.integer({ min: 1, max: 12 }),
      H: fc.integer({ min: 1, max: 40 }),
      proj: fc.integer({ min: 0, max: 12 }),
      reverse: fc.boolean(),
      batchFirst: fc.boolean(),
      bias: fc.boolean(),
    });
    fc.assert(
      fc.property(cases, fc.nat(), (k, seed) => {
        const proj = k.mode === 'LSTM' && k.proj < k.H ? k.proj : 0;
        check({ ...k, proj }, seed);
      }),
      { numRuns: 120 },
    );
  });

  it.each(MODES)(
    '%s packed: rows stop at their own last step, reverse starts each at its own end',
    (mode) => {
      // N = 1 (the row kernel), and batches that shrink through a tile, past a thread split and to one row
      check({ ...base, mode, N: 1, H: 40, T: 5, batchSizes: [1, 1, 1, 1, 1] });
      check({ ...base, mode, N: 3, H: 7, T: 4, batchSizes: [3, 2, 2, 1] });
      check({ ...base, mode, N: 3, H: 7, T: 4, batchSizes: [3, 2, 2, 1], reverse: true });
      const sizes = [13, 13, 11, 9, 8, 8, 5, 4, 1];
      check({ ...base, mode, N: 13, H: 20, T: 9, batchSizes: sizes, bias: false });
      check({ ...base, mode, N: 13, H: 33, T: 9, batchSizes: sizes, reverse: true });
      check({ ...base, mode, N: 10, H: 260, T: 3, batchSizes: [10, 6, 3], reverse: true });
    },
  );

  it('packed LSTM with a projection, forward and reverse', () => {
    const sizes = [9, 9, 7, 7, 2];
    check({ ...base, N: 9, H: 33, proj: 17, T: 5, batchSizes: sizes });
    check({ ...base, N: 9, H: 40, proj: 5, T: 5, batchSizes: sizes, reverse: true });
    check({ ...base, N: 1, H: 33, proj: 5, T: 4, batchSizes: [1, 1, 1, 1], reverse: true });
  });

  it.each(MODES)('%s packed in chunks of steps, the state carried between them', (mode) => {
    const sizes = [12, 11, 11, 8, 8, 6, 3, 3, 2, 1];
    for (const reverse of [false, true]) {
      check(
        { ...base, mode, N: 12, H: 19, T: 10, batchSizes: sizes, reverse, proj: mode === 'LSTM' ? 7 : 0 },
        2,
        3,
      );
      check({ ...base, mode, N: 1, H: 36, T: 7, batchSizes: [1, 1, 1, 1, 1, 1, 1], reverse }, 3, 2);
    }
  });

  it('packed, on random cases (property)', () => {
    const cases = fc.record({
      mode: fc.constantFrom(...MODES),
      lengths: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 12 }),
      H: fc.integer({ min: 1, max: 40 }),
      proj: fc.integer({ min: 0, max: 12 }),
      reverse: fc.boolean(),
      bias: fc.boolean(),
      chunk: fc.integer({ min: 1, max: 7 }),
    });
    fc.assert(
      fc.property(cases, fc.nat(), ({ lengths, chunk, ...k }, seed) => {
        const sorted = [...lengths].sort((a, b) => b - a);
        const T = sorted[0] as number;
        const batchSizes = Array.from({ length: T }, (_, t) => sorted.filter((l) => l > t).length);
        const proj = k.mode === 'LSTM' && k.proj < k.H ? k.proj : 0;
        check({ ...k, T, N: sorted.length, proj, batchFirst: false, batchSizes }, seed, chunk);
      }),
      { numRuns: 120 },
    );
  });

  it('computes 0·W_hh when h0 is zeros, so NaN in W_hh reaches the output (as in PyTorch)', () => {
    for (const mode of MODES) {
      const k: RecurCase = { ...base, mode, N: 2, H: 4, T: 1 };
      const d = dataFor(k, 3);
      d.h0.fill(0);
      d.whh[0] = Number.NaN; // gate row 0 reads h[0]: NaN·0 = NaN
      const { out } = runRecur(suite.ex, k, d);
      expect(Number.isNaN(out[0]), mode).toBe(true);
    }
  });

  it.each(MODES)(
    '%s: projectRecurJob is packedGemmJob then recurJob, to the bit (38 arguments, on a worker too)',
    (mode) => {
      const ex = suite.ex;
      const [T, N, I, H] = [11, 1, 9, 24];
      const GH = cellGates(mode) * H;
      const run = (together: boolean) =>
        ex.arena.withScratch((s) => {
          const rnd = random(5); // the same data for both runs
          const wih = s.alloc(packedFloats('blocks', I, GH));
          ex.run([packTransposedJob('blocks', s.put(fill(GH * I, rnd)).at(), GH, I, wih.at())]);
          const whh = s.alloc(packedFloats('rows', H, GH));
          ex.run([packTransposedJob('rows', s.put(fill(GH * H, rnd)).at(), GH, H, whh.at())]);
          const x = s.put(fill(T * I, rnd));
          const gx = s.alloc(T * GH).fill(Number.NaN); // rows [3, 9) projected, then their steps run
          const out = s.alloc(T * H).fill(0);
          const projection = {
            ...{ M: T, N: GH, K: I, a: x.at(), sai: I, sak: 1, b: wih.at(), bias: s.put(fill(GH, rnd)).at() },
            ...{ c: gx.at(), ldc: GH, rows: [3, 9] as const },
          };
          const r = {
            ...{ mode, T: 6, N, H, P: H, gx: gx.at(3 * GH), gxRow: GH, gxStep: GH, out: out.at(3 * H) },
            ...{ outRow: H, outStep: H, h0: s.put(fill(H, rnd)).at(), c: s.put(fill(H, rnd)).at() },
            ...{ whh: whh.at(), bhh: s.put(fill(GH, rnd)).at() },
            ...{ scratch: s.alloc(recurScratchFloats(mode, N, H, false)).at(), reverse: false },
          };
          if (!together) {
            ex.run([packedGemmJob(projection)]);
            ex.run([recurJob(r)]);
            return [gx.read(), out.read()];
          }
          // beside an unrelated job, so that on the pool it runs on the worker (its 38 arguments in a slot)
          const side = { ...projection, c: s.alloc(T * GH).at(), rows: [0, T] as const };
          ex.run([packedGemmJob(side), projectRecurJob(projection, r)]);
          return [gx.read(), out.read()];
        });
      const [want, got] = [run(false), run(true)];
      expect(got[0]).toEqual(want[0]);
      expect(got[1]).toEqual(want[1]);
      const ran = want[1]?.subarray(3 * H, 9 * H);
      expect(ran?.every(Number.isFinite) && ran.some((v) => v !== 0)).toBe(true);
    },
  );

  it('rejects an LSTM without c and a projection on another cell', () => {
    const common = { T: 1, N: 1, H: 2, P: 2, gx: NULL_PTR, gxRow: 0, gxStep: 0, out: NULL_PTR };
    const rest = { outRow: 0, outStep: 0, h0: NULL_PTR, whh: NULL_PTR, scratch: NULL_PTR, reverse: false };
    expect(() => recurJob({ ...common, ...rest, mode: 'LSTM' })).toThrow(
      'recurJob: an LSTM needs its cell state c',
    );
    expect(() => recurJob({ ...common, ...rest, mode: 'GRU', whr: 64 as Ptr })).toThrow(
      'recurJob: only an LSTM has a projection, not GRU',
    );
  });
});

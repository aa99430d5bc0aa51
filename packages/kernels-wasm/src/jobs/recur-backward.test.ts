import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fill, random } from '../../../tensor/src/testing/gemm-case.js';
import { NULL_PTR } from '../runtime/arena.js';
import type { WasmExecutor } from '../runtime/executor.js';
import { executors, expectClose, suiteExecutor } from '../testing/executors.js';
import { type RecurGrads, recurBackwardReference } from '../testing/recur-backward-reference.js';
import { caseRows, type RecurCase, type RecurData } from '../testing/recur-reference.js';
import { enableRelaxedSimd } from '../testing/relaxed-simd.js';
import { packedFloats, packJob, packTransposedJob } from './pack.js';
import {
  type CellMode,
  cellGates,
  packedSteps,
  recurJob,
  recurLayout,
  recurSaveFloats,
  recurScratchFloats,
} from './recur.js';
import { recurBackwardJob, recurBackwardScratchFloats } from './recur-backward.js';

enableRelaxedSimd();

function dataFor(
  k: RecurCase,
  seed: number,
): RecurData & { dOut: Float32Array; dhN: Float32Array; dcN: Float32Array } {
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
    dOut: fill(caseRows(k) * P, rnd),
    dhN: fill(k.N * P, rnd),
    dcN: fill(k.N * k.H, rnd),
  };
}

/**
 * The forward (`recurJob` saving) then `recurBackwardJob` on the kernels, rows split over the threads
 * (multiples of 4) when N ≥ 8; the Elman cell in place (gx = out), as `@recurrent/nn` runs it.
 */
function runBackward(ex: WasmExecutor, k: RecurCase, d: ReturnType<typeof dataFor>): RecurGrads {
  const { mode, T, N, H } = k;
  const P = k.proj || H;
  const GH = cellGates(mode) * H;
  const rows = caseRows(k);
  const elman = GH === H;
  const SW = recurSaveFloats(mode, H, P, k.proj > 0);
  return ex.arena.withScratch((s) => {
    const packT = (w: Float32Array, r: number, c: number) => {
      const dst = s.alloc(packedFloats(recurLayout(N), c, r));
      ex.run([packTransposedJob(recurLayout(N), s.put(w).at(), r, c, dst.at())]);
      return dst;
    };
    const plain = (w: Float32Array, r: number, c: number) => {
      const dst = s.alloc(packedFloats('blocks', r, c));
      ex.run([packJob({ layout: 'blocks', K: r, N: c, b: s.put(w).at(), sbp: c, sbj: 1, dst: dst.at() })]);
      return dst;
    };
    const out = elman ? s.put(d.gx) : s.alloc(rows * P);
    const gx = elman ? out : s.put(d.gx);
    const save = s.alloc(rows * SW);
    const state = s.put(d.h0);
    const c = s.put(d.c0);
    const steps = k.batchSizes ? s.alloc(2 * T) : null;
    steps?.i32.set(packedSteps(k.batchSizes as number[]));
    const [strideT, strideN] = k.batchFirst && !k.batchSizes ? [1, T] : [N, 1];
    const size = N >= 8 ? Math.ceil(N / ex.threads / 4) * 4 : N;
    const parts: [number, number][] = [];
    for (let from = 0; from < N; from += size) parts.push([from, Math.min(N, from + size)]);
    const scratch = s.alloc(Math.max(recurScratchFloats(mode, N, H, k.proj > 0), 1));
    const whr = d.whr ? packT(d.whr, P, H) : null;
    const forward = {
      ...{ mode, T, N, H, P, gx: gx.at(), gxRow: strideN * GH, gxStep: strideT * GH },
      ...{ out: out.at(), outRow: strideN * P, outStep: strideT * P, h0: state.at(), c: c.at() },
      ...{ whh: packT(d.whh, GH, P).at(), bhh: d.bhh ? s.put(d.bhh).at() : null, whr: whr?.at() ?? null },
      ...{ scratch: scratch.at(), reverse: k.reverse, steps: steps?.at() ?? null },
      ...{ save: save.at(), saveRow: strideN * SW, saveStep: strideT * SW },
    };
    ex.run(parts.map((rows) => recurJob(forward, rows)));
    const [dh, dc, dGx, dGh] = [s.put(d.dhN), s.put(d.dcN), s.alloc(rows * GH), s.alloc(rows * GH)];
    const back = {
      ...{ mode, T, N, H, P, strideT, strideN, gates: elman ? out.at() : gx.at(), gatesLd: GH },
      ...{ save: save.at(), saveLd: SW, dOut: s.put(d.dOut).at(), dOutLd: P, dh: dh.at(), dc: dc.at() },
      ...{ dGx: dGx.at(), dGh: dGh.at(), dhAll: whr ? s.alloc(rows * P).at() : null },
      ...{ whh: plain(d.whh, GH, P).at(), whr: d.whr ? plain(d.whr, P, H).at() : null },
      ...{ scratch: s.alloc(recurBackwardScratchFloats(N, H, P, k.proj > 0)).at(), reverse: k.reverse },
      steps: steps?.at() ?? null,
    };
    ex.run(parts.map((rows) => recurBackwardJob(back, rows)));
    const f64 = (b: { read(): Float32Array }) => Float64Array.from(b.read());
    return { dGx: f64(dGx), dGh: mode === 'GRU' ? f64(dGh) : f64(dGx), dh0: f64(dh), dc0: f64(dc) };
  });
}

const MODES: CellMode[] = ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'];
const base: RecurCase = {
  ...{ mode: 'LSTM', T: 5, N: 1, H: 8, proj: 0 },
  ...{ reverse: false, batchFirst: false, bias: true },
};

describe.each(executors)('recurBackwardJob ($name) equals a plain loop', ({ create }) => {
  const suite = suiteExecutor(create);

  const check = (k: RecurCase, seed = 1) => {
    const d = dataFor(k, seed);
    const want = recurBackwardReference(k, d, d.dOut, d.dhN, d.dcN);
    const got = runBackward(suite.ex, k, d);
    const name = JSON.stringify(k);
    expectClose(got.dGx, want.dGx, `${name} dGx`, 5e-5, 2e-4);
    if (k.mode === 'GRU') expectClose(got.dGh, want.dGh, `${name} dGh`, 5e-5, 2e-4);
    expectClose(got.dh0, want.dh0, `${name} dh0`, 5e-5, 2e-4);
    if (k.mode === 'LSTM') expectClose(got.dc0, want.dc0, `${name} dc0`, 5e-5, 2e-4);
  };

  it.each(MODES)('%s: batches of 1, 3, 9 and 13, odd H, both row orders, both directions', (mode) => {
    check({ ...base, mode, N: 1, H: 33, T: 7 });
    check({ ...base, mode, N: 3, H: 7, reverse: true });
    check({ ...base, mode, N: 9, H: 20, batchFirst: true, bias: false });
    check({ ...base, mode, N: 13, H: 35, T: 3, reverse: true, batchFirst: true });
  });

  it('LSTM with a projection, and depths past one packed block (G·H > 256)', () => {
    check({ ...base, N: 1, H: 33, proj: 5, T: 6 });
    check({ ...base, N: 9, H: 40, proj: 17, reverse: true, batchFirst: true });
    check({ ...base, mode: 'GRU', N: 5, H: 100, T: 3 });
    check({ ...base, N: 2, H: 70, proj: 65, T: 2 });
  });

  it.each(MODES)('%s packed: rows join and stop at their own steps', (mode) => {
    const proj = mode === 'LSTM' ? 5 : 0;
    check({ ...base, mode, N: 1, H: 12, T: 4, batchSizes: [1, 1, 1, 1] });
    check({ ...base, mode, N: 3, H: 7, T: 4, batchSizes: [3, 2, 2, 1], reverse: true, proj });
    check({ ...base, mode, N: 13, H: 20, T: 6, batchSizes: [13, 13, 11, 9, 4, 1], proj });
  });

  it('on random cases (property)', () => {
    const cases = fc.record({
      mode: fc.constantFrom(...MODES),
      T: fc.integer({ min: 1, max: 5 }),
      N: fc.integer({ min: 1, max: 12 }),
      H: fc.integer({ min: 1, max: 24 }),
      proj: fc.integer({ min: 0, max: 8 }),
      reverse: fc.boolean(),
      batchFirst: fc.boolean(),
      bias: fc.boolean(),
    });
    fc.assert(
      fc.property(cases, fc.nat(), (k, seed) => {
        const proj = k.mode === 'LSTM' && k.proj < k.H ? k.proj : 0;
        check({ ...k, proj }, seed);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects missing buffers', () => {
    const common = { T: 1, N: 1, H: 2, P: 2, strideT: 1, strideN: 1, gates: NULL_PTR, gatesLd: 2 };
    const rest = { save: NULL_PTR, saveLd: 2, dOut: NULL_PTR, dOutLd: 2, dh: NULL_PTR, dGx: NULL_PTR };
    const more = { whh: NULL_PTR, scratch: NULL_PTR, reverse: false };
    expect(() => recurBackwardJob({ ...common, ...rest, ...more, mode: 'LSTM' })).toThrow(
      'recurBackwardJob: an LSTM needs the gradient of c',
    );
    expect(() => recurBackwardJob({ ...common, ...rest, ...more, mode: 'GRU' })).toThrow(
      'recurBackwardJob: a GRU needs dGh',
    );
  });
});

import {
  add,
  cpuData,
  div,
  Generator,
  logSoftmax,
  mul,
  neg,
  randn,
  recordGradFn,
  sum,
  Tensor,
} from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { recordCrossEntropy, recordCrossEntropyBackward } from './cross-entropy.js';
import type { LossReduction } from './mse.js';

const { runtime, reason } = await testRuntime();

interface Options {
  weight: Float32Array | null;
  ignoreIndex: number;
  ls: number;
  reduction: LossReduction;
}

/**
 * loss.ts's crossEntropyLoss for (rows, C) logits and int32 targets, op for op on the CPU tensor ops
 * (nll is its one recorded node, copied), then its autograd backward from `up`.
 */
function crossEntropyCpu(
  x: Float32Array,
  t: Int32Array,
  rows: number,
  c: number,
  o: Options,
  up: Float32Array,
) {
  const input = Tensor.fromArray(x.slice(), [rows, c]).requiresGrad_();
  const logp = logSoftmax(input, 1);
  const lp = cpuData(logp);
  const losses = new Float32Array(rows);
  const weights = new Float32Array(rows);
  let total = 0;
  let totalWeight = 0;
  for (let k = 0; k < rows; k++) {
    const cls = t[k] as number;
    if (cls === o.ignoreIndex) continue;
    const wk = o.weight ? (o.weight[cls] as number) : 1;
    losses[k] = -wk * (lp[k * c + cls] as number);
    weights[k] = wk;
    total += losses[k] as number;
    totalWeight += wk;
  }
  const r = o.reduction;
  const nllOut = recordGradFn(
    Tensor.fromArray(
      r === 'none'
        ? losses
        : Float32Array.of(r === 'sum' ? total : Math.fround(total) / Math.fround(totalWeight)),
      r === 'none' ? [rows] : [],
    ),
    'NllLossBackward0',
    [logp],
    [],
    (g) => {
      const gy = cpuData(g);
      const divisor = r === 'mean' ? Math.fround(totalWeight) : 1;
      const gx = new Float32Array(rows * c);
      for (let k = 0; k < rows; k++) {
        const wk = weights[k] as number;
        if (wk === 0) continue;
        const u = r === 'none' ? (gy[k] as number) : Math.fround((gy[0] as number) / divisor);
        gx[k * c + (t[k] as number)] = -wk * u;
      }
      return [Tensor.fromArray(gx, [rows, c])];
    },
  );
  let loss = nllOut;
  if (o.ls > 0) {
    const keep = Float32Array.from(t, (cls) => (cls === o.ignoreIndex ? 0 : 1));
    const perClass = o.weight ? mul(logp, Tensor.fromArray(o.weight, [c])) : logp;
    const smooth = mul(neg(sum(perClass, 1)), Tensor.fromArray(keep, [rows]));
    const ret =
      r === 'none' ? smooth : r === 'sum' ? sum(smooth) : div(sum(smooth), Math.fround(totalWeight));
    loss = add(mul(nllOut, 1 - o.ls), mul(ret, o.ls / c));
  }
  loss.backward(Tensor.fromArray(up, r === 'none' ? [rows] : []));
  return { loss: cpuData(loss) as Float32Array, grad: cpuData(input.grad as Tensor) };
}

describe.skipIf(!runtime)(
  `cross-entropy kernels against loss.ts's ops${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    async function run(
      x: Float32Array,
      t: Int32Array,
      rows: number,
      classes: number,
      o: Options,
      up: Float32Array,
    ) {
      const n = o.reduction === 'none' ? rows : 1;
      const logitsT = gpu.fromCpu(Tensor.fromArray(x, [rows, classes]));
      const targetsT = gpu.fromCpu(Tensor.fromArray(t, [rows]));
      const upT = gpu.fromCpu(Tensor.fromArray(up, [up.length]));
      const weightT = o.weight ? gpu.fromCpu(Tensor.fromArray(o.weight, [classes])) : null;
      const out = gpu.acquire(n * 4, STORAGE_USAGE);
      const denom = gpu.acquire(4, STORAGE_USAGE);
      const gradIn = gpu.acquire(rows * classes * 4, STORAGE_USAGE);
      const args = {
        ...{
          logits: gpu.bufferOf(logitsT, 'logits'),
          targets: gpu.bufferOf(targetsT, 'targets'),
          rows,
          classes,
        },
        ...{ weight: weightT ? gpu.bufferOf(weightT, 'weight') : null, ignoreIndex: o.ignoreIndex },
        ...{ labelSmoothing: o.ls, reduction: o.reduction, denom },
      };
      const rec = gpu.recorder();
      recordCrossEntropy(rec, { ...args, out });
      recordCrossEntropyBackward(rec, { ...args, gradOut: gpu.bufferOf(upT, 'gradOut'), gradIn });
      rec.submit();
      const got = {
        loss: await gpu.read(out, n),
        denom: await gpu.read(denom, 1),
        grad: await gpu.read(gradIn, rows * classes),
      };
      for (const b of [logitsT, targetsT, upT, weightT]) b?.dispose();
      for (const b of [out, denom, gradIn]) gpu.release(b);
      return got;
    }

    // the row sums (log Σ exp, the smoothing term, Σ_c of the gradient) and the reduction over rows add in
    // float32 trees where the CPU adds in float64, yet stay within the elementwise tolerance (at most 0.15 of
    // it on SwiftShader over these cases)
    const close = (got: Float32Array, want: Float32Array, what: string) => {
      const bad = [...got].flatMap((v, i) => {
        const w = want[i] as number;
        const ok = Number.isFinite(w)
          ? Math.abs(v - w) <= 1e-6 + 1e-5 * Math.abs(w)
          : Object.is(v, w) || (Number.isNaN(v) && Number.isNaN(w));
        return ok ? [] : [`${what}[${i}]: ${v} vs ${w}`];
      });
      expect(bad.slice(0, 5)).toEqual([]);
    };

    function data(rows: number, classes: number, seed: number, ignoreIndex: number, scale = 1) {
      const gen = new Generator(seed);
      const x = randn([rows * classes], { generator: gen })
        .dataSync()
        .map((v) => v * scale);
      const t = Int32Array.from({ length: rows }, (_, r) =>
        r % 4 === 3 ? ignoreIndex : (r * 7919 + seed) % classes,
      );
      // a class of weight 0 (its rows get no nll gradient; the CPU skips them)
      const weight = randn([classes], { generator: gen })
        .dataSync()
        .map((v, c) => (c === 1 && classes > 2 ? 0 : 0.5 + Math.abs(v)));
      return { x, t, weight, gen };
    }

    const shapes = [1, 5, 300].flatMap((rows) => [1, 3, 65, 1000].map((classes) => [rows, classes] as const));
    const cases = shapes.flatMap(([rows, classes], i) =>
      (['mean', 'sum', 'none'] as const).map(
        (reduction, j) => [rows, classes, reduction, (i + j) % 2 === 0, (i + j) % 3 === 0 ? 0 : 0.1] as const,
      ),
    );
    it.each(cases)(
      '%i rows × %i classes, %s, weight %s, label smoothing %s (logits ×60)',
      async (rows, classes, reduction, weighted, ls) => {
        const { x, t, weight, gen } = data(rows, classes, rows * classes, -100, 60);
        const o = { weight: weighted ? weight : null, ignoreIndex: -100, ls, reduction };
        const up = randn([reduction === 'none' ? rows : 1], { generator: gen }).dataSync();
        const got = await run(x, t, rows, classes, o, up);
        const want = crossEntropyCpu(x, t, rows, classes, o, up);
        close(got.loss, want.loss, 'loss');
        close(got.grad, want.grad, 'grad');
        const kept = [...t].reduce(
          (s, cls) => (cls === -100 ? s : s + (weighted ? (weight[cls] as number) : 1)),
          0,
        );
        close(got.denom, Float32Array.of(reduction === 'mean' ? kept : 1), 'denom');
      },
    );

    it.each([0, 0.1])(
      'ignoreIndex as a class (2) with label smoothing %s: ignored rows get 0 loss and 0 gradient',
      async (ls) => {
        const { x, t } = data(7, 5, 3, 2);
        for (const reduction of ['none', 'mean'] as const) {
          const o = { weight: null, ignoreIndex: 2, ls, reduction };
          const up = Float32Array.from({ length: reduction === 'none' ? 7 : 1 }, (_, i) => i + 1);
          const got = await run(x, t, 7, 5, o, up);
          const want = crossEntropyCpu(x, t, 7, 5, o, up);
          close(got.loss, want.loss, 'loss');
          close(got.grad, want.grad, 'grad');
          t.forEach((cls, r) => {
            if (cls !== 2) return;
            if (reduction === 'none') expect(got.loss[r]).toBe(0);
            expect([...got.grad.subarray(r * 5, r * 5 + 5)].every((v) => v === 0)).toBe(true);
          });
        }
      },
    );

    it.each([0, 0.1])('all rows ignored (label smoothing %s): mean is NaN (0/0), sum 0', async (ls) => {
      const { x } = data(3, 4, 1, -100);
      const t = Int32Array.of(-100, -100, -100);
      for (const reduction of ['mean', 'sum'] as const) {
        const o = { weight: null, ignoreIndex: -100, ls, reduction };
        const got = await run(x, t, 3, 4, o, Float32Array.of(1));
        const want = crossEntropyCpu(x, t, 3, 4, o, Float32Array.of(1));
        close(got.loss, want.loss, 'loss');
        close(got.grad, want.grad, 'grad');
        expect(Number.isNaN(got.loss[0])).toBe(reduction === 'mean');
      }
    });

    it('NaN and ±Inf logits, and an out-of-range target, give NaN as the CPU (no readback to throw)', async () => {
      const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];
      const x = Float32Array.from([1, nan, 2, 1, inf, 2, -inf, -inf, -inf, 0, -inf, 3, 1, 2, 3]);
      const t = Int32Array.of(0, 0, 0, 1, 1);
      const o = { weight: null, ignoreIndex: -100, ls: 0.1, reduction: 'none' as const };
      const up = Float32Array.of(1, 1, 1, 1, 1);
      const got = await run(x, t, 5, 3, o, up);
      const want = crossEntropyCpu(x, t, 5, 3, o, up);
      close(got.loss, want.loss, 'loss');
      close(got.grad, want.grad, 'grad');
      const bad = await run(x, Int32Array.of(0, 1, 2, 3, -1), 5, 3, { ...o, ls: 0 }, up);
      expect(Number.isNaN(bad.loss[3]) && Number.isNaN(bad.loss[4])).toBe(true);
      expect([...bad.grad.subarray(9)].every(Number.isNaN)).toBe(true);
    });
  },
);

import { Generator, randn, Tensor } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { type LossReduction, recordMse, recordMseBackward } from './mse.js';

const { runtime, reason } = await testRuntime();
const f32 = Math.fround;

/** loss.ts: d = x − t, d² per element in float32; the sum in float64, rounded, ÷ n for the mean. */
function mseCpu(x: Float32Array, t: Float32Array, reduction: LossReduction): Float32Array {
  const sq = x.map((v, i) => {
    const d = f32(v - (t[i] as number));
    return d * d;
  });
  if (reduction === 'none') return sq;
  const acc = f32(sq.reduce((s, v) => s + v, 0));
  return Float32Array.of(reduction === 'mean' ? acc / x.length : acc);
}

/** MseLossBackward0: up = g (÷ n for the mean), v = up·(x − t), gradIn = v + v. */
function mseBackwardCpu(
  x: Float32Array,
  t: Float32Array,
  g: Float32Array,
  reduction: LossReduction,
): Float32Array {
  return x.map((v, i) => {
    const up =
      reduction === 'none'
        ? (g[i] as number)
        : reduction === 'mean'
          ? f32((g[0] as number) / x.length)
          : (g[0] as number);
    const w = f32(up * f32(v - (t[i] as number)));
    return w + w;
  });
}

describe.skipIf(!runtime)(
  `mse kernels against loss.ts's float32 steps${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    async function run(x: Float32Array, t: Float32Array, g: Float32Array, reduction: LossReduction) {
      const length = x.length;
      const n = reduction === 'none' ? length : 1;
      const [input, target, gradOut] = [x, t, g].map((v) => gpu.fromCpu(Tensor.fromArray(v, [v.length]))) as [
        Tensor,
        Tensor,
        Tensor,
      ];
      const out = gpu.acquire(Math.max(4, n * 4), STORAGE_USAGE);
      const gradIn = gpu.acquire(Math.max(4, length * 4), STORAGE_USAGE);
      const rec = gpu.recorder();
      const common = {
        input: gpu.bufferOf(input, 'input'),
        target: gpu.bufferOf(target, 'target'),
        length,
        reduction,
      };
      recordMse(rec, { ...common, out });
      recordMseBackward(rec, { ...common, gradOut: gpu.bufferOf(gradOut, 'gradOut'), gradIn });
      rec.submit();
      const got = { loss: await gpu.read(out, n), grad: await gpu.read(gradIn, length) };
      for (const b of [input, target, gradOut]) b.dispose();
      for (const b of [out, gradIn]) gpu.release(b);
      return got;
    }

    const check = (got: Float32Array, want: Float32Array, rtol: number, atol: number) => {
      const bad = [...got].flatMap((v, i) => {
        const w = want[i] as number;
        const ok = Number.isFinite(w) ? Math.abs(v - w) <= atol + rtol * Math.abs(w) : Object.is(v, w);
        return ok ? [] : [`element ${i}: ${v} vs ${w}`];
      });
      expect(bad.slice(0, 5)).toEqual([]);
    };

    const cases = [1, 7, 1000, 65537].flatMap((length) =>
      (['mean', 'sum', 'none'] as const).map((r) => [length, r] as const),
    );
    it.each(cases)('%i elements, reduction %s: loss and gradient', async (length, reduction) => {
      const gen = new Generator(length);
      const x = randn([length], { generator: gen }).dataSync();
      const t = randn([length], { generator: gen }).dataSync();
      const g = randn([reduction === 'none' ? length : 1], { generator: gen }).dataSync();
      const got = await run(x, t, g, reduction);
      // the reductions add in another order (float32 tree here, float64 on the CPU)
      if (reduction === 'none') check(got.loss, mseCpu(x, t, reduction), 1e-5, 1e-6);
      else check(got.loss, mseCpu(x, t, reduction), 1e-4, 1e-5);
      check(got.grad, mseBackwardCpu(x, t, g, reduction), 1e-5, 1e-6);
    });

    it.each(['mean', 'sum', 'none'] as const)('NaN and ±Inf propagate (%s)', async (reduction) => {
      const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];
      const x = Float32Array.from([1, nan, 2, inf, 3, -inf, 4]);
      const t = Float32Array.from([0.5, 1, nan, 1, inf, 2, 3]);
      const g = Float32Array.from(reduction === 'none' ? [1, 2, 3, 4, 5, 6, 7] : [0.5]);
      const got = await run(x, t, g, reduction);
      check(got.loss, mseCpu(x, t, reduction), 1e-5, 1e-6);
      check(got.grad, mseBackwardCpu(x, t, g, reduction), 1e-5, 1e-6);
      expect(Number.isNaN(got.loss[reduction === 'none' ? 1 : 0])).toBe(true);
    });
  },
);

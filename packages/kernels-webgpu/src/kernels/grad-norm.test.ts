import { Generator, randn } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { recordClipScale, recordNorm } from './grad-norm.js';

const { runtime, reason } = await testRuntime();

const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];

// the CPU formulas of @recurrent/nn's clip-grad.ts, op for op (float64 sums, rounded once)
function normOf(x: Float32Array, p: number): number {
  if (p === inf) {
    let m = 0;
    for (const v of x) m = Number.isNaN(v) || Math.abs(v) > m ? Math.abs(v) : m;
    return m;
  }
  let s = 0;
  if (p === 2) for (const v of x) s += v * v;
  else if (p === 1) for (const v of x) s += Math.abs(v);
  else for (const v of x) s += Math.abs(v) ** p;
  return Math.fround(p === 1 ? s : p === 2 ? Math.sqrt(s) : s ** (1 / p));
}

function clipCpu(grads: Float32Array[], maxNorm: number, p: number) {
  const norms = Float32Array.from(grads, (g) => normOf(g, p));
  const total = normOf(norms, p);
  const coef = Math.min(Math.fround(Math.fround(maxNorm) / Math.fround(total + Math.fround(1e-6))), 1);
  return { norms, total, grads: grads.map((g) => g.map((v) => v * coef)) };
}

/** Non-finite values exactly (any NaN for NaN); others within 1e-5 + 1e-4·|want| (f32 vs float64 sums). */
function check(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [v, w] = [got[i] as number, want[i] as number];
    const ok = Number.isFinite(w)
      ? Math.abs(v - w) <= 1e-5 + 1e-4 * Math.abs(w)
      : Object.is(v, w) || (Number.isNaN(v) && Number.isNaN(w));
    if (!ok) expect(v, `${what}[${i}]`).toBe(w);
  }
}

const randomGrads = (sizes: number[], seed: number, std = 1): Float32Array[] =>
  sizes.map((n, i) =>
    randn([n], { generator: new Generator(seed * 100 + i) })
      .dataSync()
      .map((v) => v * std),
  );

describe.skipIf(!runtime)(
  `gradient-norm clipping kernels against clip-grad's CPU formulas${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    const upload = (x: Float32Array): GPUBuffer => {
      const b = gpu.acquire(Math.max(4, x.byteLength), STORAGE_USAGE);
      gpu.write(b, x);
      return b;
    };

    /** clip_grad_norm_ as the integrator records it: k norms, the total, k scalings; one submit. */
    async function clipGpu(grads: Float32Array[], maxNorm: number, normType: number) {
      const xs = grads.map(upload);
      const norms = upload(new Float32Array(grads.length).fill(-7)); // stale values must be overwritten
      const total = upload(Float32Array.of(-7));
      const rec = gpu.recorder();
      xs.forEach((x, i) => {
        recordNorm(rec, { x, length: (grads[i] as Float32Array).length, out: norms, outIndex: i, normType });
      });
      recordNorm(rec, { x: norms, length: grads.length, out: total, outIndex: 0, normType });
      for (const [i, x] of xs.entries()) {
        recordClipScale(rec, { x, length: (grads[i] as Float32Array).length, total, totalIndex: 0, maxNorm });
      }
      rec.submit();
      const got = {
        norms: await gpu.read(norms, grads.length),
        total: (await gpu.read(total, 1))[0] as number,
        grads: await Promise.all(xs.map((x, i) => gpu.read(x, (grads[i] as Float32Array).length))),
      };
      for (const b of [...xs, norms, total]) gpu.release(b);
      return got;
    }

    async function compare(grads: Float32Array[], maxNorm: number, p: number) {
      const [got, want] = [await clipGpu(grads, maxNorm, p), clipCpu(grads, maxNorm, p)];
      check(got.norms, want.norms, 'norms');
      check([got.total], [want.total], 'total');
      got.grads.forEach((g, i) => {
        check(g, want.grads[i] as Float32Array, `grad ${i}`);
      });
      return { got, want };
    }

    it.each([2, 1, inf, 3])('p = %s: norms, total and clipped grads of 5 grads of odd sizes', async (p) => {
      const grads = randomGrads([1, 7, 1000, 4099, 65537], 1);
      const { want } = await compare(grads, 1, p);
      expect(want.total).toBeGreaterThan(1.5); // the coef is < 1: the grads were scaled
    });

    it.each([2, 1, inf, 3])('p = %s: small grads keep coef 1 (unchanged bit for bit)', async (p) => {
      const grads = randomGrads([3, 257], 2, 1e-3);
      const { got } = await compare(grads, 5, p);
      got.grads.forEach((g, i) => {
        expect(g).toEqual(grads[i]);
      });
    });

    it.each([2, 3])('p = %s: huge and tiny grads (x² or |x|³ would leave f32 range)', async (p) => {
      await compare(randomGrads([100, 33, 5], 3, 1e25), 1, p);
      const { got, want } = await compare(randomGrads([100, 33, 5], 4, 1e-30), 1e-31, p);
      // tiny norms pass the absolute tolerance whatever they are: check them relatively
      check(
        got.norms.map((v, i) => v / (want.norms[i] as number)),
        [1, 1, 1],
        'norms / CPU norms',
      );
    });

    it.each([2, 1, inf, 3])('p = %s: a NaN gradient makes the total and every grad NaN', async (p) => {
      const grads = randomGrads([9, 300, 2], 5);
      (grads[1] as Float32Array)[123] = nan;
      (grads[1] as Float32Array)[7] = inf; // NaN wins over +Inf
      const { got } = await compare(grads, 1, p);
      expect(got.total).toBeNaN();
      for (const g of got.grads) expect(g.every(Number.isNaN)).toBe(true);
    });

    it.each([2, 1, inf, 3])(
      'p = %s: a +Inf gradient gives total +Inf and coef 0 (Inf·0 = NaN)',
      async (p) => {
        const grads = randomGrads([9, 300, 2], 6);
        (grads[2] as Float32Array)[1] = inf;
        const { got } = await compare(grads, 1, p);
        expect(got.total).toBe(inf);
        expect(got.grads[0]?.every((v) => v === 0)).toBe(true);
        expect(got.grads[2]?.[1]).toBeNaN();
      },
    );

    it('an empty gradient has norm 0; clipping it records nothing', async () => {
      const out = upload(Float32Array.of(-7, -7));
      const x = upload(Float32Array.of(5));
      const rec = gpu.recorder();
      recordNorm(rec, { x, length: 0, out, outIndex: 1, normType: 2 });
      recordClipScale(rec, { x, length: 0, total: out, totalIndex: 0, maxNorm: 1 });
      rec.submit();
      expect([...(await gpu.read(out, 2))]).toEqual([-7, 0]);
      expect([...(await gpu.read(x, 1))]).toEqual([5]);
      gpu.release(out);
      gpu.release(x);
    });
  },
);

import { Generator, randn } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import type { Recorder } from '../runtime/recorder.js';
import { testRuntime } from '../testing.js';
import { recordAdd, recordAddInPlace, recordFill, recordScale } from './elementwise.js';

const { runtime, reason } = await testRuntime();

const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];

/** `n` normal floats with NaN, +Inf and −Inf planted (when there is room), from `seed`. */
function data(n: number, seed: number): Float32Array {
  const x = randn([n], { generator: new Generator(seed) }).dataSync();
  [nan, inf, -inf].forEach((v, i) => {
    if (n > 3) x[(seed * 7 + i * 3) % n] = v;
  });
  return x;
}

/** Exact where `exact` (and for non-finite values), else |got − want| ≤ 1e-6 + 1e-5·|want|. */
function check(got: Float32Array, want: Float32Array, exact = false): void {
  expect(got.length).toBe(want.length);
  const bad = want.findIndex((w, i) => {
    const v = got[i] as number;
    if (exact || !Number.isFinite(w)) return !Object.is(v, w) && !(Number.isNaN(v) && Number.isNaN(w));
    return !(Math.abs(v - w) <= 1e-6 + 1e-5 * Math.abs(w));
  });
  if (bad >= 0) expect(got[bad], `element ${bad}`).toBe(want[bad]);
}

describe.skipIf(!runtime)(
  `elementwise kernels against the CPU formulas${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    type Buffers<T> = { [K in keyof T]: GPUBuffer };

    /** Uploads `inputs`, records `body` on their buffers, submits once and reads every buffer back. */
    async function run<const T extends readonly Float32Array[]>(
      inputs: T,
      body: (rec: Recorder, buffers: Buffers<T>) => void,
    ): Promise<{ [K in keyof T]: Float32Array }> {
      const buffers = inputs.map((x) => {
        const b = gpu.acquire(Math.max(4, x.byteLength), STORAGE_USAGE);
        gpu.write(b, x);
        return b;
      });
      const rec = gpu.recorder();
      body(rec, buffers as unknown as Buffers<T>);
      rec.submit();
      const got = await Promise.all(buffers.map((b, i) => gpu.read(b, (inputs[i] as Float32Array).length)));
      for (const b of buffers) gpu.release(b);
      return got as unknown as { [K in keyof T]: Float32Array };
    }

    const f = Math.fround;
    const sizes = [1, 7, 1000, 65537];

    it.each(sizes)('fill of %i elements with a number, NaN, +Inf and −Inf', async (n) => {
      for (const value of [-1.1, nan, inf, -inf]) {
        const [out] = await run([data(n, n)], (rec, [b]) => recordFill(rec, { out: b, length: n, value }));
        check(out, new Float32Array(n).fill(value), true);
      }
    });

    it.each(sizes)('add of %i elements: a + b exactly, and fma(alpha, b, a)', async (n) => {
      const [a, b] = [data(n, n + 1), data(n, n + 2)];
      for (const alpha of [1, -0.3, 2.5e3]) {
        const [, , out] = await run([a, b, new Float32Array(n)], (rec, [ba, bb, bo]) =>
          recordAdd(rec, { a: ba, b: bb, out: bo, length: n, ...(alpha === 1 ? {} : { alpha }) }),
        );
        const want = a.map((v, i) => f(v + f(alpha) * (b[i] as number))); // fma32(b, alpha, a)
        check(out, want, alpha === 1);
      }
    });

    it.each(sizes)('addInPlace of %i elements accumulates acc + alpha·x twice in one submit', async (n) => {
      const [acc, x] = [data(n, n + 3), data(n, n + 4)];
      const [got] = await run([acc, x], (rec, [bacc, bx]) => {
        recordAddInPlace(rec, { acc: bacc, x: bx, length: n });
        recordAddInPlace(rec, { acc: bacc, x: bx, length: n, alpha: 0.7 });
      });
      const want = acc.map((v, i) => {
        const xi = x[i] as number;
        return f(f(v + xi) + f(0.7) * xi);
      });
      check(got, want);
    });

    it.each(sizes)('scale of %i elements, by 0 too (±Inf·0 and NaN·0 are NaN)', async (n) => {
      const x = data(n, n + 5);
      for (const scale of [0.37, 0, -inf]) {
        const [got] = await run([x], (rec, [b]) => recordScale(rec, { x: b, length: n, scale }));
        check(
          got,
          x.map((v) => v * f(scale)),
          true,
        );
      }
      const [zeroed] = await run([Float32Array.of(inf, -inf, nan, 2)], (rec, [b]) =>
        recordScale(rec, { x: b, length: 4, scale: 0 }),
      );
      expect([...zeroed.subarray(0, 3)].every(Number.isNaN)).toBe(true);
    });

    it('length 0 records nothing', async () => {
      const x = Float32Array.of(1, 2, 3);
      const [a, b] = await run([x, x], (rec, [ba, bb]) => {
        recordFill(rec, { out: ba, length: 0, value: 9 });
        recordScale(rec, { x: ba, length: 0, scale: nan });
        recordAdd(rec, { a: ba, b: ba, out: bb, length: 0 });
        recordAddInPlace(rec, { acc: ba, x: bb, length: 0 });
      });
      check(a, x, true);
      check(b, x, true);
    });

    it('more than 65535·256 elements use the 2-D grid', async () => {
      const n = 65535 * 256 + 300;
      const [got] = await run([new Float32Array(n)], (rec, [b]) => {
        recordFill(rec, { out: b, length: n, value: 3 });
        recordScale(rec, { x: b, length: n, scale: 0.5 });
      });
      expect(got.every((v) => v === 1.5)).toBe(true);
    });
  },
);

import { Generator, randn, Tensor } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { recordColumnSum } from './column-sum.js';

const { runtime, reason } = await testRuntime();

/** The CPU's `linearBackward` bias gradient: rows added in order in float64, rounded once. */
function columnSumCpu(x: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) acc[j] = (acc[j] as number) + (x[r * cols + j] as number);
  return Float32Array.from(acc);
}

describe.skipIf(!runtime)(
  `column-sum kernel against the CPU bias gradient${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    async function run(x: Float32Array, rows: number, cols: number): Promise<Float32Array> {
      const input = gpu.fromCpu(Tensor.fromArray(x, [rows, cols]));
      const out = gpu.acquire(Math.max(4, cols * 4), STORAGE_USAGE);
      const rec = gpu.recorder();
      recordColumnSum(rec, { x: gpu.bufferOf(input, 'x'), rows, cols, out });
      rec.submit();
      const got = await gpu.read(out, cols);
      input.dispose();
      gpu.release(out);
      return got;
    }

    const check = (got: Float32Array, want: Float32Array) =>
      got.forEach((v, i) => {
        const w = want[i] as number;
        if (!Number.isFinite(w)) expect(v, `column ${i}`).toBe(w);
        else expect(Math.abs(v - w), `column ${i}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(w));
      });

    it.each([
      [1, 7],
      [37, 65],
      [5000, 33],
    ])('%i rows of %i columns: the float64 sums, rounded once', async (rows, cols) => {
      // an offset column makes the float32 running sum lose bits that the compensation keeps
      const x = randn([rows * cols], { generator: new Generator(rows) })
        .dataSync()
        .map((v, i) => (i % cols === 0 ? v + 1000 : v));
      const got = await run(x, rows, cols);
      const want = columnSumCpu(x, rows, cols);
      check(got, want);
      // compensated, so (almost) every column is the CPU's float32 exactly
      const same = got.filter((v, i) => v === want[i]).length;
      expect(same).toBeGreaterThanOrEqual(cols - 1);
    });

    it('NaN and ±Inf propagate as in the CPU sum', async () => {
      const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];
      const x = Float32Array.from([1, nan, inf, inf, 1e30, 2, 3, 4, -inf, 1, 3e38, 1, 1, 3e38]);
      check(await run(x, 2, 7), columnSumCpu(x, 2, 7));
    });
  },
);

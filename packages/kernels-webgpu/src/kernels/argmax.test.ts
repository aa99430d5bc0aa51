import { argmax, Generator, Tensor, uniform } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { GpuStorage } from '../runtime/storage.js';
import { testRuntime } from '../testing.js';
import { recordArgmax } from './argmax.js';

const { runtime, reason } = await testRuntime();

describe.skipIf(!runtime)(
  `argmax kernel against the CPU argmax${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    /** The GPU argmax of every row of `x` `(rows, size)`, as an int32 tensor read back. */
    async function gpuArgmax(x: Float32Array, rows: number, size: number): Promise<Int32Array> {
      const input = gpu.fromCpu(Tensor.fromArray(x, [rows, size]));
      const out = gpu.acquire(Math.max(4, rows * 4), STORAGE_USAGE);
      const rec = gpu.recorder();
      recordArgmax(rec, { x: gpu.bufferOf(input, 'x'), out, rows, size });
      rec.submit();
      const t = gpu.tensor(out, [rows], 'int32');
      expect(t.storage).toBeInstanceOf(GpuStorage);
      const got = await t.data();
      input.dispose();
      t.dispose();
      return got;
    }

    it.each([
      [1, 1],
      [3, 63],
      [5, 64],
      [2, 65],
      [7, 300],
      [1, 5000],
    ])('%i rows of %i with ties, NaN and infinities: the CPU indices', async (rows, size) => {
      const g = new Generator(rows * 1000 + size);
      const u = uniform([rows * size], 0, 1, { generator: g }).dataSync();
      // small integers (many ties), and now and then a NaN, +Inf or −Inf
      const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
      const x = Float32Array.from(u, (v) =>
        v < 0.006 ? (special[Math.floor(v / 0.002)] as number) : Math.floor(v * 4),
      );
      const got = await gpuArgmax(x, rows, size);
      expect(got).toBeInstanceOf(Int32Array);
      expect([...got]).toEqual([...argmax(Tensor.fromArray(x, [rows, size]), -1).dataSync()]);
    });

    it('keeps the first of equal maxima and the first NaN wherever the threads meet them', async () => {
      const size = 200;
      const x = new Float32Array(3 * size);
      x[130] = 1; // row 0: one maximum, late
      x[size + 64] = 5; // row 1: a tie between thread 0's second element and thread 1's first
      x[size + 1] = 5;
      x[2 * size + 150] = Number.NaN; // row 2: NaN after the max, then another NaN before it … in thread order
      x[2 * size + 3] = 9;
      x[2 * size + 70] = Number.NaN;
      expect([...(await gpuArgmax(x, 3, size))]).toEqual([130, 1, 70]);
    });
  },
);

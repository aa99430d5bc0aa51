import { Generator, logSoftmax, randn, softmax, Tensor } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { recordSoftmax, type SoftmaxKind } from './softmax.js';

const { runtime, reason } = await testRuntime();

describe.skipIf(!runtime)(
  `softmax kernel against the CPU ops${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    async function run(
      kind: SoftmaxKind,
      x: Float32Array,
      rows: number,
      size: number,
    ): Promise<Float32Array> {
      const input = gpu.fromCpu(Tensor.fromArray(x, [rows, size]));
      const out = gpu.acquire(Math.max(4, x.byteLength), STORAGE_USAGE);
      const rec = gpu.recorder();
      recordSoftmax(rec, { kind, x: gpu.bufferOf(input, 'x'), out, rows, size });
      rec.submit();
      const got = await gpu.read(out, rows * size);
      input.dispose();
      gpu.release(out);
      return got;
    }

    const check = (got: Float32Array, want: Float32Array) =>
      got.forEach((v, i) => {
        const w = want[i] as number;
        if (!Number.isFinite(w)) expect(v, `element ${i}`).toBe(w);
        else expect(Math.abs(v - w), `element ${i}`).toBeLessThanOrEqual(2e-5 + 2e-5 * Math.abs(w));
      });

    it.each([
      ['softmax', 1, 1],
      ['softmax', 4, 63],
      ['logSoftmax', 3, 65],
      ['softmax', 2, 1000],
      ['logSoftmax', 2, 1000],
    ] as const)('%s of %i rows of %i large values (exp alone would overflow)', async (kind, rows, size) => {
      const x = randn([rows * size], { generator: new Generator(size) })
        .dataSync()
        .map((v) => v * 60);
      const cpu = kind === 'softmax' ? softmax : logSoftmax;
      check(await run(kind, x, rows, size), cpu(Tensor.fromArray(x, [rows, size]), -1).dataSync());
    });

    it.each(['softmax', 'logSoftmax'] as const)(
      '%s: a row with NaN or +Inf, or all −Inf, is NaN; a −Inf entry gives 0 or −Inf',
      async (kind) => {
        const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];
        const x = Float32Array.from([1, nan, 2, 3, 1, inf, 2, 3, -inf, -inf, -inf, -inf, -inf, 0, 1, -inf]);
        const got = await run(kind, x, 4, 4);
        const cpu = kind === 'softmax' ? softmax : logSoftmax;
        check(got, cpu(Tensor.fromArray(x, [4, 4]), -1).dataSync());
        expect([...got.subarray(0, 12)].every(Number.isNaN)).toBe(true);
      },
    );
  },
);

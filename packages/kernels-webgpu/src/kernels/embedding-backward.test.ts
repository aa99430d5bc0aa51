import { Generator, randn, Tensor } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { recordEmbeddingBackward } from './embedding-backward.js';

const { runtime, reason } = await testRuntime();

/** The CPU's `embeddingBackward`: grad rows added into their index's row in order, in float32. */
function embeddingBackwardCpu(
  ids: Int32Array,
  g: Float32Array,
  rows: number,
  dim: number,
  pad: number | null,
): Float32Array {
  const out = new Float32Array(rows * dim);
  ids.forEach((id, i) => {
    if (id === pad) return;
    for (let j = 0; j < dim; j++)
      out[id * dim + j] = (out[id * dim + j] as number) + (g[i * dim + j] as number);
  });
  return out;
}

describe.skipIf(!runtime)(
  `embedding-backward kernel against the CPU scatter-add${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    async function run(
      ids: Int32Array,
      g: Float32Array,
      rows: number,
      dim: number,
      paddingIdx: number | null,
    ) {
      const idsT = gpu.fromCpu(Tensor.fromArray(ids, [ids.length]));
      const gT = gpu.fromCpu(Tensor.fromArray(g, [ids.length, dim]));
      const out = gpu.acquire(Math.max(4, rows * dim * 4), STORAGE_USAGE);
      gpu.write(out, new Float32Array(rows * dim).fill(Number.NaN)); // written, not accumulated
      const rec = gpu.recorder();
      recordEmbeddingBackward(rec, {
        ...{ ids: gpu.bufferOf(idsT, 'ids'), grad: gpu.bufferOf(gT, 'grad'), out },
        ...{ count: ids.length, rows, dim, paddingIdx },
      });
      rec.submit();
      const got = await gpu.read(out, rows * dim);
      for (const t of [idsT, gT]) t.dispose();
      gpu.release(out);
      return got;
    }

    it.each([
      [1, 1, 1, null],
      [7, 5, 3, 0],
      [300, 37, 65, 4],
      [1000, 200, 7, null],
    ] as const)(
      '%i ids (repeated) into %i rows of %i, padding row %s: the same float32 sums',
      async (count, rows, dim, pad) => {
        const gen = new Generator(count);
        const g = randn([count * dim], { generator: gen }).dataSync();
        // repeated ids, the padding row among them, some rows never picked
        const ids = Int32Array.from({ length: count }, (_, i) => ((i * 7919) % (rows + 1)) % rows);
        const got = await run(ids, g, rows, dim, pad);
        expect(got).toEqual(embeddingBackwardCpu(ids, g, rows, dim, pad));
        if (pad !== null)
          expect([...got.subarray(pad * dim, (pad + 1) * dim)].every((v) => v === 0)).toBe(true);
      },
    );

    it('ignores indices out of range (a NaN in their gradient rows goes nowhere)', async () => {
      const ids = Int32Array.of(2, -1, 3, 0, 2);
      const g = Float32Array.from([1, 2, 3, 4, 5, Number.NaN, 7, 8, 9, 10]);
      expect(await run(ids, g, 3, 2, null)).toEqual(Float32Array.from([7, 8, 0, 0, 10, 12]));
    });
  },
);

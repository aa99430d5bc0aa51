import { Generator, indexSelect, randn, Tensor } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { recordGatherRows } from './gather-rows.js';

const { runtime, reason } = await testRuntime();

describe.skipIf(!runtime)(`gather-rows kernel (embedding)${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const gpu = runtime as NonNullable<typeof runtime>;
  afterAll(() => gpu.dispose());

  async function gather(ids: Int32Array, table: Tensor, rows: number, dim: number): Promise<Float32Array> {
    const idsT = gpu.fromCpu(Tensor.fromArray(ids, [ids.length]));
    const tableT = gpu.fromCpu(table);
    const out = gpu.acquire(Math.max(4, ids.length * dim * 4), STORAGE_USAGE);
    const rec = gpu.recorder();
    recordGatherRows(rec, {
      ...{ ids: gpu.bufferOf(idsT, 'ids'), table: gpu.bufferOf(tableT, 'table'), out },
      ...{ count: ids.length, rows, dim },
    });
    rec.submit();
    const got = await gpu.read(out, ids.length * dim);
    for (const t of [idsT, tableT]) t.dispose();
    gpu.release(out);
    return got;
  }

  it('uploads int32 indices as int32 and reads them back as an Int32Array', async () => {
    const ids = Int32Array.of(0, -1, 2 ** 31 - 1, -(2 ** 31), 7);
    const t = gpu.fromCpu(Tensor.fromArray(ids, [5]));
    expect([t.dtype, t.device]).toEqual(['int32', 'webgpu']);
    expect(await t.data()).toEqual(ids);
    t.dispose();
  });

  it.each([
    [1, 1, 1],
    [50, 7, 33],
    [3000, 100, 5],
  ])('%i ids into a table of %i rows of %i: indexSelect’s rows', async (count, rows, dim) => {
    const g = new Generator(count);
    const table = randn([rows, dim], { generator: g });
    const ids = Int32Array.from({ length: count }, (_, i) => (i * 7919) % rows);
    const want = indexSelect(table, 0, Tensor.fromArray(ids, [count])).dataSync();
    expect(await gather(ids, table, rows, dim)).toEqual(want);
  });

  it('writes NaN rows for indices out of range (no readback to throw from)', async () => {
    const table = randn([4, 2]);
    const got = await gather(Int32Array.of(3, 4, -1, 0), table, 4, 2);
    expect([...got].map(Number.isNaN)).toEqual([false, false, true, true, true, true, false, false]);
  });
});

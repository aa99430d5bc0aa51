import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemmJob, gemmPackFloats } from '../jobs/gemm.js';
import { NULL_PTR, type Ptr } from './arena.js';
import type { Job } from './executor.js';
import { createWasmPool, type WasmPool } from './pool.js';

let pool: WasmPool;
beforeAll(async () => {
  const created = await createWasmPool(3);
  if (!created) throw new Error('this Node has no WebAssembly threads');
  pool = created;
});
afterAll(() => pool.dispose());

/** C = A·B (n×n) split by rows into `parts` jobs on the pool; returns C. */
function product(A: Float32Array, B: Float32Array, n: number, parts: number, on = pool): Float32Array {
  return on.arena.withScratch((s) => {
    const [a, b, c] = [s.put(A), s.put(B), s.alloc(n * n)];
    const rows = Math.ceil(n / parts);
    const jobs: Job[] = [];
    for (let r0 = 0; r0 < n; r0 += rows) {
      const r1 = Math.min(n, r0 + rows);
      const pack = s.alloc(gemmPackFloats(n, n));
      jobs.push(
        gemmJob({
          M: r1 - r0,
          N: n,
          K: n,
          a: a.at(r0 * n),
          sai: n,
          sak: 1,
          b: b.at(),
          sbp: n,
          sbj: 1,
          c: c.at(r0 * n),
          ldc: n,
          pack: pack.at(),
        }),
      );
    }
    on.run(jobs);
    return c.read();
  });
}

/** A job that does nothing (M = N = 0). */
const idle: Job = gemmJob({
  ...{ M: 0, N: 0, K: 1, a: NULL_PTR, sai: 0, sak: 0, b: NULL_PTR, sbp: 0, sbj: 0 },
  ...{ c: NULL_PTR, ldc: 0, pack: NULL_PTR },
});

describe('WasmPool', () => {
  it('has the calling thread and two workers', () => {
    expect(pool.threads).toBe(3);
  });

  it('gives the same product split over 1, 2 and 3 threads, many times in a row', () => {
    const n = 67;
    const A = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const B = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
    const one = product(A, B, n, 1);
    for (let i = 0; i < 50; i++) {
      expect(product(A, B, n, 2)).toEqual(one);
      expect(product(A, B, n, 3)).toEqual(one);
    }
  });

  it('runs more jobs than threads in waves', () => {
    const n = 40;
    const A = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    expect(product(A, A, n, 7)).toEqual(product(A, A, n, 1));
  });

  it('throws, instead of hanging, when a kernel traps in a worker, and keeps working after', () => {
    const bad = gemmJob({
      ...{ M: 4, N: 4, K: 4, a: (2 ** 31) as Ptr, sai: 4, sak: 1, b: NULL_PTR, sbp: 4, sbj: 1 },
      ...{ c: NULL_PTR, ldc: 4, pack: NULL_PTR },
    });
    expect(() => pool.run([idle, bad])).toThrow('WasmPool: a kernel failed in a worker thread');
    expect(() => pool.run([bad, idle])).toThrow();
    const A = Float32Array.of(1, 2, 3, 4);
    expect([...product(A, A, 2, 2)]).toEqual([7, 10, 15, 22]);
  });

  it('runs the first job of a pool created a moment ago (no worker misses it), many times', async () => {
    for (let i = 0; i < 10; i++) {
      const fresh = await createWasmPool(3);
      fresh?.run([idle, idle, idle]);
      fresh?.dispose();
    }
  });

  it('throws on run after dispose, at once, and disposes once', async () => {
    const fresh = await createWasmPool(2);
    if (!fresh) throw new Error('no pool');
    fresh.dispose();
    fresh.dispose();
    expect(fresh.disposed).toBe(true);
    expect(() => fresh.run([idle, idle])).toThrow('WasmPool: disposed');
  });

  it('renews itself on a fresh memory: jobs run at once on the calling thread, then on new workers', async () => {
    const old = await createWasmPool(2);
    if (!old) throw new Error('no pool');
    old.arena.alloc(1 << 20);
    old.dispose();
    const renewed = old.renew();
    expect(renewed.threads).toBe(2);
    expect(renewed.fma).toBe(old.fma);
    expect(renewed.kernels.memory).not.toBe(old.kernels.memory);
    expect(renewed.arena.stats().capacity).toBeLessThan(old.arena.stats().capacity);
    const n = 33;
    const A = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const want = product(A, A, n, 1);
    expect(product(A, A, n, 2, renewed)).toEqual(want); // before its worker is up
    expect(await renewed.ready).toBe(true);
    for (let i = 0; i < 20; i++) expect(product(A, A, n, 2, renewed)).toEqual(want);
    renewed.dispose();
    const again = renewed.renew();
    expect(await again.ready).toBe(true);
    again.dispose();
  });

  it('rejects a thread count it cannot hold', async () => {
    for (const threads of [0, 1.5, 10_000]) {
      await expect(createWasmPool(threads)).rejects.toThrow(
        `createWasmPool: threads must be an integer from 1 to 192, received ${threads}`,
      );
    }
  });
});

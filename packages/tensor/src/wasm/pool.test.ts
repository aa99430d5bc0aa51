import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmPool, type WasmPool } from './pool.js';

let pool: WasmPool;
beforeAll(async () => {
  const created = await createWasmPool(3);
  if (!created) throw new Error('this Node has no WebAssembly threads');
  pool = created;
});
afterAll(() => pool.dispose());

/** C = A·B (n×n) split by rows into `parts` jobs on the pool; returns C. */
function product(A: Float32Array, B: Float32Array, n: number, parts: number): Float32Array {
  const k = pool.kernels;
  k.reset();
  const [a, b, c] = [k.put(A), k.put(B), k.alloc(n * n)];
  const rows = Math.ceil(n / parts);
  const jobs = [];
  for (let r0 = 0; r0 < n; r0 += rows) {
    const r1 = Math.min(n, r0 + rows);
    const pack = k.alloc(k.exports.packBytes(n, n) / 4);
    jobs.push({
      fn: 'gemm' as const,
      args: [r1 - r0, n, n, 1, a + r0 * n * 4, n, 1, b, n, 1, 0, c + r0 * n * 4, n, 0, pack],
    });
  }
  pool.run(jobs);
  return k.f32.slice(c / 4, c / 4 + n * n);
}

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

  it('throws, instead of hanging, when a kernel traps in a worker, and keeps working after', () => {
    const bad = { fn: 'gemm' as const, args: [4, 4, 4, 1, 2 ** 31, 4, 1, 0, 4, 1, 0, 0, 4, 0, 0] };
    const idle = { fn: 'gemm' as const, args: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
    expect(() => pool.run([idle, bad])).toThrow('WasmPool: a kernel failed in a worker thread');
    expect(() => pool.run([bad, idle])).toThrow();
    const A = Float32Array.of(1, 2, 3, 4);
    expect([...product(A, A, 2, 2)]).toEqual([7, 10, 15, 22]);
  });

  it('runs the first job of a pool created a moment ago (no worker misses it), many times', async () => {
    const idle = { fn: 'gemm' as const, args: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
    for (let i = 0; i < 10; i++) {
      const fresh = await createWasmPool(3);
      fresh?.run([idle, idle, idle]);
      fresh?.dispose();
    }
  });

  it('rejects more jobs than threads', () => {
    const idle = { fn: 'gemm' as const, args: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
    expect(() => pool.run([idle, idle, idle, idle])).toThrow('WasmPool: 4 jobs, 3 threads');
  });
});

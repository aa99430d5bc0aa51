import { describe, expect, it } from 'vitest';
import { wasmApi } from './api.js';
import { Arena } from './arena.js';

const fresh = () => {
  if (!wasmApi) throw new Error('no WebAssembly');
  return new Arena(new wasmApi.Memory({ initial: 1 }), 1024);
};

describe('Arena', () => {
  it('hands out 64-byte aligned, disjoint blocks from its base, with a guard after each', () => {
    const arena = fresh();
    const a = arena.alloc(3);
    const b = arena.alloc(8);
    expect(a.ptr).toBe(1024);
    expect(a.bytes).toBe(64);
    expect(b.ptr).toBe(1088);
    expect(b.bytes).toBe(64); // 32 bytes of floats + 32 of guard
    expect(b.at(2)).toBe(1096);
    expect(() => b.at(9)).toThrow('Block.at: 9 is outside [0, 8]');
  });

  it('views a block as int32s (the tables kernels read as integers) over the same bytes', () => {
    const arena = fresh();
    const table = arena.alloc(4);
    table.i32.set([0, 5, 5, -3]);
    expect([...table.i32]).toEqual([0, 5, 5, -3]);
    expect(new Int32Array(arena.memory.buffer, table.at(1), 1)[0]).toBe(5);
    table.free();
    expect(() => table.i32).toThrow('Block.i32: the block was freed');
  });

  it('reuses freed space first fit, coalescing neighbours', () => {
    const arena = fresh();
    const [a, b, c] = [arena.alloc(100), arena.alloc(100), arena.alloc(10)];
    a.free();
    b.free();
    const big = arena.alloc(200); // fits in a + b merged
    expect(big.ptr).toBe(a.ptr);
    expect(arena.stats().blocks).toBe(2);
    c.free();
    big.free();
    expect(arena.stats()).toMatchObject({ blocks: 0, bytes: 0, allocations: 4 });
    expect(arena.alloc(1).ptr).toBe(1024); // everything returned: back to the base
  });

  it('grows the memory when nothing fits, keeping contents, and never shrinks', () => {
    const arena = fresh();
    const a = arena.put([1, 2, 3]);
    const before = arena.stats().capacity;
    const big = arena.alloc(100_000);
    expect(arena.stats().capacity).toBeGreaterThan(before);
    expect([...a.read()]).toEqual([1, 2, 3]); // views are rebuilt after growth
    big.fill(7);
    expect(big.f32[99_999]).toBe(7);
    big.free();
    expect(arena.stats().capacity).toBeGreaterThan(before);
  });

  it('frees a scratch all at once, leaving long-lived blocks alone', () => {
    const arena = fresh();
    const kept = arena.put([5, 6]);
    const value = arena.withScratch((s) => {
      const z = s.zeros(4);
      s.put([1, 2]);
      expect(arena.stats().blocks).toBe(3);
      return z.read();
    });
    expect([...value]).toEqual([0, 0, 0, 0]);
    expect(arena.stats().blocks).toBe(1);
    expect([...kept.read()]).toEqual([5, 6]);
  });

  it('releases a scratch when the work throws', () => {
    const arena = fresh();
    expect(() =>
      arena.withScratch((s) => {
        s.alloc(10);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(arena.stats().blocks).toBe(0);
  });

  it('makes free idempotent and refuses to touch a freed block', () => {
    const arena = fresh();
    const a = arena.alloc(4);
    a.free();
    a.free();
    expect(a.freed).toBe(true);
    expect(arena.stats().blocks).toBe(0);
    expect(() => a.read()).toThrow('Block.f32: the block was freed');
  });

  it('rejects bad sizes and overflowing writes', () => {
    const arena = fresh();
    expect(() => arena.alloc(-1)).toThrow('Arena.alloc: floats must be a non-negative integer, received -1');
    expect(() => arena.alloc(2).write([1, 2, 3])).toThrow('Block.write: 3 floats at 0 overflow a block of 2');
  });
});

describe('Arena stats', () => {
  it('tracks the top in use and the peak of live bytes until resetPeak()', () => {
    const arena = fresh();
    expect(arena.stats()).toMatchObject({ top: 1024, peakBytes: 0 });
    const a = arena.alloc(100); // 448 bytes
    const b = arena.alloc(1000); // 4032 bytes
    expect(arena.stats()).toMatchObject({ top: 1024 + 448 + 4032, bytes: 4480, peakBytes: 4480 });
    b.free();
    expect(arena.stats()).toMatchObject({ top: 1024 + 448, bytes: 448, peakBytes: 4480 });
    arena.resetPeak();
    expect(arena.stats().peakBytes).toBe(448);
    a.free();
    expect(arena.stats()).toMatchObject({ top: 1024, bytes: 0, peakBytes: 448 });
  });
});

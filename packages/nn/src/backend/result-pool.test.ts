import { describe, expect, it } from 'vitest';
import { ResultPool } from './result-pool.js';

describe('ResultPool', () => {
  it('hands an array given back out again for the same length, and new zeros otherwise', () => {
    const pool = new ResultPool();
    const a = pool.take(100);
    expect(a).toEqual(new Float32Array(100));
    a.fill(7);
    expect(pool.give(a)).toBe(true);
    expect(pool.bytes).toBe(400);
    const other = pool.take(99);
    expect(other).not.toBe(a);
    expect(other).toEqual(new Float32Array(99));
    expect(pool.take(100)).toBe(a); // stale values: the caller writes every float
    expect(pool.bytes).toBe(0);
    expect(pool.take(100)).not.toBe(a);
  });

  it('takes back only arrays it handed out, each once while it waits', () => {
    const pool = new ResultPool();
    expect(pool.give(new Float32Array(100))).toBe(false);
    const a = pool.take(100);
    expect(pool.give(a.subarray(0, 50))).toBe(false);
    expect(pool.give(a)).toBe(true);
    expect(pool.give(a)).toBe(false); // twice would hand it out twice
    expect(pool.take(100)).toBe(a);
    expect(pool.take(100)).not.toBe(a);
  });

  it('keeps at most maxBytes waiting', () => {
    const pool = new ResultPool(1000);
    const [a, b] = [pool.take(200), pool.take(200)];
    expect(pool.give(a)).toBe(true);
    expect(pool.give(b)).toBe(false); // 1600 bytes > 1000
    expect(pool.bytes).toBe(800);
    expect(pool.take(200)).toBe(a);
    expect(pool.give(b)).toBe(true);
  });
});

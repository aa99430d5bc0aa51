import { describe, expect, it } from 'vitest';
import { BufferPool, sizeClass } from './buffers.js';

/** A device stand-in that records buffers (the pool only creates and destroys them). */
function fakeDevice() {
  const made: { size: number; usage: number; destroyed: boolean }[] = [];
  const device = {
    createBuffer({ size, usage }: { size: number; usage: number }) {
      const b = {
        size,
        usage,
        destroyed: false,
        destroy: () => {
          b.destroyed = true;
        },
      };
      made.push(b);
      return b;
    },
  };
  return { device: device as unknown as GPUDevice, made };
}

describe('sizeClass', () => {
  it('rounds up to 256 B, then to a quarter of the power of two below', () => {
    expect([1, 256, 257, 320, 321, 1000, 1024, 1025].map(sizeClass)).toEqual([
      256, 256, 320, 320, 384, 1024, 1024, 1280,
    ]);
    for (let bytes = 1; bytes < 1e7; bytes = Math.ceil(bytes * 1.37)) {
      expect(sizeClass(bytes)).toBeGreaterThanOrEqual(bytes);
      expect(sizeClass(bytes)).toBeLessThanOrEqual(Math.max(256, bytes * 1.25));
    }
  });
});

describe('BufferPool', () => {
  it('reuses released buffers of the same size class and usage, and counts', () => {
    const { device, made } = fakeDevice();
    const pool = new BufferPool(device, 2 ** 30);
    const a = pool.acquire(1000, 128);
    expect(pool.stats()).toMatchObject({
      liveBuffers: 1,
      liveBytes: 1024,
      buffersInUse: 1,
      bytesInUse: 1024,
    });
    pool.release(a);
    pool.release(a); // twice: ignored
    expect(pool.stats()).toMatchObject({ liveBuffers: 1, buffersInUse: 0, bytesInUse: 0 });
    expect(pool.acquire(900, 128)).toBe(a);
    expect(pool.acquire(900, 64)).not.toBe(a); // another usage
    expect(made).toHaveLength(2);
    expect(pool.stats().buffersCreated).toBe(2);
  });

  it('destroys what exceeds maxIdleBytes, and everything on trim()', () => {
    const { device, made } = fakeDevice();
    const pool = new BufferPool(device, 2 ** 30, 2048);
    const bufs = [1024, 1024, 1024].map((n) => pool.acquire(n, 128));
    for (const b of bufs) pool.release(b);
    expect(made.map((b) => b.destroyed)).toEqual([false, false, true]);
    expect(pool.stats()).toMatchObject({ liveBuffers: 2, liveBytes: 2048 });
    pool.trim();
    expect(pool.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });

  it('refuses buffers above maxBufferSize, naming the limit', () => {
    const { device } = fakeDevice();
    expect(() => new BufferPool(device, 4096).acquire(5000, 128)).toThrow(
      /exceeds this device's maxBufferSize/,
    );
  });
});

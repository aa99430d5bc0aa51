import { sgemm } from '@recurrent/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GemmCase, gemmOperands } from '../../../tensor/src/testing/gemm-case.js';
import { type Activation, activateJob } from '../jobs/activation.js';
import { enableRelaxedSimd } from '../testing/relaxed-simd.js';
import { initWasm, initWasmSync } from './init.js';
import type { WasmKernels } from './kernels.js';
import { hasWasmRelaxedSimd, kernelBytes } from './module.js';
import { hardwareThreads } from './threads.js';

const relaxed = enableRelaxedSimd();
/** Both builds of the kernels: fused multiply-adds (where this engine has relaxed SIMD) and plain. */
const builds = [
  { build: 'relaxed SIMD', fma: true },
  { build: 'plain SIMD', fma: false },
];

let k: WasmKernels;
/** Runs the tests of the enclosing block on the kernels of one build. */
function useBuild(fma: boolean): void {
  beforeAll(async () => {
    const kernels = await initWasm({ fma });
    if (!kernels) throw new Error('this Node has no WebAssembly SIMD');
    expect(kernels.fma).toBe(fma && relaxed);
    k = kernels;
  });
}

type Case = Required<GemmCase>;

/** The WASM sgemm against the TypeScript one (the oracle) on the same arguments, element by element. */
function check({ transA, transB, M, N, K, alpha, beta, pad }: Case, seed = 1): void {
  const { A, B, C: want, lda, ldb, ldc } = gemmOperands({ transA, transB, M, N, K, pad }, seed);
  const got = want.slice();
  sgemm(transA, transB, M, N, K, alpha, A, pad, lda, B, pad, ldb, beta, want, pad, ldc);
  k.sgemm(transA, transB, M, N, K, alpha, A, pad, lda, B, pad, ldb, beta, got, pad, ldc);
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const g = got[i] as number;
    if (!(Math.abs(g - w) <= 1e-5 * Math.sqrt(K + 1) + 1e-5 * Math.abs(w))) {
      expect.fail(
        `C[${i}] = ${g}, TypeScript sgemm gives ${w} (${JSON.stringify({ transA, transB, M, N, K })})`,
      );
    }
  }
}

const SIZES = [1, 3, 7, 17, 33, 65, 127, 129, 257];
const TRANS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe.each(builds)('WasmKernels.sgemm ($build) equals the TypeScript sgemm', ({ fma }) => {
  useBuild(fma);
  it.each(TRANS)('on odd sizes, transA=%s transB=%s', (transA, transB) => {
    for (const M of SIZES)
      for (const N of [1, 7, 33, 129])
        for (const K of [1, 17, 257]) check({ transA, transB, M, N, K, alpha: 1, beta: 0, pad: 0 });
    for (const N of SIZES) check({ transA, transB, M: 5, N, K: 9, alpha: 1, beta: 1, pad: 0 });
  });

  it('with offsets, leading dimensions, alpha and beta', () => {
    for (const [transA, transB] of TRANS) {
      check({ transA, transB, M: 65, N: 33, K: 129, alpha: 0.5, beta: -2, pad: 3 });
      check({ transA, transB, M: 1, N: 65, K: 300, alpha: 2, beta: 1, pad: 5 });
      check({ transA, transB, M: 130, N: 2100, K: 3, alpha: 1, beta: 0.25, pad: 1 });
    }
  });

  it('on random shapes (property)', () => {
    const shape = fc.record({
      transA: fc.boolean(),
      transB: fc.boolean(),
      M: fc.integer({ min: 1, max: 70 }),
      N: fc.integer({ min: 1, max: 70 }),
      K: fc.integer({ min: 1, max: 300 }),
      alpha: fc.constantFrom(1, 0.5, -1),
      beta: fc.constantFrom(0, 1, 0.5),
      pad: fc.integer({ min: 0, max: 4 }),
    });
    fc.assert(
      fc.property(shape, fc.nat(), (c, seed) => check(c, seed)),
      { numRuns: 150 },
    );
  });

  it('overwrites C without reading it when beta = 0 (NaN there does not leak)', () => {
    const C = new Float32Array(6).fill(Number.NaN);
    k.sgemm(
      false,
      false,
      2,
      3,
      1,
      1,
      Float32Array.of(1, 2),
      0,
      1,
      Float32Array.of(1, 2, 3),
      0,
      3,
      0,
      C,
      0,
      3,
    );
    expect([...C]).toEqual([1, 2, 3, 2, 4, 6]);
  });

  it('handles K = 0 and alpha = 0 by scaling C, as the TypeScript sgemm does', () => {
    for (const [K, alpha] of [
      [0, 1],
      [3, 0],
    ] as const) {
      const C = Float32Array.of(1, 2, 3, 4);
      k.sgemm(false, false, 2, 2, K, alpha, new Float32Array(6), 0, 3, new Float32Array(6), 0, 2, 2, C, 0, 2);
      expect([...C]).toEqual([2, 4, 6, 8]);
    }
  });

  it('rejects the arguments the TypeScript sgemm rejects, naming itself', () => {
    const a = new Float32Array(4);
    expect(() => k.sgemm(false, false, 2, 2, 2, 1, a, 0, 1, a, 0, 2, 0, a, 0, 2)).toThrow(
      'WasmKernels.sgemm: lda must be an integer >= 2 (max(1, K)), received 1',
    );
    expect(() => k.sgemm(false, false, 2, 2, 2, 1, a, 1, 2, a, 0, 2, 0, a, 0, 2)).toThrow(
      'WasmKernels.sgemm: A is too short',
    );
  });
});

/** Runs the kernels' in-place activation over `values` (one row), returning the result. */
function activate(values: readonly number[], act: Activation): Float32Array {
  return k.arena.withScratch((s) => {
    const row = s.put(values);
    k.run([activateJob({ c: row.at(), rows: 1, cols: values.length, act })]);
    return row.read();
  });
}

describe.each(builds)('activations ($build)', ({ fma }) => {
  useBuild(fma);
  it('tanh is within 4e-7 relative (plus 1e-9 absolute) of Math.tanh from −20 to 20', () => {
    const xs: number[] = [];
    for (let x = -20; x <= 20; x += 1 / 1024) xs.push(Math.fround(x));
    for (let e = -30; e <= 0; e += 0.25) xs.push(Math.fround(2 ** e), Math.fround(-(2 ** e)));
    const got = activate(xs, 'tanh');
    let worst = 0;
    xs.forEach((x, i) => {
      const want = Math.tanh(x);
      worst = Math.max(worst, Math.abs((got[i] as number) - want) / (Math.abs(want) + 1e-9 / 4e-7));
    });
    expect(worst).toBeLessThan(4e-7);
  });

  it('tanh propagates NaN, saturates ±Inf to ±1, keeps ±0, and never leaves [−1, 1]', () => {
    const got = activate([Number.NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 9, -9], 'tanh');
    expect(Number.isNaN(got[0])).toBe(true);
    expect([...got.subarray(1)]).toEqual([1, -1, 0, -0, 1, -1, 1, -1]);
    expect(Object.is(got[4], -0)).toBe(true);
  });

  it('relu propagates NaN like PyTorch, and passes Inf', () => {
    const got = activate([Number.NaN, -1, 2, Infinity, -Infinity, -0.5], 'relu');
    expect(Number.isNaN(got[0])).toBe(true);
    expect([...got.subarray(1)]).toEqual([0, 2, Infinity, 0, 0]);
  });

  it('sigmoid is within 2e-7 absolute of 1/(1 + e^−x) from −40 to 40', () => {
    const xs: number[] = [];
    for (let x = -40; x <= 40; x += 1 / 512) xs.push(Math.fround(x));
    const got = activate(xs, 'sigmoid');
    let worst = 0;
    xs.forEach((x, i) => {
      worst = Math.max(worst, Math.abs((got[i] as number) - 1 / (1 + Math.exp(-x))));
    });
    expect(worst).toBeLessThan(2e-7);
  });

  it('sigmoid is 0.5 + 0.5·tanh(x/2) to the bit (its constants are tanh’s scaled by powers of two)', () => {
    const xs: number[] = [];
    for (let x = -20; x <= 20; x += 1 / 256) xs.push(Math.fround(x));
    for (let e = -30; e <= 0; e += 0.5) xs.push(Math.fround(2 ** e), Math.fround(-(2 ** e)));
    const sig = activate(xs, 'sigmoid');
    const th = activate(
      xs.map((x) => x / 2),
      'tanh',
    );
    const want = Float32Array.from(th, (t) => 0.5 + 0.5 * t);
    expect([...sig]).toEqual([...want]);
  });

  it('sigmoid propagates NaN, gives 1 and 0 at ±Inf, 0.5 at ±0, and stays in [0, 1]', () => {
    const got = activate([Number.NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30], 'sigmoid');
    expect(Number.isNaN(got[0])).toBe(true);
    expect([...got.subarray(1)]).toEqual([1, 0, 0.5, 0.5, 1, 0]);
  });

  it("'none' leaves values alone", () => {
    expect([...activate([Number.NaN, -1, 2], 'none')]).toEqual([Number.NaN, -1, 2]);
  });
});

/** The ids of a WebAssembly binary's sections (1 type, 2 import, 6 global, 8 start, 11 data, …). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++] as number);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++] as number;
      size |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    at += size;
  }
  return ids;
}

describe('loading', () => {
  useBuild(true);

  it('has no globals, start function or data to re-initialize when threads instantiate it', () => {
    for (const shared of [false, true]) {
      for (const fma of [false, true]) {
        const ids = sectionIds(kernelBytes(shared, fma));
        expect(ids).toContain(10); // code
        for (const id of [6, 8, 11]) expect(ids).not.toContain(id);
      }
    }
  });

  it('takes the relaxed-SIMD build where the engine has relaxed SIMD, unless told not to', async () => {
    expect(hasWasmRelaxedSimd()).toBe(relaxed);
    expect((await initWasm())?.fma).toBe(relaxed);
    expect((await initWasm({ fma: false }))?.fma).toBe(false);
    expect(initWasmSync({ fma: false })?.fma).toBe(false);
  });

  it('compiles synchronously in Node too', () => {
    const sync = initWasmSync();
    expect(sync).not.toBeNull();
    const C = new Float32Array(1);
    sync?.sgemm(false, false, 1, 1, 1, 1, Float32Array.of(3), 0, 1, Float32Array.of(4), 0, 1, 0, C, 0, 1);
    expect(C[0]).toBe(12);
  });

  it('grows its memory for big problems and keeps working after', () => {
    check({ transA: false, transB: true, M: 600, N: 600, K: 300, alpha: 1, beta: 0, pad: 0 });
    check({ transA: false, transB: false, M: 3, N: 3, K: 3, alpha: 1, beta: 0, pad: 0 });
  });
});

describe('WasmKernels as an executor', () => {
  it('runs any number of jobs in order on one thread, and refuses to run once disposed', async () => {
    const one = await initWasm();
    if (!one) throw new Error('no WebAssembly SIMD');
    expect(one.threads).toBe(1);
    const got = one.arena.withScratch((s) => {
      const row = s.put([-2, 0.5]);
      // in order: relu, then tanh of what relu left
      one.run([
        activateJob({ c: row.at(), rows: 1, cols: 2, act: 'relu' }),
        activateJob({ c: row.at(), rows: 1, cols: 2, act: 'tanh' }),
      ]);
      return row.read();
    });
    expect(got[0]).toBe(0);
    expect(got[1]).toBeCloseTo(Math.tanh(0.5), 6);
    one.dispose();
    expect(one.disposed).toBe(true);
    expect(() => one.run([])).toThrow('WasmKernels: disposed; create new kernels with initWasm()');
  });

  it('renews itself on a fresh memory from the same module, even once disposed', async () => {
    const one = await initWasm();
    if (!one) throw new Error('no WebAssembly SIMD');
    one.arena.alloc(1 << 20);
    one.dispose();
    const fresh = one.renew();
    expect(fresh.disposed).toBe(false);
    expect(fresh.module).toBe(one.module);
    expect(fresh.fma).toBe(one.fma);
    expect(fresh.memory).not.toBe(one.memory);
    expect(fresh.arena.stats().capacity).toBeLessThan(one.arena.stats().capacity);
    const C = new Float32Array(1);
    fresh.sgemm(false, false, 1, 1, 1, 1, Float32Array.of(3), 0, 1, Float32Array.of(4), 0, 1, 0, C, 0, 1);
    expect(C[0]).toBe(12);
  });

  it('knows how many hardware threads the machine has', async () => {
    const { availableParallelism } = await import('node:os');
    expect(await hardwareThreads()).toBe(availableParallelism());
  });
});

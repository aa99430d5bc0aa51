import { sgemm } from '@recurrent/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fill, random } from '../../../tensor/src/testing/gemm-case.js';
import { initWasm } from '../runtime/init.js';
import { executors, suiteExecutor } from '../testing/executors.js';
import { enableRelaxedSimd } from '../testing/relaxed-simd.js';
import { packedGemmJob } from './gemm.js';
import { packedFloats, packJob, packTransposedJob } from './pack.js';

// the relaxed-SIMD build (fused multiply-adds) where this engine has it, else the plain one; and the plain
enableRelaxedSimd();
interface Case {
  M: number;
  N: number;
  K: number;
  bias: boolean;
  beta: number;
  /** Row ranges split over this many jobs. */
  parts: number;
}

describe.each(executors)('packedGemmJob ($name) equals the TypeScript sgemm', ({ create }) => {
  const suite = suiteExecutor(create);

  /** C = X·Wᵀ + bias + beta·C with W (N×K) packed once, as the projection of every time step uses it. */
  const check = ({ M, N, K, bias, beta, parts }: Case, seed = 1) => {
    const rnd = random(seed);
    const [X, W, C, b] = [fill(M * K, rnd), fill(N * K, rnd), fill(M * N, rnd), fill(N, rnd)];
    // want = X·Wᵀ + (beta·C + bias)
    const want = C.map((v, i) => beta * v + (bias ? (b[i % N] as number) : 0));
    sgemm(false, true, M, N, K, 1, X, 0, K, W, 0, K, 1, want, 0, N);
    const got = suite.ex.arena.withScratch((s) => {
      const packed = s.alloc(packedFloats('blocks', K, N));
      suite.ex.run([packTransposedJob('blocks', s.put(W).at(), N, K, packed.at())]);
      const [x, c, bb] = [s.put(X), s.put(C), s.put(b)];
      const size = Math.ceil(M / parts);
      const jobs = [];
      for (let r = 0; r < M; r += size) {
        const rows = [r, Math.min(M, r + size)] as const;
        jobs.push(
          packedGemmJob({
            ...{ M, N, K, a: x.at(), sai: K, sak: 1, b: packed.at(), bias: bias ? bb.at() : null },
            ...{ beta, c: c.at(), ldc: N, rows },
          }),
        );
      }
      suite.ex.run(jobs);
      return c.read();
    });
    for (let i = 0; i < want.length; i++) {
      const w = want[i] as number;
      if (!(Math.abs((got[i] as number) - w) <= 1e-5 * Math.sqrt(K + 1) + 1e-5 * Math.abs(w))) {
        expect.fail(`C[${i}] = ${got[i]}, want ${w} (${JSON.stringify({ M, N, K, bias, beta, parts })})`);
      }
    }
  };

  it('on odd sizes, a row of one, and depths over one block (K > 256)', () => {
    for (const M of [1, 3, 17, 65])
      for (const N of [1, 7, 33, 129])
        for (const K of [1, 17, 300]) check({ M, N, K, bias: true, beta: 0, parts: 1 });
  });

  it('with beta, without bias, rows split over jobs', () => {
    check({ M: 70, N: 40, K: 520, bias: false, beta: 1, parts: 2 });
    check({ M: 33, N: 9, K: 5, bias: true, beta: 0.5, parts: 3 });
  });

  it('on random shapes (property)', () => {
    const shape = fc.record({
      M: fc.integer({ min: 1, max: 40 }),
      N: fc.integer({ min: 1, max: 70 }),
      K: fc.integer({ min: 1, max: 300 }),
      bias: fc.boolean(),
      beta: fc.constantFrom(0, 1),
      parts: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(shape, fc.nat(), (c, seed) => check(c, seed)),
      { numRuns: 60 },
    );
  });
});

describe('packJob', () => {
  it("lays 'rows' out as 32-column panels over the whole depth, zero-padded", async () => {
    const ex = await initWasm();
    if (!ex) throw new Error('no WebAssembly SIMD');
    // B (K = 2, N = 3): op(B)[p][j] = B[p·3 + j]
    const got = ex.arena.withScratch((s) => {
      const dst = s.alloc(packedFloats('rows', 2, 3)).fill(Number.NaN);
      ex.run([
        packJob({
          layout: 'rows',
          K: 2,
          N: 3,
          b: s.put([1, 2, 3, 4, 5, 6]).at(),
          sbp: 3,
          sbj: 1,
          dst: dst.at(),
        }),
      ]);
      return dst.read();
    });
    expect(got.length).toBe(64);
    expect([...got.subarray(0, 4)]).toEqual([1, 2, 3, 0]);
    expect([...got.subarray(32, 36)]).toEqual([4, 5, 6, 0]);
    expect(got.every((v) => !Number.isNaN(v))).toBe(true);
  });
});

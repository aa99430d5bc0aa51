import { sgemm } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { fill, random } from '../../../tensor/src/testing/gemm-case.js';
import { executors, suiteExecutor } from '../testing/executors.js';
import { enableRelaxedSimd } from '../testing/relaxed-simd.js';
import { gemmJob, gemmPackFloats } from './gemm.js';

enableRelaxedSimd();
describe.each(executors)(
  'gemmJob with A read transposed ($name) equals the TypeScript sgemm',
  ({ create }) => {
    const suite = suiteExecutor(create);

    /**
     * C = alpha·Aᵀ·B + beta·C for A (K×M, leading dimension lda ≥ M) and B (K×N, ldb ≥ N): a weight
     * gradient (dgatesᵀ·x), the kernel packing blocks of A; rows of C split over `parts` jobs.
     */
    const check = (M: number, N: number, K: number, alpha: number, beta: number, parts: number) => {
      const [lda, ldb] = [M + 3, N + 1];
      const rnd = random(M * 131 + N * 7 + K);
      const [A, B, C] = [fill(K * lda, rnd), fill(K * ldb, rnd), fill(M * N, rnd)];
      const want = C.slice();
      sgemm(true, false, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, want, 0, N);
      const got = suite.ex.arena.withScratch((s) => {
        const [a, b, c] = [s.put(A), s.put(B), s.put(C)];
        const size = Math.ceil(M / parts);
        const jobs = [];
        for (let r = 0; r < M; r += size) {
          const rows = Math.min(M, r + size) - r;
          jobs.push(
            gemmJob({
              ...{ M: rows, N, K, alpha, a: a.at(r), sai: 1, sak: lda, b: b.at(), sbp: ldb, sbj: 1 },
              ...{ beta, c: c.at(r * N), ldc: N, pack: s.alloc(gemmPackFloats(N, K)).at() },
            }),
          );
        }
        suite.ex.run(jobs);
        return c.read();
      });
      for (let i = 0; i < want.length; i++) {
        const w = want[i] as number;
        if (!(Math.abs((got[i] as number) - w) <= 1e-5 * Math.sqrt(K + 1) * (1 + Math.abs(w)))) {
          expect.fail(`C[${i}] = ${got[i]}, want ${w} (${JSON.stringify({ M, N, K, alpha, beta, parts })})`);
        }
      }
    };

    it('on partial row groups, more rows than a block (64) and depths over a block (256)', () => {
      for (const M of [1, 3, 5, 6, 7, 66, 131])
        for (const N of [1, 9, 40]) for (const K of [1, 17, 300]) check(M, N, K, 1, 0, 1);
    });

    it('with alpha, beta and rows split over jobs', () => {
      check(70, 24, 520, 0.5, 1, 2);
      check(130, 33, 260, 1, 0.25, 3);
    });
  },
);

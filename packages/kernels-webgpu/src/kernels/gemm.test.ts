import { Generator, randn, sgemm } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { type GemmTile, recordGemm } from './gemm.js';

const { runtime, reason } = await testRuntime();

describe.skipIf(!runtime)(`gemm kernel against the CPU sgemm${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const gpu = runtime as NonNullable<typeof runtime>;
  afterAll(() => gpu.dispose());

  const upload = (data: Float32Array): GPUBuffer => {
    const b = gpu.acquire(Math.max(4, data.byteLength), STORAGE_USAGE);
    gpu.write(b, data);
    return b;
  };
  const tol = (want: number, K: number) => 1e-5 + 1e-4 * Math.abs(want) + 2e-6 * Math.sqrt(K);

  interface Case {
    M: number;
    N: number;
    K: number;
    transA?: boolean;
    transB?: boolean;
    accumulate?: boolean;
    tile?: GemmTile;
    seed?: number;
  }

  /** C = op(A)·op(B) (+ C) on both, compared element-wise. */
  async function check({
    M,
    N,
    K,
    transA = false,
    transB = false,
    accumulate = false,
    tile,
    seed = 1,
  }: Case) {
    const g = new Generator(seed);
    const [A, B, C] = [M * K, K * N, M * N].map((n) => randn([n], { generator: g }).dataSync()) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const want = C.slice();
    const [lda, ldb] = [transA ? M : K, transB ? K : N];
    sgemm(transA, transB, M, N, K, 1, A, 0, lda, B, 0, ldb, accumulate ? 1 : 0, want, 0, N);
    const [a, b, c] = [upload(A), upload(B), upload(C)];
    const rec = gpu.recorder();
    recordGemm(rec, {
      ...{ M, N, K, a, aOffset: [0], sai: transA ? 1 : lda, sap: transA ? lda : 1 },
      ...{ b: [b], sbp: transB ? 1 : ldb, sbj: transB ? ldb : 1, c, cOffset: [0], ldc: N, accumulate },
      ...(tile ? { tile } : {}),
    });
    rec.submit();
    const got = await gpu.read(c, M * N);
    for (const x of [a, b, c]) gpu.release(x);
    for (let i = 0; i < M * N; i++) {
      const w = want[i] as number;
      expect(Math.abs((got[i] as number) - w), `element ${i} of ${M}×${N}×${K}`).toBeLessThanOrEqual(
        tol(w, K),
      );
    }
  }

  it.each([
    [1, 1, 1],
    [3, 5, 7],
    [17, 33, 9],
    [65, 63, 31],
    [130, 70, 129],
    [1, 200, 50],
  ])('odd sizes %i×%i×%i, all transpositions, both tiles', async (M, N, K) => {
    for (const tile of ['wide', 'skinny'] as const) {
      for (const [transA, transB] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        await check({ M, N, K, transA, transB, tile, seed: M * 7 + N });
      }
      await check({ M, N, K, transB: true, accumulate: true, tile, seed: 3 });
    }
  });

  it('equals the CPU on random sizes', async () => {
    const sizes = fc.record({
      M: fc.integer({ min: 1, max: 100 }),
      N: fc.integer({ min: 1, max: 100 }),
      K: fc.integer({ min: 1, max: 100 }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      accumulate: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    await fc.assert(fc.asyncProperty(sizes, check), { numRuns: 25 });
  });

  it('fuses bias, accumulation and activation, runs two problems (z) per dispatch, reads A from C', async () => {
    // the recurrence of a bidirectional layer at one step: rows of C hold h_{t−1} (A) and xproj_t (C)
    const [M, H] = [5, 37];
    const g = new Generator(4);
    const [w0, w1, bias0, bias1] = [H * H, H * H, H, H].map((n) =>
      randn([n], { generator: g }).dataSync(),
    ) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const buf = randn([2 * M * 2 * H], { generator: g }).dataSync(); // rows: [h_{t−1} (M) ; xproj_t (M)] × 2H
    const want = buf.slice();
    [w0, w1].forEach((w, z) => {
      const bias = z ? bias1 : bias0;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < H; j++) {
          let acc = 0;
          for (let k = 0; k < H; k++)
            acc += (buf[i * 2 * H + z * H + k] as number) * (w[j * H + k] as number);
          const at = (M + i) * 2 * H + z * H + j;
          want[at] = Math.tanh((buf[at] as number) + acc + (bias[j] as number));
        }
      }
    });
    const [b0, b1, c0, c1, c] = [w0, w1, bias0, bias1, buf].map(upload) as [
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
    ];
    const rec = gpu.recorder();
    recordGemm(rec, {
      ...{ M, N: H, K: H, a: 'c', aOffset: [0, H], sai: 2 * H, sap: 1, b: [b0, b1], sbp: 1, sbj: H },
      ...{ bias: [c0, c1], c, cOffset: [M * 2 * H, M * 2 * H + H], ldc: 2 * H },
      ...{ accumulate: true, activation: 'tanh' as const },
    });
    rec.submit();
    const got = await gpu.read(c, buf.length);
    want.forEach((w, i) => {
      expect(Math.abs((got[i] as number) - w), `element ${i}`).toBeLessThanOrEqual(tol(w, H));
    });
  });
  it('reads op(B) from an offset per problem (bOffset): column blocks of one matrix, transposed', async () => {
    // dW_d = Gᵀ·X_d over R rows, X_d the columns d·K… of a (R, 2K) matrix (a bidirectional layer's saved h)
    const [R, M, K] = [9, 6, 4];
    const g = new Generator(8);
    const [G, X] = [R * M, R * 2 * K].map((n) => randn([n], { generator: g }).dataSync()) as [
      Float32Array,
      Float32Array,
    ];
    const want = new Float32Array(2 * M * K);
    for (let z = 0; z < 2; z++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < K; j++) {
          let acc = 0;
          for (let r = 0; r < R; r++) acc += (G[r * M + i] as number) * (X[r * 2 * K + z * K + j] as number);
          want[z * M * K + i * K + j] = acc;
        }
    const [a, b, c] = [upload(G), upload(X), upload(new Float32Array(2 * M * K))];
    const rec = gpu.recorder();
    recordGemm(rec, {
      ...{
        M,
        N: K,
        K: R,
        a,
        aOffset: [0, 0],
        sai: 1,
        sap: M,
        b: [b, b],
        bOffset: [0, K],
        sbp: 2 * K,
        sbj: 1,
      },
      ...{ c, cOffset: [0, M * K], ldc: K },
    });
    rec.submit();
    const got = await gpu.read(c, want.length);
    want.forEach((w, i) => {
      expect(Math.abs((got[i] as number) - w), `element ${i}`).toBeLessThanOrEqual(tol(w, R));
    });
  });
});

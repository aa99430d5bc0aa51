import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sgemm } from './gemm.js';
import { type GemmCase, gemmOperands } from './testing/gemm-case.js';

type Case = GemmCase;

/** Runs sgemm on random data laid out as the case says and checks every element of C against float64. */
function check({ transA, transB, M, N, K, alpha = 1, beta = 0, pad = 0 }: Case, seed = 1): void {
  const { A, B, C, lda, ldb, ldc } = gemmOperands({ transA, transB, M, N, K, pad }, seed);
  const before = C.slice();
  sgemm(transA, transB, M, N, K, alpha, A, pad, lda, B, pad, ldb, beta, C, pad, ldc);
  const a = (i: number, p: number): number => A[pad + (transA ? p * lda + i : i * lda + p)] as number;
  const b = (p: number, j: number): number => B[pad + (transB ? j * ldb + p : p * ldb + j)] as number;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let p = 0; p < K; p++) s += a(i, p) * b(p, j);
      const at = pad + i * ldc + j;
      const want = alpha * s + (beta === 0 ? 0 : beta * (before[at] as number));
      const got = C[at] as number;
      if (!(Math.abs(got - want) <= 1e-5 + 1e-4 * Math.abs(want))) {
        expect.fail(
          `${JSON.stringify({ transA, transB, M, N, K, alpha, beta, pad })}: C[${i}][${j}] = ${got}, want ${want}`,
        );
      }
    }
  }
  // Elements outside the M×N block (offset, leading-dimension padding) are untouched.
  for (let at = 0; at < C.length; at++) {
    const i = Math.floor((at - pad) / ldc);
    const j = at - pad - i * ldc;
    if (at < pad || j >= N) expect(C[at]).toBe(before[at]);
  }
}

const TRANS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe('sgemm', () => {
  it('matches float64 on odd square sizes, all four transpositions', () => {
    for (const [transA, transB] of TRANS) {
      for (const n of [1, 3, 7, 17, 33, 65, 127, 129, 257]) check({ transA, transB, M: n, N: n, K: n });
    }
  });

  it('matches on mixed shapes: thin, wide, deep, and both sides of the packing threshold', () => {
    const shapes = [
      [1, 1, 1],
      [2, 3, 3],
      [1, 257, 65],
      [3, 129, 33],
      [5, 7, 300],
      [64, 1, 129],
      [127, 33, 1],
      [129, 65, 17],
      [128, 128, 40],
      [130, 17, 513],
      [257, 10, 7],
      [300, 301, 260],
      [131, 3100, 5], // more columns than one packed block of op(B)
    ];
    for (const [transA, transB] of TRANS) {
      for (const [M, N, K] of shapes)
        check({ transA, transB, M: M as number, N: N as number, K: K as number });
    }
  });

  it('honours offsets and leading dimensions larger than the rows', () => {
    for (const [transA, transB] of TRANS) {
      for (const [M, N, K] of [
        [3, 5, 7],
        [17, 33, 65],
        [129, 7, 257],
        [130, 129, 260],
      ]) {
        check({ transA, transB, M: M as number, N: N as number, K: K as number, pad: 3 });
      }
    }
  });

  it('scales by alpha and accumulates with beta', () => {
    for (const [alpha, beta] of [
      [2, 0],
      [-0.5, 1],
      [1, 0.25],
      [0, 1],
      [0, 0],
      [0, -3],
      [1.5, -2],
    ]) {
      for (const [M, N, K] of [
        [2, 3, 3],
        [17, 33, 300],
        [130, 20, 20],
      ]) {
        check({
          transA: false,
          transB: true,
          M: M as number,
          N: N as number,
          K: K as number,
          alpha,
          beta,
          pad: 1,
        });
      }
    }
  });

  it('with K = 0 scales C by beta (zeroing it when beta = 0)', () => {
    const C = Float32Array.of(1, 2, Number.NaN, 4);
    sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, 1, new Float32Array(0), 0, 2, 2, C, 0, 2);
    expect([...C]).toEqual([2, 4, Number.NaN, 8]);
    sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, 1, new Float32Array(0), 0, 2, 0, C, 0, 2);
    expect([...C]).toEqual([0, 0, 0, 0]);
  });

  it('leaves C alone when M or N is 0', () => {
    const C = Float32Array.of(5);
    sgemm(false, false, 0, 1, 3, 1, new Float32Array(0), 0, 3, new Float32Array(3), 0, 1, 0, C, 0, 1);
    sgemm(false, false, 1, 0, 3, 1, new Float32Array(3), 0, 3, new Float32Array(0), 0, 1, 0, C, 0, 1);
    expect(C[0]).toBe(5);
  });

  it('with beta = 0 overwrites NaN and Infinity in C without reading them', () => {
    for (const [M, N, K] of [
      [2, 3, 3],
      [9, 10, 11],
      [200, 7, 5],
    ]) {
      const m = M as number;
      const n = N as number;
      const k = K as number;
      const A = new Float32Array(m * k).fill(1);
      const B = new Float32Array(k * n).fill(2);
      const C = new Float32Array(m * n).map((_, i) => (i % 2 ? Number.NaN : Number.POSITIVE_INFINITY));
      sgemm(false, false, m, n, k, 1, A, 0, k, B, 0, n, 0, C, 0, n);
      expect(C.every((x) => x === 2 * k)).toBe(true);
    }
  });

  it('propagates NaN and Infinity from A into the rows they touch', () => {
    for (const M of [3, 9, 200]) {
      const K = 5;
      const N = 7;
      const A = new Float32Array(M * K).fill(1);
      A[0 * K + 2] = Number.NaN; // row 0
      A[1 * K + 4] = Number.POSITIVE_INFINITY; // row 1
      const B = new Float32Array(N * K).fill(1);
      const C = new Float32Array(M * N);
      sgemm(false, true, M, N, K, 1, A, 0, K, B, 0, K, 0, C, 0, N);
      for (let j = 0; j < N; j++) {
        expect(C[j]).toBeNaN();
        expect(C[N + j]).toBe(Number.POSITIVE_INFINITY);
        expect(C[2 * N + j]).toBe(K);
      }
    }
  });

  it('matches float64 on random sizes, transpositions, offsets and scalars (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          transA: fc.boolean(),
          transB: fc.boolean(),
          M: fc.integer({ min: 0, max: 140 }),
          N: fc.integer({ min: 0, max: 140 }),
          K: fc.integer({ min: 0, max: 270 }),
          alpha: fc.constantFrom(1, -1, 0.5, 3),
          beta: fc.constantFrom(0, 1, -0.5),
          pad: fc.integer({ min: 0, max: 3 }),
        }),
        fc.integer(),
        (c, seed) => check(c, seed),
      ),
      { numRuns: 150 },
    );
  });

  describe('argument errors', () => {
    const A = new Float32Array(6);
    const B = new Float32Array(12);
    const C = new Float32Array(8);
    const call = (over: Partial<Record<string, unknown>>) => () => {
      const v = {
        M: 2,
        N: 4,
        K: 3,
        lda: 3,
        ldb: 4,
        ldc: 4,
        aOffset: 0,
        bOffset: 0,
        cOffset: 0,
        A,
        B,
        C,
        ...over,
      };
      sgemm(
        false,
        false,
        v.M as number,
        v.N as number,
        v.K as number,
        1,
        v.A as Float32Array,
        v.aOffset as number,
        v.lda as number,
        v.B as Float32Array,
        v.bOffset as number,
        v.ldb as number,
        0,
        v.C as Float32Array,
        v.cOffset as number,
        v.ldc as number,
      );
    };

    it('accepts the valid baseline', () => expect(call({})).not.toThrow());

    it('rejects bad dimensions', () => {
      expect(call({ M: -1 })).toThrow(new RangeError('sgemm: M must be a non-negative integer, received -1'));
      expect(call({ N: 1.5 })).toThrow(
        new RangeError('sgemm: N must be a non-negative integer, received 1.5'),
      );
      expect(call({ K: Number.NaN })).toThrow(
        new RangeError('sgemm: K must be a non-negative integer, received NaN'),
      );
    });

    it('rejects leading dimensions shorter than a stored row', () => {
      expect(call({ lda: 2 })).toThrow(
        new RangeError('sgemm: lda must be an integer >= 3 (max(1, K)), received 2'),
      );
      expect(call({ ldb: 3 })).toThrow(
        new RangeError('sgemm: ldb must be an integer >= 4 (max(1, N)), received 3'),
      );
      expect(call({ ldc: 0 })).toThrow(
        new RangeError('sgemm: ldc must be an integer >= 4 (max(1, N)), received 0'),
      );
      expect(() => sgemm(true, true, 2, 4, 3, 1, A, 0, 1, B, 0, 3, 0, C, 0, 4)).toThrow(
        'sgemm: lda must be an integer >= 2 (max(1, M)), received 1',
      );
      expect(() => sgemm(true, true, 2, 4, 3, 1, A, 0, 2, B, 0, 2, 0, C, 0, 4)).toThrow(
        'sgemm: ldb must be an integer >= 3 (max(1, K)), received 2',
      );
    });

    it('rejects bad offsets', () => {
      expect(call({ aOffset: -1 })).toThrow(
        new RangeError('sgemm: offset of A must be a non-negative integer, received -1'),
      );
      expect(call({ bOffset: 0.5 })).toThrow(
        'sgemm: offset of B must be a non-negative integer, received 0.5',
      );
      expect(call({ cOffset: -2 })).toThrow('sgemm: offset of C must be a non-negative integer, received -2');
    });

    it('rejects arrays too short for their offset, shape and leading dimension', () => {
      expect(call({ aOffset: 1 })).toThrow(
        new RangeError('sgemm: A is too short: 2×3 from offset 1 with lda = 3 needs length >= 7, received 6'),
      );
      expect(call({ ldb: 5 })).toThrow(
        'sgemm: B is too short: 3×4 from offset 0 with ldb = 5 needs length >= 14, received 12',
      );
      expect(call({ C: new Float32Array(7) })).toThrow(
        'sgemm: C is too short: 2×4 from offset 0 with ldc = 4 needs length >= 8, received 7',
      );
    });

    it('rejects arrays that are not Float32Array', () => {
      expect(call({ A: new Float64Array(6) })).toThrow(
        new TypeError('sgemm: A must be a Float32Array, received [object Float64Array]'),
      );
      expect(call({ C: [0, 0] })).toThrow('sgemm: C must be a Float32Array, received [object Array]');
    });
  });
});

import { describe, expect, it } from 'vitest';
import { numelOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { addmm, bmm, matmul } from './matmul.js';

/** A tensor of deterministic values in [-1, 1) (a small LCG, so each shape gets fresh numbers). */
let state = 12345;
function rand(shape: Shape): Tensor {
  const data = new Float32Array(numelOf(shape));
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state / 2 ** 31 - 1;
  }
  return Tensor.fromArray(data, shape);
}

function t(data: number[], shape: Shape): Tensor {
  return Tensor.fromArray(Float32Array.from(data), shape);
}

/** torch.matmul written out with multi-indices and float64 sums, independent of the implementation. */
function naiveMatmul(a: Tensor, b: Tensor): { shape: number[]; data: number[] } {
  const as = a.ndim === 1 ? [1, ...a.shape] : [...a.shape];
  const bs = b.ndim === 1 ? [...b.shape, 1] : [...b.shape];
  const [n, m] = as.slice(-2) as [number, number];
  const p = bs.at(-1) as number;
  const ba = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const nb = Math.max(ba.length, bb.length);
  const batch = Array.from({ length: nb }, (_, d) =>
    Math.max(ba[d - nb + ba.length] ?? 1, bb[d - nb + bb.length] ?? 1),
  );
  const x = a.dataSync();
  const y = b.dataSync();
  const data: number[] = [];
  const index = new Array<number>(nb).fill(0);
  for (let t = 0; t < numelOf(batch); t++) {
    // Offsets of this batch entry in a and b: dimensions of size 1 repeat.
    let ao = 0;
    let bo = 0;
    for (let d = 0; d < nb; d++) {
      const da = ba[d - nb + ba.length];
      const db = bb[d - nb + bb.length];
      if (da !== undefined) ao = ao * da + (da === 1 ? 0 : (index[d] as number));
      if (db !== undefined) bo = bo * db + (db === 1 ? 0 : (index[d] as number));
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) {
        let s = 0;
        for (let k = 0; k < m; k++)
          s += (x[(ao * n + i) * m + k] as number) * (y[(bo * m + k) * p + j] as number);
        data.push(s);
      }
    }
    for (let d = nb - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if (index[d] !== batch[d]) break;
      index[d] = 0;
    }
  }
  const shape = [...batch, ...(a.ndim === 1 ? [] : [n]), ...(b.ndim === 1 ? [] : [p])];
  return { shape, data };
}

function expectClose(got: Tensor, want: { shape: number[]; data: number[] }): void {
  expect(got.shape).toEqual(want.shape);
  const data = got.dataSync();
  expect(data.length).toBe(want.data.length);
  want.data.forEach((w, i) => {
    const g = data[i] as number;
    if (!(Math.abs(g - w) <= 1e-5 + 1e-4 * Math.abs(w))) expect.fail(`element ${i}: got ${g}, want ${w}`);
  });
}

describe('matmul', () => {
  it('multiplies small matrices exactly like torch.matmul', () => {
    const a = t([1, 2, 3, 4], [2, 2]);
    const b = t([5, 6, 7, 8], [2, 2]);
    expect(matmul(a, b).tolist()).toEqual([
      [19, 22],
      [43, 50],
    ]);
  });

  it('1-D · 1-D is a dot product of shape []', () => {
    const r = matmul(t([1, 2, 3], [3]), t([4, 5, 6], [3]));
    expect(r.shape).toEqual([]);
    expect(r.item()).toBe(32);
  });

  it('promotes 1-D arguments and removes the added dimension', () => {
    const v = t([1, 2], [2]);
    const m = t([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(matmul(v, m).shape).toEqual([3]);
    expect(matmul(v, m).tolist()).toEqual([9, 12, 15]);
    const w = t([1, 0, -1], [3]);
    expect(matmul(m, w).tolist()).toEqual([-2, -2]);
  });

  it('matches a naive implementation on 2-D, 1-D and batched shapes with broadcasting', () => {
    const cases: [Shape, Shape][] = [
      [
        [3, 4],
        [4, 5],
      ],
      [
        [1, 1],
        [1, 1],
      ],
      [
        [17, 33],
        [33, 9],
      ],
      [
        [130, 70],
        [70, 20],
      ],
      [[7], [7]],
      [[7], [7, 3]],
      [[5, 7], [7]],
      [[7], [2, 7, 3]],
      [[2, 3, 5, 7], [7]],
      [
        [2, 3, 4],
        [2, 4, 5],
      ],
      [
        [2, 3, 4],
        [4, 5],
      ],
      [
        [3, 4],
        [2, 4, 5],
      ],
      [
        [2, 1, 3, 4],
        [5, 4, 6],
      ],
      [
        [1, 3, 4],
        [2, 1, 4, 6],
      ],
      [
        [4, 1, 2, 3],
        [1, 5, 3, 2],
      ],
      [
        [3, 4],
        [1, 1, 4, 2],
      ],
      [
        [40, 3, 5],
        [5, 2],
      ],
    ];
    for (const [sa, sb] of cases) {
      const a = rand(sa);
      const b = rand(sb);
      expectClose(matmul(a, b), naiveMatmul(a, b));
    }
  });

  it('handles empty dimensions (K = 0 gives zeros)', () => {
    expect(matmul(rand([2, 0]), rand([0, 3])).tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(matmul(rand([0, 4]), rand([4, 3])).shape).toEqual([0, 3]);
    expect(matmul(rand([0, 2, 4]), rand([1, 4, 3])).shape).toEqual([0, 2, 3]);
    expect(matmul(rand([2, 0, 4]), rand([2, 4, 3])).shape).toEqual([2, 0, 3]);
  });

  it('names both shapes when the inner dimensions differ', () => {
    expect(() => matmul(rand([2, 3]), rand([4, 5]))).toThrow(
      new RangeError('matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)'),
    );
    expect(() => matmul(rand([3]), rand([4]))).toThrow(
      'matmul: shapes [3] and [4] cannot be multiplied (3 != 4)',
    );
    expect(() => matmul(rand([2, 3, 4]), rand([5]))).toThrow(
      'matmul: shapes [2, 3, 4] and [5] cannot be multiplied (4 != 5)',
    );
  });

  it('rejects 0-D arguments and batch dimensions that do not broadcast', () => {
    expect(() => matmul(rand([]), rand([2, 3]))).toThrow(
      new RangeError('matmul: both arguments need to be at least 1-D, received shapes [] and [2, 3]'),
    );
    expect(() => matmul(rand([2, 3, 4]), rand([3, 4, 5]))).toThrow(
      new RangeError('matmul: batch dimensions [2] of [2, 3, 4] and [3] of [3, 4, 5] are not broadcastable'),
    );
  });

  it('rejects non-tensors', () => {
    expect(() => matmul(null as unknown as Tensor, rand([2]))).toThrow(
      new TypeError('matmul: expected a Tensor, received null'),
    );
  });
});

describe('bmm', () => {
  it('matches a naive implementation', () => {
    for (const [b, n, m, p] of [
      [1, 1, 1, 1],
      [3, 4, 5, 6],
      [2, 17, 33, 9],
      [0, 2, 3, 4],
    ] as [number, number, number, number][]) {
      const x = rand([b, n, m]);
      const y = rand([b, m, p]);
      expectClose(bmm(x, y), naiveMatmul(x, y));
    }
  });

  it('requires 3-D tensors with equal batch sizes and matching inner dimensions', () => {
    expect(() => bmm(rand([2, 3]), rand([2, 3, 4]))).toThrow(
      new RangeError('bmm: expected 3-D tensors, received shapes [2, 3] and [2, 3, 4]'),
    );
    expect(() => bmm(rand([2, 3, 4]), rand([1, 2, 4, 5]))).toThrow(
      'bmm: expected 3-D tensors, received shapes [2, 3, 4] and [1, 2, 4, 5]',
    );
    expect(() => bmm(rand([2, 3, 4]), rand([3, 4, 5]))).toThrow(
      new RangeError('bmm: batch sizes differ: 2 vs 3'),
    );
    expect(() => bmm(rand([2, 3, 4]), rand([2, 5, 6]))).toThrow(
      new RangeError('bmm: shapes [2, 3, 4] and [2, 5, 6] cannot be multiplied (4 != 5)'),
    );
  });
});

describe('addmm', () => {
  it('computes beta·input + alpha·mat1·mat2 with input broadcast to (n, p)', () => {
    const mat1 = rand([5, 7]);
    const mat2 = rand([7, 3]);
    const prod = naiveMatmul(mat1, mat2).data;
    for (const shape of [[5, 3], [3], [1, 3], [5, 1], [1], []] as Shape[]) {
      const input = rand(shape);
      const z = input.dataSync();
      const rows = shape.length === 2 ? (shape[0] as number) : 1;
      const cols = shape.length >= 1 ? (shape.at(-1) as number) : 1;
      for (const [beta, alpha] of [
        [1, 1],
        [0.5, -2],
        [-1, 0],
      ] as [number, number][]) {
        const want = prod.map((v, idx) => {
          const i = Math.floor(idx / 3);
          const j = idx % 3;
          return beta * (z[(rows === 1 ? 0 : i) * cols + (cols === 1 ? 0 : j)] as number) + alpha * v;
        });
        expectClose(addmm(input, mat1, mat2, { beta, alpha }), { shape: [5, 3], data: want });
      }
      expectClose(addmm(input, mat1, mat2), {
        shape: [5, 3],
        data: prod.map(
          (v, idx) =>
            v + (z[(rows === 1 ? 0 : Math.floor(idx / 3)) * cols + (cols === 1 ? 0 : idx % 3)] as number),
        ),
      });
    }
  });

  it('with beta = 0 ignores input, NaN included', () => {
    const input = t([Number.NaN, Number.POSITIVE_INFINITY], [2]);
    const r = addmm(input, t([1, 2, 3, 4], [2, 2]), t([1, 0, 0, 1], [2, 2]), { beta: 0 });
    expect(r.tolist()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('names shapes in its errors', () => {
    expect(() => addmm(rand([3]), rand([3]), rand([3, 3]))).toThrow(
      new RangeError('addmm: expected 2-D mat1 and mat2, received shapes [3] and [3, 3]'),
    );
    expect(() => addmm(rand([3]), rand([2, 3]), rand([4, 5]))).toThrow(
      new RangeError('addmm: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)'),
    );
    expect(() => addmm(rand([4]), rand([2, 3]), rand([3, 5]))).toThrow(
      new RangeError('addmm: input of shape [4] cannot be broadcast to [2, 5]'),
    );
    expect(() => addmm(rand([1, 2, 5]), rand([2, 3]), rand([3, 5]))).toThrow(
      'addmm: input of shape [1, 2, 5] cannot be broadcast to [2, 5]',
    );
  });
});

// Property tests: every op's gradient equals central finite differences of its own forward.
// The forward runs in float32, so the check is made well-conditioned instead of float64: the loss
// L = Σ out·u is summed in float64 from the float32 outputs, eps = 1e-2 on inputs of magnitude ≤ 2 kept
// away from kinks (relu/abs at 0, ties of max/min), and the tolerance is relaxed to 3e-3 + 3e-2·|fd|
// (the O(eps²) truncation of exp/tanh and float32 rounding of the outputs, divided by 2·eps).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  abs,
  add,
  addmm,
  bmm,
  cat,
  div,
  exp,
  expand,
  flip,
  gather,
  indexSelect,
  logSoftmax,
  matmul,
  max,
  mean,
  min,
  mul,
  narrow,
  neg,
  noGrad,
  permute,
  relu,
  reshape,
  type Shape,
  select,
  sigmoid,
  softmax,
  stack,
  sub,
  sum,
  Tensor,
  tanh,
  tensor,
  tile,
  transpose,
} from '../index.js';

const EPS = 1e-2;

/** Deterministic values in [-2, 2] from a seed (a small LCG), kept |x| ≥ 0.1 so kinks stay away. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    const v = 4 * u - 2;
    out[i] = Math.abs(v) < 0.1 ? v + Math.sign(v || 1) * 0.15 : v;
  }
  return out;
}

function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks d(Σ f(xs)·u)/dxs against central differences for the inputs listed in `shapes`. */
function gradcheck(shapes: Shape[], f: (xs: Tensor[]) => Tensor, seed: number, distinct = false): void {
  const xs = shapes.map((s, k) => Tensor.fromArray(values(numel(s), seed + 7919 * k), s));
  if (distinct) {
    // max/min: make every value distinct by a margin so the chosen index does not move within ±eps
    for (const x of xs) {
      const d = x.dataSync();
      const order = Array.from(d.keys()).sort((a, b) => (d[a] as number) - (d[b] as number));
      order.forEach((i, r) => {
        d[i] = -2 + (4 * r) / Math.max(1, order.length - 1);
      });
    }
  }
  const out0 = noGrad(() => f(xs));
  const u = values(out0.numel(), seed ^ 0x5bd1e995);
  const loss = (): number => {
    const o = noGrad(() => f(xs)).dataSync();
    let acc = 0;
    for (let i = 0; i < o.length; i++) acc += (o[i] as number) * (u[i] as number);
    return acc;
  };
  const leaves = xs.map((x) => x.detach().requiresGrad_());
  f(leaves).backward(Tensor.fromArray(u, out0.shape));
  xs.forEach((x, k) => {
    const d = x.dataSync();
    const g = leaves[k]?.grad?.dataSync();
    if (g === undefined) throw new Error(`input ${k}: no gradient`);
    for (let i = 0; i < d.length; i++) {
      const v = d[i] as number;
      d[i] = v + EPS;
      const up = loss();
      d[i] = v - EPS;
      const down = loss();
      d[i] = v;
      const fd = (up - down) / (Math.fround(v + EPS) - Math.fround(v - EPS));
      const got = g[i] as number;
      if (!(Math.abs(got - fd) <= 3e-3 + 3e-2 * Math.abs(fd))) {
        throw new Error(`input ${k} element ${i}: gradient ${got}, finite difference ${fd}`);
      }
    }
  });
}

const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const dim = fc.integer({ min: 1, max: 3 });
const shape = fc.array(dim, { minLength: 0, maxLength: 3 });

/** A shape and a second shape that broadcasts with it (some dims set to 1, some leading ones dropped). */
const broadcastPair = fc
  .tuple(shape, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 3 }))
  .map(([a, ones, drop]) => {
    const b = a.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, a.length));
    return [a, b] as [number[], number[]];
  });

const runs = { numRuns: 25 };

describe('gradients equal central finite differences (fast-check)', () => {
  it.each([
    ['neg', neg],
    ['abs', abs],
    ['exp', exp],
    ['tanh', tanh],
    ['relu', relu],
    ['sigmoid', sigmoid],
  ] as const)('%s', (_name, op) => {
    fc.assert(
      fc.property(shape, seed, (s, k) => gradcheck([s], ([x]) => op(x as Tensor), k)),
      runs,
    );
  });

  it.each([
    ['add', add],
    ['sub', sub],
    ['mul', mul],
  ] as const)('%s with broadcasting', (_name, op) => {
    fc.assert(
      fc.property(broadcastPair, fc.boolean(), seed, ([a, b], swap, k) =>
        gradcheck(swap ? [b, a] : [a, b], ([x, y]) => op(x as Tensor, y as Tensor), k),
      ),
      runs,
    );
  });

  it('div with broadcasting (denominator kept in [1, 3])', () => {
    fc.assert(
      fc.property(broadcastPair, seed, ([a, b], k) =>
        gradcheck([a, b], ([x, y]) => div(x as Tensor, add(abs(y as Tensor), 1)), k),
      ),
      runs,
    );
  });

  it('sum and mean, whole or along a dim', () => {
    fc.assert(
      fc.property(
        fc.array(dim, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.boolean(),
        seed,
        (s, d, keep, k) => {
          const axis = d % s.length;
          gradcheck([s], ([x]) => sum(x as Tensor, axis, keep), k);
          gradcheck([s], ([x]) => mean(x as Tensor, axis, keep), k);
          gradcheck([s], ([x]) => mean(x as Tensor), k);
        },
      ),
      runs,
    );
  });

  it('max and min (distinct values)', () => {
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 3 }), fc.nat(), seed, (s, d, k) => {
        const axis = d % s.length;
        gradcheck([s], ([x]) => max(x as Tensor, axis)[0], k, true);
        gradcheck([s], ([x]) => min(x as Tensor, axis, true)[0], k, true);
        gradcheck([s], ([x]) => max(x as Tensor), k, true);
      }),
      runs,
    );
  });

  it('matmul over ranks 1 to 3, bmm and addmm', () => {
    fc.assert(
      fc.property(dim, dim, dim, dim, fc.integer({ min: 0, max: 8 }), seed, (b, n, m, p, kind, k) => {
        const ranks: [Shape, Shape][] = [
          [[m], [m]],
          [[n, m], [m]],
          [[m], [m, p]],
          [
            [n, m],
            [m, p],
          ],
          [
            [b, n, m],
            [m, p],
          ],
          [
            [b, n, m],
            [b, m, p],
          ],
          [
            [n, m],
            [b, m, p],
          ],
          [
            [b, 1, n, m],
            [b, m, p],
          ],
          [[m], [b, m, p]],
        ];
        gradcheck(ranks[kind] as Shape[], ([x, y]) => matmul(x as Tensor, y as Tensor), k);
        gradcheck(
          [
            [b, n, m],
            [b, m, p],
          ],
          ([x, y]) => bmm(x as Tensor, y as Tensor),
          k,
        );
        gradcheck(
          [[p], [n, m], [m, p]],
          ([c, x, y]) => addmm(c as Tensor, x as Tensor, y as Tensor, { beta: 0.5, alpha: 2 }),
          k,
        );
      }),
      runs,
    );
  });

  it('softmax and logSoftmax along any dim', () => {
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 3 }), fc.nat(), seed, (s, d, k) => {
        const axis = d % s.length;
        gradcheck([s], ([x]) => softmax(x as Tensor, axis), k);
        gradcheck([s], ([x]) => logSoftmax(x as Tensor, axis), k);
      }),
      runs,
    );
  });

  it('layout ops: reshape, permute, transpose, expand, tile, select, narrow, flip, cat, stack', () => {
    fc.assert(
      fc.property(dim, dim, dim, seed, (a, b, c, k) => {
        const s = [a, b, c];
        gradcheck([s], ([x]) => reshape(x as Tensor, [c, -1]), k);
        gradcheck([s], ([x]) => permute(x as Tensor, [1, 2, 0]), k);
        gradcheck([s], ([x]) => transpose(x as Tensor, 0, 2), k);
        gradcheck([[a, 1, c]], ([x]) => expand(x as Tensor, [2, a, b, c]), k);
        gradcheck([s], ([x]) => tile(x as Tensor, [2, 1, 2]), k);
        gradcheck([s], ([x]) => select(x as Tensor, 1, b - 1), k);
        gradcheck([s], ([x]) => narrow(x as Tensor, 2, c - 1, 1), k);
        gradcheck([s], ([x]) => flip(x as Tensor, [0, 2]), k);
        gradcheck([s, [a, 2, c]], ([x, y]) => cat([x as Tensor, y as Tensor], 1), k);
        gradcheck([s, s], ([x, y]) => stack([x as Tensor, y as Tensor], 2), k);
      }),
      runs,
    );
  });

  it('gather and indexSelect with repeated indices', () => {
    fc.assert(
      fc.property(dim, dim, seed, (a, b, k) => {
        const idx = tensor(
          Array.from({ length: a * 3 }, (_, i) => (i * 7 + k) % b),
          [a, 3],
          { dtype: 'int32' },
        );
        gradcheck([[a, b]], ([x]) => gather(x as Tensor, 1, idx), k);
        const rows = tensor([0, a - 1, 0], undefined, { dtype: 'int32' });
        gradcheck([[a, b]], ([x]) => indexSelect(x as Tensor, 0, rows), k);
      }),
      runs,
    );
  });
});

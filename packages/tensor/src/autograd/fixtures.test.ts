import { describe, expect, it } from 'vitest';
import type { AutogradCase } from '../../../../fixtures/load.js';
import {
  abs,
  add,
  addmm,
  bmm,
  cat,
  clone,
  div,
  embedding,
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
  permute,
  relu,
  reshape,
  select,
  sigmoid,
  softmax,
  squeeze,
  stack,
  sub,
  sum,
  type Tensor,
  tanh,
  tile,
  topk,
  transpose,
  unsqueeze,
  view,
} from '../index.js';
import { autogradFixture, expectGradClose } from '../testing/autograd-fixture.js';
import { floats, ints } from '../testing/ops-fixture.js';

type Args = AutogradCase['args'];
type Op = (x: Record<string, Tensor>, i: Record<string, Tensor<'int32'>>, a: Args) => Tensor;

const num = (a: Args, k: string): number => a[k] as number;
const opt = (a: Args, k: string): number | undefined => a[k] as number | undefined;
const dims = (a: Args, k: string): number[] => a[k] as number[];

/** The expressions of autograd_cases.py, written with our ops (`x.a` is the input named `a`). */
const OPS: Record<string, Op> = {
  add: (x) => add(x.a as Tensor, x.b as Tensor),
  sub: (x) => sub(x.a as Tensor, x.b as Tensor),
  mul: (x) => mul(x.a as Tensor, x.b as Tensor),
  div: (x) => div(x.a as Tensor, x.b as Tensor),
  addScalar: (x, _, a) => add(x.x as Tensor, num(a, 'c')),
  rsub: (x, _, a) => sub(num(a, 'c'), x.x as Tensor),
  subScalar: (x, _, a) => sub(x.x as Tensor, num(a, 'c')),
  mulScalar: (x, _, a) => mul(x.x as Tensor, num(a, 'c')),
  divScalar: (x, _, a) => div(x.x as Tensor, num(a, 'c')),
  rdiv: (x, _, a) => div(num(a, 'c'), x.x as Tensor),
  neg: (x) => neg(x.x as Tensor),
  abs: (x) => abs(x.x as Tensor),
  exp: (x) => exp(x.x as Tensor),
  tanh: (x) => tanh(x.x as Tensor),
  relu: (x) => relu(x.x as Tensor),
  sigmoid: (x) => sigmoid(x.x as Tensor),
  square: (x) => mul(x.x as Tensor, x.x as Tensor),
  sum: (x, _, a) => sum(x.x as Tensor, opt(a, 'dim'), a.keepdim === true),
  mean: (x, _, a) => mean(x.x as Tensor, opt(a, 'dim'), a.keepdim === true),
  max: (x, _, a) =>
    a.dim === undefined ? max(x.x as Tensor) : max(x.x as Tensor, num(a, 'dim'), a.keepdim === true)[0],
  min: (x, _, a) =>
    a.dim === undefined ? min(x.x as Tensor) : min(x.x as Tensor, num(a, 'dim'), a.keepdim === true)[0],
  topk: (x, _, a) => topk(x.x as Tensor, num(a, 'k'), num(a, 'dim'), a.largest !== false)[0],
  matmul: (x) => matmul(x.a as Tensor, x.b as Tensor),
  bmm: (x) => bmm(x.a as Tensor, x.b as Tensor),
  addmm: (x, _, a) =>
    addmm(x.input as Tensor, x.mat1 as Tensor, x.mat2 as Tensor, {
      beta: opt(a, 'beta'),
      alpha: opt(a, 'alpha'),
    }),
  reshape: (x, _, a) => reshape(x.x as Tensor, dims(a, 'shape')),
  view: (x, _, a) => view(x.x as Tensor, dims(a, 'shape')),
  unsqueeze: (x, _, a) => unsqueeze(x.x as Tensor, num(a, 'dim')),
  squeeze: (x, _, a) => squeeze(x.x as Tensor, opt(a, 'dim')),
  permute: (x, _, a) => permute(x.x as Tensor, dims(a, 'dims')),
  transpose: (x, _, a) => transpose(x.x as Tensor, num(a, 'dim0'), num(a, 'dim1')),
  expand: (x, _, a) => expand(x.x as Tensor, dims(a, 'shape')),
  tile: (x, _, a) => tile(x.x as Tensor, dims(a, 'reps')),
  select: (x, _, a) => select(x.x as Tensor, num(a, 'dim'), num(a, 'index')),
  narrow: (x, _, a) => narrow(x.x as Tensor, num(a, 'dim'), num(a, 'start'), num(a, 'length')),
  flip: (x, _, a) => flip(x.x as Tensor, dims(a, 'dims')),
  cat: (x, _, a) => cat([x.a as Tensor, x.b as Tensor, x.c as Tensor], num(a, 'dim')),
  stack: (x, _, a) => stack([x.a as Tensor, x.b as Tensor], num(a, 'dim')),
  clone: (x) => clone(x.x as Tensor),
  softmax: (x, _, a) => softmax(x.x as Tensor, num(a, 'dim')),
  logSoftmax: (x, _, a) => logSoftmax(x.x as Tensor, num(a, 'dim')),
  gather: (x, i, a) => gather(x.x as Tensor, num(a, 'dim'), i.index as Tensor<'int32'>),
  indexSelect: (x, i, a) => indexSelect(x.x as Tensor, num(a, 'dim'), i.index as Tensor<'int32'>),
  embedding: (x, i, a) =>
    embedding(i.input as Tensor<'int32'>, x.weight as Tensor, { paddingIdx: opt(a, 'paddingIdx') }),
  chain: (x) => sum(tanh(add(mul(x.a as Tensor, x.b as Tensor), x.c as Tensor))),
  shared: (x) => {
    const v = x.x as Tensor;
    return sub(add(mul(v, v), exp(v)), div(v, 3));
  },
  softmaxChain: (x) => {
    const v = x.x as Tensor;
    return sum(mul(softmax(v, 1), logSoftmax(mul(v, 3), 0)));
  },
  meanSquare: (x) => mean(mul(x.x as Tensor, x.x as Tensor)),
  rnn2: (x) => rnn2(x),
};

/** autograd_cases.py's rnn2: layer 0 with addmm over transposed weights, layer 1 with bmm over tiled ones. */
function rnn2(x: Record<string, Tensor>): Tensor {
  const p = (k: string): Tensor => x[k] as Tensor;
  const [T, N] = p('x').shape as [number, number];
  let h = select(p('h0'), 0, 0);
  let outs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    h = tanh(
      add(
        addmm(p('b_ih0'), select(p('x'), 0, t), transpose(p('w_ih0'), 0, 1)),
        addmm(p('b_hh0'), h, transpose(p('w_hh0'), 0, 1)),
      ),
    );
    outs.push(h);
  }
  const layer0 = stack(outs, 0);
  h = select(p('h0'), 0, 1);
  outs = [];
  const wi = tile(p('w_ih1'), [N, 1, 1]);
  const wh = tile(p('w_hh1'), [N, 1, 1]);
  for (let t = 0; t < T; t++) {
    const xi = add(squeeze(bmm(wi, unsqueeze(select(layer0, 0, t), 2)), 2), p('b_ih1'));
    const hh = add(squeeze(bmm(wh, unsqueeze(h, 2)), 2), p('b_hh1'));
    h = tanh(add(xi, hh));
    outs.push(h);
  }
  return stack(outs, 0);
}

describe('gradients match PyTorch 1.13 (fixtures/autograd.json)', () => {
  it('has the cases', () => {
    expect(autogradFixture.cases.length).toBeGreaterThan(100);
  });

  it.each(autogradFixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const op = OPS[c.op];
    if (op === undefined) throw new Error(`no expression for op '${c.op}'`);
    const inputs = Object.fromEntries(
      Object.entries(c.inputs).map(([k, v]) => [k, floats(v).requiresGrad_()]),
    );
    const indices = Object.fromEntries(Object.entries(c.indices).map(([k, v]) => [k, ints(v)]));
    const out = op(inputs, indices, c.args);
    expect(out.gradFn?.name).toBe(c.gradFn);
    expectGradClose(out, floats(c.output), 'output');
    out.backward(c.upstream === null ? undefined : floats(c.upstream));
    for (const [k, want] of Object.entries(c.grads))
      expectGradClose(inputs[k]?.grad ?? null, floats(want), `grad of ${k}`);
  });

  it.each(autogradFixture.cases.map((c) => [c.name, c] as const))(
    '%s records nothing when no input requires grad',
    (_name, c) => {
      const op = OPS[c.op] as Op;
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, floats(v)]));
      const indices = Object.fromEntries(Object.entries(c.indices).map(([k, v]) => [k, ints(v)]));
      const out = op(inputs, indices, c.args);
      expect(out.gradFn).toBeNull();
      expect(out.requiresGrad).toBe(false);
      expectGradClose(out, floats(c.output), 'output');
    },
  );
});

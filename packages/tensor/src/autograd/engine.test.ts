import { describe, expect, it } from 'vitest';
import {
  add,
  enableGrad,
  exp,
  isGradEnabled,
  max,
  mean,
  mul,
  needsGrad,
  noGrad,
  ones,
  randn,
  recordGradFn,
  recordGradFnMulti,
  reshape,
  sum,
  Tensor,
  tanh,
  tensor,
  zeros,
} from '../index.js';

const FREED =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have ' +
  'already been freed). Saved intermediate values of the graph are freed when you call .backward() or ' +
  'autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if ' +
  'you need to access saved tensors after calling backward.';

const list = (t: Tensor | null): number[] => Array.from(t?.dataSync() ?? []);

describe('the contract of issue 12', () => {
  it('mean(mul(x, x)).backward() fills x.grad with 2x/n', () => {
    const data = Float32Array.from({ length: 60 }, (_, i) => (i - 30) / 7);
    const x = tensor(data, [3, 4, 5], { requiresGrad: true });
    const loss = mean(mul(x, x));
    loss.backward();
    expect(x.grad?.shape).toEqual([3, 4, 5]);
    for (const [i, g] of list(x.grad).entries()) expect(g).toBeCloseTo(((data[i] as number) * 2) / 60, 7);
  });
});

describe('tensor autograd state', () => {
  it('leaves, requiresGrad, gradFn and isLeaf as PyTorch', () => {
    const x = tensor([1, 2, 3]);
    expect(x.requiresGrad).toBe(false);
    expect(x.isLeaf).toBe(true);
    expect(x.gradFn).toBeNull();
    expect(x.requiresGrad_()).toBe(x);
    expect(x.requiresGrad).toBe(true);
    const y = mul(x, 2);
    expect(y.requiresGrad).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.gradFn?.name).toBe('MulBackward0');
    expect(String(y.gradFn)).toBe('<MulBackward0>');
    expect(y.gradFn?.nextFunctions).toEqual(['AccumulateGrad', null]);
    expect(add(y, 1).gradFn?.nextFunctions[0]).toBe(y.gradFn);
    x.requiresGrad = false;
    expect(mul(x, 2).requiresGrad).toBe(false);
  });

  it('creation functions take requiresGrad', () => {
    expect(zeros([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(ones([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(randn([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(tensor([1], undefined, { requiresGrad: false }).requiresGrad).toBe(false);
  });

  it('int32 tensors never require grad', () => {
    expect(() => tensor([1, 2], undefined, { dtype: 'int32', requiresGrad: true })).toThrow(
      'Only Tensors of floating point and complex dtype can require gradients',
    );
    expect(() => tensor([1, 2], undefined, { dtype: 'int32' }).requiresGrad_()).toThrow(
      'only Tensors of floating point dtype can require gradients',
    );
  });

  it('a non-leaf cannot stop requiring grad', () => {
    const y = mul(tensor([1], undefined, { requiresGrad: true }), 2);
    expect(() => y.requiresGrad_(false)).toThrow(
      "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
    );
    expect(y.requiresGrad_(true)).toBe(y);
  });

  it('detach shares data and version, cuts the graph', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = mul(x, 3);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(d.storage).toBe(y.storage);
    expect(list(d)).toEqual([3, 6]);
  });

  it('float() keeps the graph of a float32 tensor (ToCopyBackward0)', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = x.float();
    expect(y.gradFn?.name).toBe('ToCopyBackward0');
    sum(mul(y, 3)).backward();
    expect(list(x.grad)).toEqual([3, 3]);
  });

  it('prints grad_fn and requires_grad as PyTorch', () => {
    const x = tensor([1.5, -2], undefined, { requiresGrad: true });
    expect(String(x)).toBe('tensor([ 1.5000, -2.0000], requires_grad=True)');
    expect(String(mul(x, 2))).toBe('tensor([ 3., -4.], grad_fn=<MulBackward0>)');
    expect(String(max(x))).toBe('tensor(1.5000, grad_fn=<MaxBackward1>)');
    expect(String(zeros([0], { requiresGrad: true }))).toBe('tensor([], requires_grad=True)');
    expect(String(mul(zeros([2, 0], { requiresGrad: true }), 1))).toBe(
      'tensor([], size=(2, 0), grad_fn=<MulBackward0>)',
    );
  });
});

describe('grad mode', () => {
  it('noGrad records nothing and restores the mode, even when fn throws', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(x, x);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });

  it('enableGrad inside noGrad records again', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = noGrad(() => enableGrad(() => mul(x, x)));
    expect(y.gradFn?.name).toBe('MulBackward0');
    expect(isGradEnabled()).toBe(true);
  });
});

describe('backward', () => {
  it('accumulates into .grad over backward calls, in the same tensor', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    sum(mul(x, x)).backward();
    const g = x.grad as Tensor;
    expect(list(g)).toEqual([2, 4, 6]);
    sum(mul(x, 3)).backward();
    expect(x.grad).toBe(g);
    expect(list(g)).toEqual([5, 7, 9]);
    x.grad = null;
    sum(x).backward();
    expect(list(x.grad)).toEqual([1, 1, 1]);
  });

  it('sums the gradients of a tensor used several times', () => {
    const x = tensor([0.5, -1], undefined, { requiresGrad: true });
    const y = tanh(x);
    sum(add(mul(y, y), add(y, exp(y)))).backward();
    const want = [0.5, -1].map((v) => {
      const t = Math.tanh(v);
      return (2 * t + 1 + Math.exp(t)) * (1 - t * t);
    });
    for (const [i, g] of list(x.grad).entries()) expect(g).toBeCloseTo(want[i] as number, 6);
  });

  it('takes a gradient for non-scalar outputs, and needs one', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow('grad can be implicitly created only for scalar outputs');
    expect(() => y.backward(tensor([1, 1]))).toThrow(
      'Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([3]).',
    );
    y.backward(tensor([1, 0.5, -1]));
    expect(list(x.grad)).toEqual([2, 1, -2]);
  });

  it('refuses tensors that do not require grad', () => {
    expect(() => sum(tensor([1, 2])).backward()).toThrow(
      'element 0 of tensors does not require grad and does not have a grad_fn',
    );
  });

  it('backward on a leaf accumulates the gradient into it', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    x.backward(tensor([3, 4]));
    expect(list(x.grad)).toEqual([3, 4]);
  });

  it('frees the graph: a second backward throws PyTorch error unless retainGraph', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const loss = sum(mul(x, x));
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(list(x.grad)).toEqual([4, 8]);
    expect(() => loss.backward()).toThrow(FREED);
    // nodes that saved nothing can run again, as in PyTorch
    const z = sum(add(x, 1));
    z.backward();
    z.backward();
    expect(list(x.grad)).toEqual([6, 10]);
  });

  it('retainGrad keeps the gradient of a non-leaf', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = mul(x, 3);
    y.retainGrad();
    expect(y.retainsGrad).toBe(true);
    const z = mul(x, 2);
    sum(mul(y, y)).backward();
    expect(list(y.grad)).toEqual([6, 12]);
    expect(z.grad).toBeNull();
    expect(() => tensor([1]).retainGrad()).toThrow(
      "can't retain_grad on Tensor that has requires_grad=False",
    );
    x.retainGrad(); // a no-op on leaves
  });

  it('runs a 4096-step recurrence without overflowing the stack', () => {
    const w = tensor([0.5], undefined, { requiresGrad: true });
    let h = zeros([1]);
    const x = ones([1]);
    for (let t = 0; t < 4096; t++) h = tanh(add(mul(h, w), x));
    h.backward(ones([1]));
    // float64 reference of dh/dw through the same recurrence
    let hv = 0;
    let dh = 0;
    for (let t = 0; t < 4096; t++) {
      const pre = Math.fround(hv * 0.5) + 1;
      const next = Math.tanh(pre);
      dh = (1 - next * next) * (hv + 0.5 * dh);
      hv = next;
    }
    expect((x.grad as Tensor | null) ?? null).toBeNull();
    expect(w.grad?.item()).toBeCloseTo(dh, 4);
  });
});

describe('in-place writes and saved tensors', () => {
  it('detects a saved input modified in place', () => {
    const w = tensor([1, 2, 3]);
    const x = tensor([1, 1, 1], undefined, { requiresGrad: true });
    const p = sum(mul(x, w));
    w.fill_(5);
    expect(w.version).toBe(1);
    expect(() => p.backward()).toThrow(
      'one of the variables needed for gradient computation has been modified by an inplace operation: ' +
        '[torch.FloatTensor [3]] is at version 1; expected version 0 instead. Hint: enable anomaly detection ' +
        'to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).',
    );
  });

  it('names the node when its saved output was modified, through a view sharing the storage', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    const z = exp(x);
    const s = sum(z);
    noGrad(() => reshape(z, [3, 1]).zero_());
    expect(() => s.backward()).toThrow(
      '[torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead.',
    );
  });

  it('refuses in-place writes to a leaf that requires grad while recording', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    expect(() => x.zero_()).toThrow(
      'a leaf Variable that requires grad is being used in an in-place operation.',
    );
    noGrad(() => x.copy_(tensor([3, 4])));
    expect(list(x)).toEqual([3, 4]);
    expect(x.version).toBe(1);
  });
});

describe('custom nodes (the extension point for fused backward passes)', () => {
  /** Two outputs from one node: the sums of the first and the second half of x, with gradient 2·g. */
  function halves(x: Tensor): [Tensor<'float32'>, Tensor<'float32'>] {
    const d = x.dataSync() as Float32Array;
    const h = d.length / 2;
    const a = tensor([d.slice(0, h).reduce((s, v) => s + v, 0)]);
    const b = tensor([d.slice(h).reduce((s, v) => s + v, 0)]);
    if (needsGrad(x)) {
      recordGradFnMulti([a, b], 'HalvesBackward', [x], [], ([ga, gb]) => {
        const out = new Float32Array(d.length);
        out.fill(2 * (ga?.item() ?? 0), 0, h);
        out.fill(2 * (gb?.item() ?? 0), h);
        return [Tensor.fromArray(out, x.shape)];
      });
    }
    return [a, b];
  }

  it('routes each output gradient, with null for outputs no gradient reached', () => {
    const x = tensor([1, 2, 3, 4], undefined, { requiresGrad: true });
    const [a, b] = halves(x);
    expect(a.gradFn).toBe(b.gradFn);
    b.retainGrad();
    sum(add(mul(a, 3), b)).backward();
    expect(list(x.grad)).toEqual([6, 6, 2, 2]);
    expect(list(b.grad)).toEqual([1]);
    x.grad = null;
    const [, b2] = halves(x);
    sum(b2).backward();
    expect(list(x.grad)).toEqual([0, 0, 2, 2]);
  });

  it("refuses a formula's gradient of the wrong shape with PyTorch's message", () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = recordGradFn(tensor([3]), 'BadBackward', [x], [], () => [tensor([1, 2, 3])]);
    expect(() => y.backward()).toThrow(
      'Function BadBackward returned an invalid gradient at index 0 - got [3] but expected shape compatible with [2]',
    );
  });
});

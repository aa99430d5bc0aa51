import { add, mul, sum, type Tensor, tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { Linear } from '../linear.js';
import { Adam, AdamW } from './adam.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

const leaf = (values: number[]) => tensor(values, [values.length], { requiresGrad: true });

describe('optimizer inputs', () => {
  it('rejects what is not a tensor, non-leaves, and empty lists', () => {
    expect(() => new SGD([leaf([1]), 3 as never], { lr: 0.1 })).toThrow(
      'SGD: optimizer can only optimize Tensors, but one of the params is number',
    );
    expect(() => new Adam([{ params: [new Linear({ inFeatures: 1, outFeatures: 1 }) as never] }])).toThrow(
      'Adam: optimizer can only optimize Tensors, but one of the params is Linear',
    );
    expect(() => new SGD([mul(leaf([1]), 2)], { lr: 0.1 })).toThrow("SGD: can't optimize a non-leaf Tensor");
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: optimizer got an empty parameter list');
    expect(() => new SGD(leaf([1]) as never, { lr: 0.1 })).toThrow(
      'SGD: params argument given to the optimizer should be an iterable of Tensors or dicts, but got Tensor',
    );
    expect(() => new SGD([{ params: new Set([leaf([1])]) }], { lr: 0.1 })).toThrow(
      'optimizer parameters need to be organized in ordered collections',
    );
  });

  it('rejects a parameter in two groups and unknown group options', () => {
    const p = leaf([1]);
    expect(() => new SGD([{ params: [p] }, { params: [p, leaf([2])], lr: 0.5 }], { lr: 0.1 })).toThrow(
      'SGD: some parameters appear in more than one parameter group',
    );
    expect(() => new SGD([{ params: [p], betas: [0.9, 0.9] } as never], { lr: 0.1 })).toThrow(
      "SGD: unknown option 'betas' in a param group",
    );
  });

  it("throws PyTorch's messages for invalid options", () => {
    const ps = () => [leaf([1])];
    expect(() => new SGD(ps(), { lr: -1 })).toThrow('SGD: Invalid learning rate: -1');
    expect(() => new SGD(ps(), { lr: 0.1, momentum: -0.5 })).toThrow('SGD: Invalid momentum value: -0.5');
    expect(() => new SGD(ps(), { lr: 0.1, nesterov: true })).toThrow(
      'SGD: Nesterov momentum requires a momentum and zero dampening',
    );
    expect(() => new Adam(ps(), { lr: -1 })).toThrow('Adam: Invalid learning rate: -1');
    expect(() => new Adam(ps(), { betas: [1, 0.999] })).toThrow('Adam: Invalid beta parameter at index 0: 1');
    expect(() => new AdamW(ps(), { betas: [0.9, -0.1] })).toThrow(
      'AdamW: Invalid beta parameter at index 1: -0.1',
    );
    expect(() => new Adam(ps(), { eps: -1e-8 })).toThrow('Adam: Invalid epsilon value: -1e-8');
    expect(() => new AdamW(ps(), { weightDecay: -1 })).toThrow('AdamW: Invalid weight_decay value: -1');
    expect(() => new RMSprop(ps(), { alpha: -1 })).toThrow('RMSprop: Invalid alpha value: -1');
  });

  it('loadStateDict refuses groups that do not match', () => {
    const opt = new Adam([leaf([1]), leaf([2])]);
    expect(() => opt.loadStateDict({ state: {}, param_groups: [] })).toThrow(
      'Adam.loadStateDict: loaded state dict has a different number of parameter groups',
    );
    expect(() => opt.loadStateDict({ state: {}, param_groups: [{ params: [0] }] })).toThrow(
      "Adam.loadStateDict: loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
    );
  });
});

describe('zeroGrad and step', () => {
  it('zeroes grads (1.13 default) or sets them to null; skips params without grad', () => {
    const a = leaf([1, 2]);
    const frozen = tensor([5], [1]); // does not require grad: allowed, skipped while its grad is null
    const opt = new SGD([a, frozen], { lr: 0.5, momentum: 0.9 });
    sum(mul(a, a)).backward();
    opt.step();
    expect([...a.dataSync()]).toEqual([0, 0]);
    expect([...frozen.dataSync()]).toEqual([5]);
    expect(opt.state.has(frozen)).toBe(false);
    const g = a.grad as Tensor;
    opt.zeroGrad();
    expect(a.grad).toBe(g);
    expect([...g.dataSync()]).toEqual([0, 0]);
    opt.zeroGrad({ setToNone: true });
    expect(a.grad).toBeNull();
  });

  it('writes parameters in place, bumping their version, and returns the closure loss', () => {
    const a = leaf([1, 2]);
    const opt = new Adam([a], { lr: 0.1 });
    const before = a.version;
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = sum(mul(add(a, 1), a));
      l.backward();
      return l;
    });
    expect(loss?.item()).toBe(8);
    expect(a.version).toBe(before + 1);
    expect(a.requiresGrad).toBe(true);
    expect(a.isLeaf).toBe(true);
  });

  it('takes module parameters and param groups with their own options', () => {
    const lin = new Linear({ inFeatures: 2, outFeatures: 1 });
    const [w, b] = lin.parameters() as [Tensor, Tensor];
    const opt = new SGD([{ params: [w] }, { params: [b], lr: 1 }], { lr: 0.01 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 1]);
    expect(opt.stateDict().param_groups.map((g) => g.params)).toEqual([[0], [1]]);
  });
});

import { add, matmul, noGrad, type Tensor, tanh, transpose } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decode, type OptimFixture, trainingFixture } from '../../../../fixtures/load.js';
import { mseLoss } from '../loss.js';
import { Adam, AdamW } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

const NAMES = ['w1', 'b1', 'w2', 'b2'] as const;
const { problem } = trainingFixture;
const x = decode(problem.x);
const y = decode(problem.y);

function freshParams(): Record<(typeof NAMES)[number], Tensor> {
  return Object.fromEntries(NAMES.map((n) => [n, decode(problem.params[n]).requiresGrad_()])) as Record<
    (typeof NAMES)[number],
    Tensor
  >;
}

/** mse(tanh(x @ w1ᵀ + b1) @ w2ᵀ + b2, y), as training_cases.py's model_loss. */
function modelLoss(p: Record<(typeof NAMES)[number], Tensor>): Tensor {
  const h = tanh(add(matmul(x, transpose(p.w1, 0, 1)), p.b1));
  return mseLoss(add(matmul(h, transpose(p.w2, 0, 1)), p.b2), y);
}

// biome-ignore lint/suspicious/noExplicitAny: the classes take their own option types
const classes: Record<OptimFixture['optimizer'], new (params: any, options: any) => Optimizer<any>> = {
  SGD,
  Adam,
  AdamW,
  RMSprop,
};

function build(c: OptimFixture) {
  const p = freshParams();
  const params = c.groups
    ? c.groups.map((g) => ({ params: g.params.map((n) => p[n as (typeof NAMES)[number]]), ...g.options }))
    : NAMES.map((n) => p[n]);
  return { p, opt: new classes[c.optimizer](params, c.options) };
}

describe('optimizer trajectories match PyTorch 1.13 (20 steps)', () => {
  it('covers every optimizer', () => {
    expect(new Set(trainingFixture.optim.map((c) => c.optimizer))).toEqual(
      new Set(['SGD', 'Adam', 'AdamW', 'RMSprop']),
    );
  });

  it.each(trainingFixture.optim.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { p, opt } = build(c);
    for (const [k, want] of c.steps.entries()) {
      opt.zeroGrad();
      const loss = modelLoss(p);
      loss.backward();
      opt.step();
      expect(Math.abs(loss.item() - want.loss)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want.loss));
      for (const n of NAMES) await assertClose(p[n], want.params[n] as never, `step ${k + 1} ${n}`);
    }
    // the state dict has PyTorch's structure, keys and values
    const sd = opt.stateDict();
    expect(sd.param_groups.length).toBe(c.stateDict.param_groups.length);
    sd.param_groups.forEach((g, i) => {
      const want = c.stateDict.param_groups[i] as Record<string, unknown>;
      expect(Object.keys(g).sort()).toEqual(Object.keys(want).sort());
      for (const [k, v] of Object.entries(want)) {
        if (typeof v === 'number') expect(g[k]).toBeCloseTo(v, 12);
        else expect(g[k]).toEqual(v);
      }
    });
    expect(Object.keys(sd.state)).toEqual(Object.keys(c.stateDict.state));
    for (const [i, s] of Object.entries(c.stateDict.state)) {
      const got = sd.state[Number(i)] as Record<string, unknown>;
      expect(Object.keys(got).sort()).toEqual(Object.keys(s).sort());
      for (const [k, v] of Object.entries(s)) {
        if (v === null || typeof v === 'number') expect(got[k]).toEqual(v);
        else await assertClose(got[k] as Tensor, v, `state ${i} ${k}`);
      }
    }
  });

  it('stateDict / loadStateDict resume a run exactly', async () => {
    const c = trainingFixture.optim.find((o) => o.name === 'Adam amsgrad') as OptimFixture;
    const a = build(c);
    for (let k = 0; k < 10; k++) {
      a.opt.zeroGrad();
      modelLoss(a.p).backward();
      a.opt.step();
    }
    const b = build(c);
    noGrad(() => {
      for (const n of NAMES) b.p[n].copy_(a.p[n].detach());
    });
    b.opt.loadStateDict(a.opt.stateDict());
    for (let k = 10; k < 20; k++) {
      b.opt.zeroGrad();
      modelLoss(b.p).backward();
      b.opt.step();
      for (const n of NAMES)
        await assertClose(b.p[n], c.steps[k]?.params[n] as never, `resumed step ${k + 1} ${n}`);
    }
    // the loaded state is a copy
    const s = b.opt.state.get(b.p.w1) as Record<string, Tensor>;
    expect(s.exp_avg).not.toBe((a.opt.state.get(a.p.w1) as Record<string, Tensor>).exp_avg);
  });
});

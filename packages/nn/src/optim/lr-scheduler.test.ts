import { tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { trainingFixture } from '../../../../fixtures/load.js';
import { CosineAnnealingLR, StepLR } from './lr-scheduler.js';
import { SGD } from './sgd.js';

const close = (got: number, want: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 + 1e-10 * Math.abs(want));

describe('LR schedulers match PyTorch 1.13 over 30 steps', () => {
  it.each(trainingFixture.schedulers.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const opt = new SGD([tensor([0], [1], { requiresGrad: true })], { lr: c.lr });
    const sched =
      c.scheduler === 'StepLR'
        ? new StepLR(opt, c.options as { stepSize: number })
        : new CosineAnnealingLR(opt, c.options as { tMax: number });
    const lrs = [sched.getLastLr()[0] as number];
    for (let k = 0; k < 30; k++) {
      opt.step();
      sched.step();
      lrs.push(sched.getLastLr()[0] as number);
      expect(opt.paramGroups[0]?.lr).toBe(lrs[lrs.length - 1]);
    }
    lrs.forEach((lr, k) => {
      close(lr, c.lrs[k] as number);
    });
    const sd = sched.stateDict();
    expect(Object.keys(sd).sort()).toEqual(Object.keys(c.stateDict).sort());
    for (const [k, v] of Object.entries(c.stateDict)) {
      if (k === '_last_lr') close((sd[k] as number[])[0] as number, (v as number[])[0] as number);
      else expect(sd[k]).toEqual(v);
    }
    expect(opt.stateDict().param_groups[0]?.initial_lr).toBe(c.lr);
  });

  it('stateDict round-trips into a fresh scheduler', () => {
    const make = () => {
      const opt = new SGD([tensor([0], [1], { requiresGrad: true })], { lr: 0.1 });
      return { opt, sched: new CosineAnnealingLR(opt, { tMax: 5 }) };
    };
    const a = make();
    for (let k = 0; k < 7; k++) a.sched.step();
    const b = make();
    b.opt.loadStateDict(a.opt.stateDict());
    b.sched.loadStateDict(a.sched.stateDict());
    for (let k = 0; k < 5; k++) {
      a.sched.step();
      b.sched.step();
      expect(b.sched.getLastLr()).toEqual(a.sched.getLastLr());
    }
  });

  it('rejects bad options', () => {
    const opt = new SGD([tensor([0], [1], { requiresGrad: true })], { lr: 0.1 });
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(
      'StepLR: stepSize must be an integer >= 1, received 0',
    );
    expect(() => new CosineAnnealingLR(opt, { tMax: -1 })).toThrow(
      'CosineAnnealingLR: tMax must be a positive number, received -1',
    );
  });
});

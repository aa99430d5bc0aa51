// Whole training runs against PyTorch 1.13 (fixtures/trajectory.json, scripts/fixtures/trajectory_cases.py):
// an Embedding → LSTM/GRU → Linear model, 20 optimizer steps on next-token cross-entropy, the loss and
// every parameter after every step, and an eval-mode loss (noGrad) before and after training, on every
// backend (on WebGPU the whole step stays on the GPU; the loss and parameters are read after it).
import type { Tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EncodedTensor, trajectoryFixture } from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import type { Backend } from './backend/types.js';
import { backendsUnderTest } from './testing/backends.js';
import { buildTrajectory, trajectoryEvalLoss, trajectoryStep } from './testing/trajectory.js';

const ATOL = 1e-5;
const RTOL = 1e-4;

/** max over elements of |got − want| / (atol + rtol·|want|): ≤ 1 is within the project's tolerance. */
async function ratio(got: Tensor, want: EncodedTensor): Promise<number> {
  expect(got.shape).toEqual(want.shape);
  const a = await got.data();
  let worst = 0;
  want.data.forEach((w, i) => {
    const y = w as number;
    worst = Math.max(worst, Math.abs((a[i] as number) - y) / (ATOL + RTOL * Math.abs(y)));
  });
  return worst;
}

const scalarRatio = (got: number, want: number) => Math.abs(got - want) / (ATOL + RTOL * Math.abs(want));

const { cases } = trajectoryFixture;

describe('the trajectory fixture', () => {
  it('covers SGD (momentum, nesterov, weight decay), Adam, AdamW (amsgrad, clipping), LSTM (projSize) and GRU', () => {
    expect(trajectoryFixture.steps).toBe(20);
    expect(new Set(cases.map((c) => c.optimizer))).toEqual(new Set(['SGD', 'Adam', 'AdamW']));
    expect(new Set(cases.map((c) => c.module))).toEqual(new Set(['LSTM', 'GRU']));
    expect(cases.some((c) => c.config.projSize > 0)).toBe(true);
    expect(cases.some((c) => c.clip !== null)).toBe(true);
    for (const c of cases) expect(c.steps).toHaveLength(trajectoryFixture.steps);
  });
});

describe.each(backendsUnderTest)('20 training steps match PyTorch 1.13 on $name', ({ name, create }) => {
  let backend: Backend;
  const worst: Record<string, number> = {};
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(() => {
    if (backend !== cpuBackend) backend?.dispose();
    // the worst error seen, as a fraction of the tolerance (1: at the limit)
    console.info(`trajectories on ${name}: worst |got − want| / tolerance`, worst);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { model, opt } = buildTrajectory(c, backend);
    expect(Object.keys(model.stateDict())).toEqual(c.keys);
    let w = 0;
    // an evaluation before training and one after (under noGrad, in eval mode), as a training loop has
    const before = await trajectoryEvalLoss(c, model);
    expect(scalarRatio(before, c.evalLoss.before), `eval loss before ${before}`).toBeLessThanOrEqual(1);
    model.train();
    for (const [k, want] of c.steps.entries()) {
      const { loss, totalNorm } = await trajectoryStep(c, k, model, opt);
      const lossRatio = scalarRatio(loss, want.loss);
      expect(lossRatio, `step ${k + 1} loss ${loss}, PyTorch ${want.loss}`).toBeLessThanOrEqual(1);
      w = Math.max(w, lossRatio);
      if (want.totalNorm !== null) {
        const r = scalarRatio(totalNorm as number, want.totalNorm);
        expect(r, `step ${k + 1} total norm ${totalNorm}, PyTorch ${want.totalNorm}`).toBeLessThanOrEqual(1);
        w = Math.max(w, r);
      }
      const params = model.stateDict();
      expect(Object.keys(params)).toEqual(Object.keys(want.params));
      for (const [key, p] of Object.entries(params)) {
        const r = await ratio(p, want.params[key] as EncodedTensor);
        expect(r, `step ${k + 1} ${key}: worst |got − want| / tolerance`).toBeLessThanOrEqual(1);
        w = Math.max(w, r);
      }
    }
    const after = await trajectoryEvalLoss(c, model);
    const r = scalarRatio(after, c.evalLoss.after);
    expect(r, `eval loss after training ${after}, PyTorch ${c.evalLoss.after}`).toBeLessThanOrEqual(1);
    worst[c.name] = Math.max(w, r);
  });
});

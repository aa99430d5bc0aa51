// The safetensors round trip: a model trained in TypeScript, saved with saveSafetensors(model.stateDict()),
// loads back into the same PyTorch model. scripts/train_roundtrip.mjs wrote the committed checkpoint;
// scripts/fixtures/roundtrip_cases.py loaded it with load_state_dict(strict=True) and committed PyTorch's
// outputs (roundtrip.json). Here, without PyTorch: the same training gives the same bytes, and the file
// gives PyTorch's outputs on every backend.
import { createHash } from 'node:crypto';
import { reshape, tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClose,
  readFixtureBytes,
  roundtripFixture as rt,
  type TrajectoryCase,
  trajectoryFixture,
} from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import type { Backend } from './backend/types.js';
import { crossEntropyLoss } from './loss.js';
import type { LSTM } from './lstm.js';
import { readSafetensors, saveSafetensors } from './safetensors/index.js';
import { backendsUnderTest } from './testing/backends.js';
import { buildTrajectory, TrajectoryModel, trajectoryBatch, trajectoryStep } from './testing/trajectory.js';

const c = trajectoryFixture.cases.find((x) => x.name === rt.trajectory) as TrajectoryCase;
const committed = readFixtureBytes(rt.file);

describe('a checkpoint trained in TypeScript', () => {
  it("is the file PyTorch loaded (SHA-256), with PyTorch's keys and shapes", () => {
    expect(committed.length).toBe(rt.bytes);
    expect(createHash('sha256').update(committed).digest('hex')).toBe(rt.sha256);
    const { stateDict, metadata } = readSafetensors(committed);
    expect(Object.keys(stateDict)).toEqual(rt.keys);
    expect(new Set(rt.keys)).toEqual(new Set(rt.stateDictKeys));
    for (const [k, t] of Object.entries(stateDict)) expect(t.shape, k).toEqual(rt.shapes[k]);
    expect(metadata).toEqual(rt.metadata);
    // TS training and PyTorch's training of the same case end within float32 rounding of each other
    expect(rt.maxDiffFromTorchTrajectory).toBeLessThan(1e-5);
  });

  it('is what 20 Adam steps on cpuBackend save today, byte for byte', async () => {
    const { model, opt } = buildTrajectory(c, cpuBackend);
    for (let k = 0; k < trajectoryFixture.steps; k++) await trajectoryStep(c, k, model, opt);
    expect(Object.keys(model.stateDict())).toEqual(rt.stateDictKeys);
    const bytes = saveSafetensors(model.stateDict(), rt.metadata);
    // on a mismatch: was trajectory.json regenerated without `node scripts/train_roundtrip.mjs` and
    // roundtrip_cases.py after it, or did the training numerics change?
    expect(bytes.length).toBe(committed.length);
    expect(Buffer.from(bytes).equals(Buffer.from(committed))).toBe(true);
  });
});

describe.each(backendsUnderTest)(
  "the checkpoint PyTorch loaded gives PyTorch's outputs on $name",
  ({ create }) => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await create();
    });
    afterAll(() => {
      if (backend !== cpuBackend) backend?.dispose();
    });

    it('logits, hN, cN and the loss on the first batch', async () => {
      const model = new TrajectoryModel(c);
      model.loadStateDict(readSafetensors(committed).stateDict); // strict, as PyTorch's load
      model.to(backend).eval();
      const ids = tensor(Int32Array.from(rt.ids.data), rt.ids.shape, { dtype: 'int32' });
      // eval mode: nothing is recorded (inputs need no gradient)
      const [out, [hN, cN]] = (model.rnn as LSTM).forward(model.embed.forward(ids));
      await assertClose(model.head.forward(out), rt.logits, 'logits');
      await assertClose(hN, rt.hN, 'hN');
      await assertClose(cN, rt.cN, 'cN');
      const { ids: batchIds, targets } = trajectoryBatch(0);
      const logits = model.forward(batchIds);
      const cpuLogits = tensor(await logits.data(), logits.shape);
      const loss = crossEntropyLoss(reshape(cpuLogits, [-1, c.config.vocab]), targets).item();
      expect(Math.abs(loss - rt.loss)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(rt.loss));
    });
  },
);

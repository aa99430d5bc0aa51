import { Tensor, tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  decode,
  type EncodedIndices,
  type EncodedTensor,
  type LossFixture,
  trainingFixture,
} from '../../../fixtures/load.js';
import { crossEntropyLoss, l1Loss, mseLoss, nllLoss } from './loss.js';
import { CrossEntropyLoss, L1Loss, MSELoss, NLLLoss } from './loss-modules.js';

const fns = { cross_entropy: crossEntropyLoss, nll_loss: nllLoss, mse_loss: mseLoss, l1_loss: l1Loss };

function decodeTarget(c: LossFixture): Tensor {
  const isFloat =
    c.fn === 'mse_loss' || c.fn === 'l1_loss' || c.target.data.some((v) => !Number.isInteger(v));
  if (isFloat) return decode(c.target as EncodedTensor);
  const t = c.target as EncodedIndices;
  return Tensor.fromArray(Int32Array.from(t.data), t.shape);
}

function run(c: LossFixture) {
  const input = decode(c.input).requiresGrad_();
  const target = decodeTarget(c);
  if (c.targetGrad) target.requiresGrad_();
  const { weight, ...rest } = c.options;
  const options = weight ? { ...rest, weight: decode(weight) } : rest;
  const out = (fns[c.fn] as (a: Tensor, b: Tensor, o: object) => Tensor)(input, target, options);
  out.backward(c.upstream ? decode(c.upstream) : undefined);
  return { input, target, out };
}

describe('losses match PyTorch 1.13 (values and gradients)', () => {
  it('has the option grid', () => {
    expect(trainingFixture.losses.length).toBeGreaterThan(70);
  });

  it.each(trainingFixture.losses.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { input, target, out } = run(c);
    await assertClose(out, c.output, 'output');
    await assertClose(input.grad as Tensor, c.inputGrad, 'input grad');
    if (c.targetGrad) await assertClose(target.grad as Tensor, c.targetGrad, 'target grad');
  });

  it('module forms compute the functional forms', async () => {
    const x = tensor([0.5, -1, 2, 0.25, 1, -0.5], [2, 3]);
    const y = tensor([1, 0, 2, 0, 1, 1], [2, 3]);
    await assertClose(new MSELoss().forward(x, y), mseLoss(x, y), 'MSELoss');
    await assertClose(
      new L1Loss({ reduction: 'sum' }).forward(x, y),
      l1Loss(x, y, { reduction: 'sum' }),
      'L1Loss',
    );
    const t = tensor([2, 0], [2], { dtype: 'int32' });
    const ce = new CrossEntropyLoss({ labelSmoothing: 0.1 });
    await assertClose(ce.forward(x, t), crossEntropyLoss(x, t, { labelSmoothing: 0.1 }), 'CrossEntropyLoss');
    await assertClose(new NLLLoss().forward(x, t), nllLoss(x, t), 'NLLLoss');
    expect(() => new MSELoss({ reduction: 'avg' as never })).toThrow(
      "MSELoss: reduction must be 'mean', 'sum' or 'none', received avg",
    );
  });

  it('records a graph PyTorch-like', () => {
    const x = tensor([0.5, -1, 2, 0.25, 1, -0.5], [2, 3], { requiresGrad: true });
    const t = tensor([2, 0], [2], { dtype: 'int32' });
    expect(crossEntropyLoss(x, t).gradFn?.name).toBe('NllLossBackward0');
  });
});

describe('loss errors', () => {
  const x = tensor([0.5, -1, 2, 0.25, 1, -0.5], [2, 3]);
  it('targets out of range', () => {
    expect(() => crossEntropyLoss(x, tensor([7, 0], [2], { dtype: 'int32' }))).toThrow(
      'crossEntropyLoss: Target 7 is out of bounds.',
    );
    expect(() => nllLoss(x, tensor([0, -1], [2], { dtype: 'int32' }))).toThrow(
      'nllLoss: Target -1 is out of bounds.',
    );
  });
  it('wrong target dtype', () => {
    expect(() => crossEntropyLoss(x, tensor([2, 0]))).toThrow(
      "crossEntropyLoss: a float32 target holds class probabilities and must have the input's shape [2, 3], received [2] (class indices must be int32)",
    );
    expect(() => nllLoss(x, tensor([2, 0]))).toThrow(
      'nllLoss: expected target to be an int32 tensor of class indices, received float32',
    );
    expect(() => mseLoss(x, tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'int32' }))).toThrow(
      'mseLoss: target must be a float32 tensor, received int32',
    );
  });
  it('shape mismatches', () => {
    expect(() => crossEntropyLoss(x, tensor([1, 0, 2], [3], { dtype: 'int32' }))).toThrow(
      'crossEntropyLoss: expected input batch_size (2) to match target batch_size (3): input [2, 3], target [3]',
    );
    expect(() => crossEntropyLoss(x, tensor([1, 0, 2, 1], [2, 2], { dtype: 'int32' }))).toThrow(
      'crossEntropyLoss: expected target of shape [2] for input of shape [2, 3], received [2, 2]',
    );
    expect(() =>
      crossEntropyLoss(x, tensor([1, 0], [2], { dtype: 'int32' }), { weight: tensor([1, 2]) }),
    ).toThrow(
      'crossEntropyLoss: weight should be defined either for all 3 classes or no classes but got weight tensor of shape: [2]',
    );
    expect(() => mseLoss(x, tensor([1, 2], [2]))).toThrow(
      "mseLoss: the target's shape [2] does not match (or broadcast with) the input's shape [2, 3]",
    );
  });
  it('bad options', () => {
    expect(() => crossEntropyLoss(x, tensor([1, 0], [2], { dtype: 'int32' }), { labelSmoothing: 2 })).toThrow(
      'crossEntropyLoss: labelSmoothing must be a number in [0, 1], received 2',
    );
    expect(() => mseLoss(x, x, { reduction: 'avg' as never })).toThrow(
      "mseLoss: reduction must be 'mean', 'sum' or 'none', received 'avg'",
    );
  });
});

import { type Tensor, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decode, trainingFixture } from '../../../../fixtures/load.js';
import { clipGradNorm_, clipGradValue_ } from '../clip-grad.js';

function withGrads(grads: Tensor[]): Tensor[] {
  return grads.map((g) => {
    const p = zeros(g.shape).requiresGrad_();
    p.grad = g as Tensor<'float32'>;
    return p;
  });
}

describe('clipGradNorm_ / clipGradValue_ match PyTorch 1.13', () => {
  it.each(trainingFixture.clip.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const params = withGrads(c.grads.map(decode));
    const total = clipGradNorm_(
      params,
      c.maxNorm,
      c.normType === 'inf' ? Number.POSITIVE_INFINITY : c.normType,
    );
    expect(total.shape).toEqual([]);
    await assertClose(total, decode({ shape: [], data: [c.totalNorm] }), 'total norm');
    for (const [i, p] of params.entries())
      await assertClose(p.grad as Tensor, c.clipped[i] as never, `grad ${i}`);
  });

  it.each(trainingFixture.clipValue.map((c) => [c.clipValue, c] as const))(
    'clipGradValue_ %s',
    async (_v, c) => {
      const params = withGrads(c.grads.map(decode));
      clipGradValue_(params, c.clipValue);
      for (const [i, p] of params.entries())
        await assertClose(p.grad as Tensor, c.clipped[i] as never, `grad ${i}`);
    },
  );

  it('skips parameters without grads, returns 0 when none has one, errors on a non-finite norm', () => {
    expect(clipGradNorm_([zeros([2]).requiresGrad_()], 1).item()).toBe(0);
    const [p] = withGrads([tensor([Number.POSITIVE_INFINITY, 1])]);
    expect(() => clipGradNorm_([p as Tensor], 1, 2, { errorIfNonfinite: true })).toThrow(
      'The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped.',
    );
    expect(() => clipGradNorm_([p as Tensor], 1, 0)).toThrow(
      'clipGradNorm_: normType must be a positive number or Infinity, received 0',
    );
  });
});

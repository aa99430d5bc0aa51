import { cpuData, type Tensor } from '@recurrent/tensor';
import {
  checkOption,
  deviceState,
  f32,
  fma32,
  markUpdated,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  zerosOf,
} from './optimizer.js';

/** Options of `RMSprop` (PyTorch's names in camelCase and defaults). */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by the estimated variance (the average gradient subtracted; default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * RMSprop, `torch.optim.RMSprop` of PyTorch 1.13 (`_single_tensor_rmsprop`), in float32. State per
 * parameter: `step` (a number, as 1.13), `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.optim.RMSprop.html | torch.optim.RMSprop}
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(
      'RMSprop',
      params,
      {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        momentum: 0,
        centered: false,
        maximize: false,
        ...options,
      },
      { foreach: null, differentiable: false },
    );
  }

  protected checkOptions(o: RMSpropOptions): void {
    checkOption('RMSprop', typeof o.lr === 'number' && o.lr >= 0, 'learning rate', o.lr);
    checkOption('RMSprop', typeof o.eps === 'number' && o.eps >= 0, 'epsilon value', o.eps);
    checkOption('RMSprop', typeof o.momentum === 'number' && o.momentum >= 0, 'momentum value', o.momentum);
    checkOption(
      'RMSprop',
      typeof o.weightDecay === 'number' && o.weightDecay >= 0,
      'weight_decay value',
      o.weightDecay,
    );
    checkOption('RMSprop', typeof o.alpha === 'number' && o.alpha >= 0, 'alpha value', o.alpha);
  }

  protected updateGroup(group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    for (const p of group.params) {
      const ops = this.deviceOps(p);
      if (ops) {
        if (p.grad === null) continue;
        const state = this.stateOf(p);
        state.step = ((state.step as number | undefined) ?? 0) + 1;
        ops.rmspropStep(
          p,
          p.grad,
          {
            squareAvg: deviceState(ops, p, state, 'square_avg'),
            momentumBuffer: momentum > 0 ? deviceState(ops, p, state, 'momentum_buffer') : null,
            gradAvg: centered ? deviceState(ops, p, state, 'grad_avg') : null,
          },
          { lr, alpha, eps, weightDecay, momentum, centered, maximize },
        );
        markUpdated(p);
        continue;
      }
      const grad = this.gradOf(p, maximize);
      if (!grad) continue;
      const state = this.stateOf(p);
      if (state.step === undefined) {
        state.step = 0;
        state.square_avg = zerosOf(p);
        if (momentum > 0) state.momentum_buffer = zerosOf(p);
        if (centered) state.grad_avg = zerosOf(p);
      }
      state.step = (state.step as number) + 1;
      const x = cpuData(p); // updated in place (its version bumped below)
      const n = x.length;
      let g = grad;
      if (weightDecay !== 0) {
        const wd = f32(weightDecay);
        g = new Float32Array(n);
        for (let i = 0; i < n; i++) g[i] = fma32(x[i] as number, wd, grad[i] as number);
      }
      const a = f32(alpha);
      const keep = f32(1 - alpha);
      const sq = cpuData(state.square_avg as Tensor);
      const ga = centered ? cpuData(state.grad_avg as Tensor) : null;
      const buf = momentum > 0 ? cpuData(state.momentum_buffer as Tensor) : null;
      const m = f32(momentum);
      const negLr = f32(-lr);
      const e = f32(eps);
      for (let i = 0; i < n; i++) {
        const gi = g[i] as number;
        sq[i] = f32(f32((sq[i] as number) * a) + f32(f32(keep * gi) * gi));
        let avg: number;
        if (ga) {
          ga[i] = fma32(gi, keep, f32((ga[i] as number) * a));
          const gai = ga[i] as number;
          avg = f32(Math.sqrt(f32((sq[i] as number) + f32(-gai * gai)))); // addcmul(value=-1).sqrt_()
        } else avg = f32(Math.sqrt(sq[i] as number));
        avg = f32(avg + e);
        if (buf) {
          buf[i] = f32(f32((buf[i] as number) * m) + f32(gi / avg)); // buf.mul_(momentum).addcdiv_(grad, avg)
          x[i] = fma32(buf[i] as number, negLr, x[i] as number);
        } else x[i] = f32((x[i] as number) + f32(f32(negLr * gi) / avg));
      }
      markUpdated(p);
    }
  }
}

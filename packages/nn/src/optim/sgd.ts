import { cpuData, Tensor } from '@recurrent/tensor';
import {
  checkOption,
  deviceState,
  f32,
  fma32,
  markUpdated,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.js';

/** Options of `SGD` (PyTorch's names in camelCase and defaults). */
export interface SGDOptions {
  /** The learning rate (required, as in PyTorch). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent, `torch.optim.SGD` of PyTorch 1.13 (`_single_tensor_sgd`), in float32:
 * `g = grad + weightDecay·p`; `buf = g` at the first step, then `buf = momentum·buf + (1 − dampening)·g`;
 * `g = nesterov ? g + momentum·buf : buf`; `p = p − lr·g`. State: `momentum_buffer` (null without momentum).
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.optim.SGD.html | torch.optim.SGD}
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(
      'SGD',
      params,
      { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options },
      { foreach: null, differentiable: false },
    );
  }

  protected checkOptions(o: SGDOptions): void {
    checkOption('SGD', typeof o.lr === 'number' && o.lr >= 0, 'learning rate', o.lr);
    checkOption('SGD', typeof o.momentum === 'number' && o.momentum >= 0, 'momentum value', o.momentum);
    checkOption(
      'SGD',
      typeof o.weightDecay === 'number' && o.weightDecay >= 0,
      'weight_decay value',
      o.weightDecay,
    );
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
  }

  protected updateGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    const wd = f32(weightDecay);
    const m = f32(momentum);
    const keep = f32(1 - dampening);
    const step = f32(-lr);
    for (const p of group.params) {
      const ops = this.deviceOps(p);
      if (ops) {
        if (p.grad === null) continue;
        const state = this.stateOf(p);
        let buf: Tensor | null = null;
        const first = momentum !== 0 && !state.momentum_buffer;
        if (momentum !== 0) buf = deviceState(ops, p, state, 'momentum_buffer');
        else state.momentum_buffer = null;
        const o = { lr, momentum, dampening, weightDecay, nesterov, maximize };
        ops.sgdStep(p, p.grad, buf, { ...o, firstMomentumStep: first });
        markUpdated(p);
        continue;
      }
      const grad = this.gradOf(p, maximize);
      if (!grad) continue;
      const x = cpuData(p);
      let d = grad;
      if (weightDecay !== 0) {
        d = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) d[i] = fma32(x[i] as number, wd, grad[i] as number);
      }
      const state = this.stateOf(p);
      if (momentum !== 0) {
        let buf = state.momentum_buffer as Tensor<'float32'> | null | undefined;
        if (!buf) {
          buf = Tensor.fromArray(Float32Array.from(d), p.shape); // torch.clone(d_p)
          state.momentum_buffer = buf;
        } else {
          const b = cpuData(buf);
          for (let i = 0; i < b.length; i++) b[i] = fma32(d[i] as number, keep, f32((b[i] as number) * m));
        }
        const b = cpuData(buf);
        if (nesterov) {
          const n = new Float32Array(d.length);
          for (let i = 0; i < n.length; i++) n[i] = fma32(b[i] as number, m, d[i] as number);
          d = n;
        } else d = b;
      } else state.momentum_buffer = null;
      for (let i = 0; i < x.length; i++) x[i] = fma32(d[i] as number, step, x[i] as number); // p.add_
      markUpdated(p);
    }
  }
}

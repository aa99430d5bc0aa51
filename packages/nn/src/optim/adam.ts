import { cpuData, Tensor } from '@recurrent/tensor';
import type { DeviceTrainingOps } from '../backend/device-ops.js';
import {
  checkOption,
  deviceState,
  f32,
  fma32,
  markUpdated,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
  zerosOf,
} from './optimizer.js';

/** Options of `Adam` and `AdamW` (PyTorch's names in camelCase). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay `p·(1 − lr·wd)` (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

function checkAdam(owner: string, o: AdamOptions): void {
  checkOption(owner, typeof o.lr === 'number' && o.lr >= 0, 'learning rate', o.lr);
  checkOption(owner, typeof o.eps === 'number' && o.eps >= 0, 'epsilon value', o.eps);
  const [b1, b2] = Array.isArray(o.betas) ? o.betas : [Number.NaN, Number.NaN];
  checkOption(owner, b1 >= 0 && b1 < 1, 'beta parameter at index 0', b1);
  checkOption(owner, b2 >= 0 && b2 < 1, 'beta parameter at index 1', b2);
  checkOption(
    owner,
    typeof o.weightDecay === 'number' && o.weightDecay >= 0,
    'weight_decay value',
    o.weightDecay,
  );
}

/**
 * PyTorch 1.13's `_single_tensor_adam` / `_single_tensor_adamw` for one parameter, in float32 with its order
 * of operations; `decoupled` is AdamW's `p·(1 − lr·wd)` instead of adding `wd·p` to the gradient.
 */
function adamUpdate(
  p: Tensor<'float32'>,
  grad: Float32Array,
  state: Record<string, Tensor | number | null>,
  o: AdamOptions,
  decoupled: boolean,
): void {
  const x = cpuData(p); // updated in place, as PyTorch's addcdiv_ (the caller bumps its version)
  const n = x.length;
  if (state.step === undefined) {
    state.step = Tensor.fromArray(new Float32Array(1), []);
    state.exp_avg = zerosOf(p);
    state.exp_avg_sq = zerosOf(p);
    if (o.amsgrad) state.max_exp_avg_sq = zerosOf(p);
  }
  const stepT = cpuData(state.step as Tensor);
  stepT[0] = f32((stepT[0] as number) + 1);
  const step = stepT[0] as number;
  const [beta1, beta2] = o.betas;
  let g = grad;
  if (decoupled) {
    const k = f32(1 - o.lr * o.weightDecay);
    for (let i = 0; i < n; i++) x[i] = f32((x[i] as number) * k);
  } else if (o.weightDecay !== 0) {
    const wd = f32(o.weightDecay);
    g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = fma32(x[i] as number, wd, grad[i] as number);
  }
  const m = cpuData(state.exp_avg as Tensor);
  const v = cpuData(state.exp_avg_sq as Tensor);
  const b1 = f32(beta1);
  const a1 = f32(1 - beta1);
  const b2 = f32(beta2);
  const a2 = f32(1 - beta2);
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    m[i] = fma32(gi, a1, f32((m[i] as number) * b1)); // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    v[i] = f32(f32((v[i] as number) * b2) + f32(f32(a2 * gi) * gi)); // .addcmul_(grad, grad, value=1 - beta2)
  }
  // Python floats (float64) for the bias corrections, cast to float32 where they meet the tensors
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  const stepSize = f32(-(o.lr / biasCorrection1));
  const bc2Sqrt = f32(Math.sqrt(biasCorrection2));
  const eps = f32(o.eps);
  let second = v;
  if (o.amsgrad) {
    const mx = cpuData(state.max_exp_avg_sq as Tensor);
    for (let i = 0; i < n; i++) mx[i] = Math.max(mx[i] as number, v[i] as number);
    second = mx;
  }
  for (let i = 0; i < n; i++) {
    const denom = f32(f32(f32(Math.sqrt(second[i] as number)) / bc2Sqrt) + eps);
    x[i] = f32((x[i] as number) + f32(f32(stepSize * (m[i] as number)) / denom)); // addcdiv_
  }
}

/** `adamUpdate` on the parameter's device: the state there, the step count (a CPU 0-d tensor) here. */
function adamOnDevice(
  ops: DeviceTrainingOps,
  p: Tensor,
  state: ParamState,
  o: AdamOptions,
  decoupled: boolean,
): void {
  if (state.step === undefined) state.step = Tensor.fromArray(new Float32Array(1), []);
  const stepT = cpuData(state.step as Tensor);
  stepT[0] = f32((stepT[0] as number) + 1);
  const s = {
    expAvg: deviceState(ops, p, state, 'exp_avg'),
    expAvgSq: deviceState(ops, p, state, 'exp_avg_sq'),
    maxExpAvgSq: o.amsgrad ? deviceState(ops, p, state, 'max_exp_avg_sq') : null,
  };
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay, amsgrad, maximize } = o;
  const opts = { lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, decoupled };
  ops.adamStep(p, p.grad as Tensor, s, { step: stepT[0] as number, ...opts });
  markUpdated(p);
}

/**
 * Adam, `torch.optim.Adam` of PyTorch 1.13 (`_single_tensor_adam`). State per parameter: `step` (a 0-d
 * float32 tensor, as 1.13), `exp_avg`, `exp_avg_sq`, and `max_exp_avg_sq` with `amsgrad`.
 *
 * @example
 * const opt = new Adam(lstm.parameters(), { lr: 1e-3 });
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.optim.Adam.html | torch.optim.Adam}
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(
      'Adam',
      params,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
        ...options,
      },
      { foreach: null, capturable: false, differentiable: false, fused: false },
    );
  }

  protected checkOptions(o: AdamOptions): void {
    checkAdam('Adam', o);
  }

  protected updateGroup(group: ParamGroup<AdamOptions>): void {
    for (const p of group.params) {
      const ops = this.deviceOps(p);
      if (ops) {
        if (p.grad !== null) adamOnDevice(ops, p, this.stateOf(p), group, false);
        continue;
      }
      const grad = this.gradOf(p, group.maximize);
      if (!grad) continue;
      adamUpdate(p, grad, this.stateOf(p), group, false);
      markUpdated(p);
    }
  }
}

/**
 * AdamW, `torch.optim.AdamW` of PyTorch 1.13 (`_single_tensor_adamw`): Adam with decoupled weight decay
 * `p ← p·(1 − lr·weightDecay)` before the moments (weightDecay default 1e-2). Same state as `Adam`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.optim.AdamW.html | torch.optim.AdamW}
 */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(
      'AdamW',
      params,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 1e-2,
        amsgrad: false,
        maximize: false,
        ...options,
      },
      { foreach: null, capturable: false },
    );
  }

  protected checkOptions(o: AdamOptions): void {
    checkAdam('AdamW', o);
  }

  protected updateGroup(group: ParamGroup<AdamOptions>): void {
    for (const p of group.params) {
      const ops = this.deviceOps(p);
      if (ops) {
        if (p.grad !== null) adamOnDevice(ops, p, this.stateOf(p), group, true);
        continue;
      }
      const grad = this.gradOf(p, group.maximize);
      if (!grad) continue;
      adamUpdate(p, grad, this.stateOf(p), group, true);
      markUpdated(p);
    }
  }
}

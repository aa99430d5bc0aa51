import type { Tensor } from '@recurrent/tensor';
import {
  type CrossEntropyLossOptions,
  crossEntropyLoss,
  type LossOptions,
  l1Loss,
  mseLoss,
  type NLLLossOptions,
  nllLoss,
} from './loss.js';
import { Module } from './module.js';

/**
 * `torch.nn.MSELoss`: `forward(input, target)` is `mseLoss(input, target, options)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.MSELoss.html | torch.nn.MSELoss}
 */
export class MSELoss extends Module {
  readonly options: LossOptions;
  constructor(options: LossOptions = {}) {
    super();
    this.options = { ...options };
    checkReduction('MSELoss', this.options);
  }
  /** @param input float32, any shape. @param target float32, the same shape. */
  forward(input: Tensor, target: Tensor): Tensor<'float32'> {
    return mseLoss(input, target, this.options);
  }
}

/**
 * `torch.nn.L1Loss`: `forward(input, target)` is `l1Loss(input, target, options)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.L1Loss.html | torch.nn.L1Loss}
 */
export class L1Loss extends Module {
  readonly options: LossOptions;
  constructor(options: LossOptions = {}) {
    super();
    this.options = { ...options };
    checkReduction('L1Loss', this.options);
  }
  /** @param input float32, any shape. @param target float32, the same shape. */
  forward(input: Tensor, target: Tensor): Tensor<'float32'> {
    return l1Loss(input, target, this.options);
  }
}

/**
 * `torch.nn.NLLLoss`: `forward(input, target)` is `nllLoss(input, target, options)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.NLLLoss.html | torch.nn.NLLLoss}
 */
export class NLLLoss extends Module {
  readonly options: NLLLossOptions;
  constructor(options: NLLLossOptions = {}) {
    super();
    this.options = { ...options };
  }
  /** @param input float32 log-probabilities (N, C, d1, …) or (C). @param target int32 (N, d1, …) or 0-d. */
  forward(input: Tensor, target: Tensor): Tensor<'float32'> {
    return nllLoss(input, target, this.options);
  }
}

/**
 * `torch.nn.CrossEntropyLoss`: `forward(input, target)` is `crossEntropyLoss(input, target, options)`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.CrossEntropyLoss.html | torch.nn.CrossEntropyLoss}
 */
export class CrossEntropyLoss extends Module {
  readonly options: CrossEntropyLossOptions;
  constructor(options: CrossEntropyLossOptions = {}) {
    super();
    this.options = { ...options };
  }
  /**
   * @param input float32 logits (N, C, d1, …) or (C).
   * @param target int32 class indices (N, d1, …) / 0-d, or float32 probabilities of the input's shape.
   */
  forward(input: Tensor, target: Tensor): Tensor<'float32'> {
    return crossEntropyLoss(input, target, this.options);
  }
}

function checkReduction(owner: string, options: LossOptions): void {
  const r = options.reduction;
  if (r !== undefined && r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new RangeError(`${owner}: reduction must be 'mean', 'sum' or 'none', received ${String(r)}`);
  }
}

import type { DeviceOps, Tensor } from '@recurrent/tensor';

type F32 = Tensor<'float32'>;
/** How a loss reduces (PyTorch's `reduction`). */
type Reduction = 'mean' | 'sum' | 'none';

/** Cross-entropy's options on a device (class-index targets, `(rows, classes)` logits). */
export interface DeviceCrossEntropyOptions {
  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  readonly reduction: Reduction;
}

/**
 * The ops a device supplies on its tensors' storage (`tensor.storage.ops`) for training there without a
 * readback: autograd's `DeviceOps`, plus the losses, gradient clipping and optimizer steps. The WebGPU
 * runtime's `ops` implement it; the losses, `clipGradNorm_` and the optimizers call it for device tensors.
 */
export interface DeviceTrainingOps extends DeviceOps {
  upload<T extends Tensor>(t: T): T;
  crossEntropy(logits: Tensor, targets: Tensor, o: DeviceCrossEntropyOptions): { loss: F32; denom: F32 };
  crossEntropyBackward(
    logits: Tensor,
    targets: Tensor,
    denom: Tensor,
    gradOut: Tensor,
    o: DeviceCrossEntropyOptions,
  ): F32;
  mse(input: Tensor, target: Tensor, reduction: Reduction): F32;
  mseBackward(input: Tensor, target: Tensor, gradOut: Tensor, reduction: Reduction): F32;
  clipGradNorm(grads: readonly Tensor[], maxNorm: number, normType: number): F32;
  sgdStep(
    param: Tensor,
    grad: Tensor,
    momentumBuffer: Tensor | null,
    o: {
      firstMomentumStep: boolean;
      lr: number;
      momentum: number;
      dampening: number;
      weightDecay: number;
      nesterov: boolean;
      maximize: boolean;
    },
  ): void;
  adamStep(
    param: Tensor,
    grad: Tensor,
    state: { expAvg: Tensor; expAvgSq: Tensor; maxExpAvgSq: Tensor | null },
    o: {
      step: number;
      lr: number;
      beta1: number;
      beta2: number;
      eps: number;
      weightDecay: number;
      amsgrad: boolean;
      maximize: boolean;
      decoupled: boolean;
    },
  ): void;
  rmspropStep(
    param: Tensor,
    grad: Tensor,
    state: { squareAvg: Tensor; momentumBuffer: Tensor | null; gradAvg: Tensor | null },
    o: {
      lr: number;
      alpha: number;
      eps: number;
      weightDecay: number;
      momentum: number;
      centered: boolean;
      maximize: boolean;
    },
  ): void;
  /** Runs `fn`, recording every optimizer step it makes into one submit. */
  steps(fn: () => void): void;
}

/**
 * The training ops of a device tensor's storage, or a clear error naming `owner` and the device when it
 * has none (a backend that cannot train there).
 */
export function deviceTrainingOps(t: Tensor, owner: string): DeviceTrainingOps {
  const ops = t.storage.ops as Partial<DeviceTrainingOps> | undefined;
  if (!ops || typeof ops.crossEntropy !== 'function' || typeof ops.adamStep !== 'function') {
    throw new Error(
      `${owner}: this tensor lives on '${t.device}', which has no training ops; read it with \`await t.data()\` ` +
        'and make a CPU tensor, or train on a backend that supports it',
    );
  }
  return ops as DeviceTrainingOps;
}

import { needsGrad, noGrad, recordGradFn, reshape, type Tensor } from '@recurrent/tensor';
import { type DeviceCrossEntropyOptions, deviceTrainingOps } from './backend/device-ops.js';

// The losses on a device (WebGPU): the loss and its backward are kernels of the device, the gradient stays
// there, and nothing is read back (`await loss.data()` reads the value).

/** A CPU argument (target, weight) put on the input's device; a device one is taken as is. */
function onDeviceOf<T extends Tensor>(owner: string, input: Tensor, t: T): T {
  return t.device === 'cpu' ? deviceTrainingOps(input, owner).upload(t) : t;
}

/**
 * `crossEntropyLoss` of `(N, C)` or `(C)` logits on a device against int32 class indices (validated by the
 * caller; a CPU target's range too). Records `NllLossBackward0` (or `AddBackward0` with label smoothing),
 * whose backward is the device's.
 */
export function crossEntropyOnDevice(
  input: Tensor,
  target: Tensor,
  options: Omit<DeviceCrossEntropyOptions, 'weight'> & { weight: Tensor | null },
): Tensor<'float32'> {
  const owner = 'crossEntropyLoss';
  if (input.ndim > 2) {
    throw new RangeError(
      `${owner}: on '${input.device}' the input must be (N, C) or (C), received shape [${input.shape.join(', ')}]; ` +
        'move the class dimension last and reshape to (N·d1·…, C)',
    );
  }
  const ops = deviceTrainingOps(input, owner);
  const rows = input.ndim === 2 ? (input.shape[0] as number) : 1;
  const classes = input.shape[input.ndim - 1] as number;
  const o: DeviceCrossEntropyOptions = {
    ...options,
    weight: options.weight ? onDeviceOf(owner, input, options.weight) : null,
  };
  const targets = noGrad(() => reshape(onDeviceOf(owner, input, target), [rows]));
  const logits = noGrad(() => reshape(input, [rows, classes]));
  const { loss, denom } = ops.crossEntropy(logits, targets, o);
  const out = o.reduction === 'none' ? noGrad(() => reshape(loss, [...target.shape])) : loss;
  if (!needsGrad(input)) return out;
  const name = options.labelSmoothing > 0 ? 'AddBackward0' : 'NllLossBackward0';
  return recordGradFn(out, name, [input], [input], (g) => {
    const up = o.reduction === 'none' ? reshape(g, [rows]) : g;
    return [reshape(ops.crossEntropyBackward(logits, targets, denom, up, o), [...input.shape])];
  });
}

/** `mseLoss` on a device: same shapes, the target not requiring a gradient (checked by the caller). */
export function mseOnDevice(
  input: Tensor,
  target: Tensor,
  reduction: 'mean' | 'sum' | 'none',
): Tensor<'float32'> {
  const owner = 'mseLoss';
  const ops = deviceTrainingOps(input, owner);
  const t = onDeviceOf(owner, input, target);
  const out = ops.mse(input, t, reduction);
  if (!needsGrad(input)) return out;
  return recordGradFn(out, 'MseLossBackward0', [input, target], [input, target], (g) => [
    ops.mseBackward(input, t, g, reduction),
    null,
  ]);
}

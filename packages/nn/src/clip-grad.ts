import { cpuData, describeForError, noGrad, Tensor } from '@recurrent/tensor';
import { deviceTrainingOps } from './backend/device-ops.js';
import { markUpdated } from './optim/optimizer.js';

/** Options of `clipGradNorm_`. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (default false, as PyTorch 1.13). */
  errorIfNonfinite?: boolean;
}

function withGrads(owner: string, parameters: Iterable<Tensor> | Tensor): Tensor<'float32'>[] {
  const list = parameters instanceof Tensor ? [parameters] : [...parameters];
  for (const p of list) {
    if (!(p instanceof Tensor)) {
      throw new TypeError(`${owner}: expected Tensors, but one of the parameters is ${describeForError(p)}`);
    }
  }
  return list.filter((p) => p.grad !== null).map((p) => p.grad as Tensor<'float32'>);
}

function normOf(x: Float32Array, p: number): number {
  if (p === Number.POSITIVE_INFINITY) {
    let m = 0;
    for (const v of x) m = Number.isNaN(v) || Math.abs(v) > m ? Math.abs(v) : m;
    return m;
  }
  let s = 0;
  if (p === 2) for (const v of x) s += v * v;
  else if (p === 1) for (const v of x) s += Math.abs(v);
  else for (const v of x) s += Math.abs(v) ** p;
  return Math.fround(p === 1 ? s : p === 2 ? Math.sqrt(s) : s ** (1 / p));
}

/** `clipGradNorm_` of gradients on a device: norms, total and scaling there, nothing read back. */
function clipOnDevice(
  grads: Tensor<'float32'>[],
  maxNorm: number,
  normType: number,
  errorIfNonfinite: boolean,
): Tensor<'float32'> {
  const device = (grads[0] as Tensor).device;
  const other = grads.find((g) => g.device !== device);
  if (other) {
    throw new Error(
      `clipGradNorm_: the gradients are on '${device}' and on '${other.device}'; clip the parameters of one device at a time`,
    );
  }
  if (errorIfNonfinite) {
    throw new Error(
      `clipGradNorm_: errorIfNonfinite needs the total norm read back, which '${device}' cannot do synchronously; ` +
        'read the returned total with await total.data() and check it',
    );
  }
  const ops = deviceTrainingOps(grads[0] as Tensor, 'clipGradNorm_');
  const total = ops.clipGradNorm(grads, maxNorm, normType);
  for (const g of grads) markUpdated(g);
  return total;
}

/**
 * Scales the parameters' gradients in place so that their joint norm is at most `maxNorm`
 * (`torch.nn.utils.clip_grad_norm_` of 1.13): the total is the `normType`-norm of the per-parameter norms,
 * in float32; the scale is `maxNorm / (total + 1e-6)`, clamped to 1. Parameters without a grad are skipped.
 * @param normType 2 (default), 1, any p > 0, or `Infinity` (the max-abs).
 * @returns the total norm before clipping, a 0-d float32 tensor (0 when no parameter has a grad); on a
 *   device (WebGPU) it is computed and applied there and stays there: read it with `await total.data()`.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_norm_.html | torch.nn.utils.clip_grad_norm_}
 */
export function clipGradNorm_(
  parameters: Iterable<Tensor> | Tensor,
  maxNorm: number,
  normType = 2,
  { errorIfNonfinite = false }: ClipGradNormOptions = {},
): Tensor<'float32'> {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) {
    throw new TypeError(`clipGradNorm_: maxNorm must be a number, received ${describeForError(maxNorm)}`);
  }
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new RangeError(
      `clipGradNorm_: normType must be a positive number or Infinity, received ${describeForError(normType)}`,
    );
  }
  const grads = withGrads('clipGradNorm_', parameters);
  if (grads.length === 0) return Tensor.fromArray(new Float32Array(1), []);
  const first = grads[0] as Tensor<'float32'>;
  if (first.device !== 'cpu') return clipOnDevice(grads, maxNorm, normType, errorIfNonfinite);
  const norms = Float32Array.from(grads, (g) => normOf(cpuData(g, 'clipGradNorm_'), normType));
  const total = normOf(norms, normType);
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `The total norm of order ${normType === Number.POSITIVE_INFINITY ? 'inf' : Number.isInteger(normType) ? normType.toFixed(1) : normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`error_if_nonfinite=False\``,
    );
  }
  const coef = Math.min(Math.fround(Math.fround(maxNorm) / Math.fround(total + Math.fround(1e-6))), 1);
  noGrad(() => {
    for (const g of grads) {
      const x = cpuData(g);
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = Math.fround((x[i] as number) * coef);
      g.copy_(Tensor.fromArray(out, g.shape));
    }
  });
  return Tensor.fromArray(Float32Array.of(total), []);
}

/**
 * Clamps every gradient element to [−clipValue, clipValue] in place (`torch.nn.utils.clip_grad_value_`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_value_.html | torch.nn.utils.clip_grad_value_}
 */
export function clipGradValue_(parameters: Iterable<Tensor> | Tensor, clipValue: number): void {
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) {
    throw new TypeError(
      `clipGradValue_: clipValue must be a number, received ${describeForError(clipValue)}`,
    );
  }
  const c = Math.fround(clipValue);
  noGrad(() => {
    for (const g of withGrads('clipGradValue_', parameters)) {
      const x = cpuData(g);
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = Math.min(Math.max(x[i] as number, -c), c);
      g.copy_(Tensor.fromArray(out, g.shape));
    }
  });
}

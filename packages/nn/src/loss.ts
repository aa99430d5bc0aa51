// Loss functions as PyTorch 1.13's torch.nn.functional computes them. The reductions and compositions are
// @recurrent/tensor ops, so autograd gives their gradients; nllLoss is one recorded node (NllLossBackward0).
// On a device (WebGPU) crossEntropyLoss (class indices) and mseLoss run as the device's kernels (loss-device.ts).
import {
  abs,
  add,
  cpuData,
  cpuIndex,
  describeForError,
  div,
  formatShape,
  logSoftmax,
  mean,
  mul,
  needsGrad,
  neg,
  recordGradFn,
  reshape,
  shapesEqual,
  sub,
  sum,
  Tensor,
} from '@recurrent/tensor';
import { crossEntropyOnDevice, mseOnDevice } from './loss-device.js';
import { checkKnownOptions } from './options.js';

/** How a loss reduces its per-element values (PyTorch's `reduction`): the mean (default), the sum, or none. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of `mseLoss` and `l1Loss`. */
export interface LossOptions {
  /** `'mean'` (default), `'sum'`, or `'none'` (the per-element losses, the input's shape). */
  reduction?: Reduction;
}

/** Options of `nllLoss`. */
export interface NLLLossOptions extends LossOptions {
  /** A float32 (C) rescaling weight per class (PyTorch's `weight`); default all ones. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing, not even to the mean's denominator (default −100). */
  ignoreIndex?: number;
}

/** Options of `crossEntropyLoss`. */
export interface CrossEntropyLossOptions extends NLLLossOptions {
  /** In [0, 1]: mixes the target with the uniform distribution over the C classes (default 0). */
  labelSmoothing?: number;
}

function checkReduction(owner: string, value: unknown): Reduction {
  if (value === undefined) return 'mean';
  if (value !== 'mean' && value !== 'sum' && value !== 'none') {
    throw new RangeError(
      `${owner}: reduction must be 'mean', 'sum' or 'none', received ${describeForError(value)}`,
    );
  }
  return value;
}

function checkFloat(owner: string, what: string, t: unknown): Tensor {
  if (!(t instanceof Tensor))
    throw new TypeError(`${owner}: ${what} must be a Tensor, received ${describeForError(t)}`);
  if (t.dtype !== 'float32') {
    throw new TypeError(`${owner}: ${what} must be a float32 tensor, received ${t.dtype}`);
  }
  return t;
}

function reduce(t: Tensor<'float32'>, reduction: Reduction): Tensor<'float32'> {
  return reduction === 'mean' ? mean(t) : reduction === 'sum' ? sum(t) : t;
}

/** The broadcast shape, or a clear error naming both shapes (PyTorch broadcasts a differing target too). */
function checkBroadcast(owner: string, input: Tensor, target: Tensor): void {
  const a = input.shape;
  const b = target.shape;
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i] as number;
    const y = b[b.length - i] as number;
    if (x !== y && x !== 1 && y !== 1) {
      throw new RangeError(
        `${owner}: the target's shape ${formatShape(b)} does not match (or broadcast with) the input's shape ${formatShape(a)}`,
      );
    }
  }
}

function pointwiseLoss(
  owner: string,
  input: Tensor,
  target: Tensor,
  options: LossOptions,
  f: (d: Tensor<'float32'>) => Tensor<'float32'>,
): Tensor<'float32'> {
  checkKnownOptions(owner, options, ['reduction']);
  const reduction = checkReduction(owner, options.reduction);
  checkFloat(owner, 'input', input);
  checkFloat(owner, 'target', target);
  checkBroadcast(owner, input, target);
  return reduce(f(sub(input, target)), reduction);
}

/**
 * The mean squared error (PyTorch's `F.mse_loss`): `(input − target)²`, reduced.
 * @param input float32, any shape. @param target float32, the input's shape (broadcast as PyTorch does).
 * @returns a scalar, or the broadcast shape with `reduction: 'none'`.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.mse_loss.html | torch.nn.functional.mse_loss}
 */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor<'float32'> {
  if (input instanceof Tensor && input.device !== 'cpu') return mseDevice(input, target, options);
  if (
    (options.reduction === undefined || options.reduction === 'mean') &&
    Object.keys(options).every((k) => k === 'reduction') &&
    input instanceof Tensor &&
    target instanceof Tensor &&
    input.dtype === 'float32' &&
    target.dtype === 'float32' &&
    shapesEqual(input.shape, target.shape) &&
    !needsGrad(target)
  )
    return meanSquaredError(input, target);
  return pointwiseLoss('mseLoss', input, target, options, (d) => mul(d, d));
}

/** `mseLoss` of a tensor on a device (WebGPU): same shapes, float32, the target not requiring a gradient. */
function mseDevice(input: Tensor, target: Tensor, options: LossOptions): Tensor<'float32'> {
  const owner = 'mseLoss';
  checkKnownOptions(owner, options, ['reduction']);
  const reduction = checkReduction(owner, options.reduction);
  checkFloat(owner, 'input', input);
  checkFloat(owner, 'target', target);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new RangeError(
      `${owner}: on '${input.device}' the target must have the input's shape ${formatShape(input.shape)} (no broadcasting), received ${formatShape(target.shape)}`,
    );
  }
  if (needsGrad(target)) {
    throw new Error(
      `${owner}: on '${input.device}' the target cannot require a gradient; pass target.detach()`,
    );
  }
  return mseOnDevice(input, target, reduction);
}

/**
 * `mean(mul(d, d))` with `d = sub(input, target)` (same shapes, the target not requiring a gradient) in one
 * pass and one recorded node, without the full-size `d`, `d²` and backward temporaries: the same float32
 * roundings as the composition (the sum in float64; the gradient `2·fround(fround(g/n)·d)`, the sum of
 * MulBackward's two equal terms, exact).
 */
function meanSquaredError(input: Tensor, target: Tensor): Tensor<'float32'> {
  const f32 = Math.fround;
  const x = cpuData(input, 'mseLoss');
  const t = cpuData(target, 'mseLoss');
  const n = x.length;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const d = f32((x[i] as number) - (t[i] as number));
    acc += f32(d * d);
  }
  const out = Tensor.fromArray(Float32Array.of(f32(f32(acc) / n)), []);
  if (!needsGrad(input)) return out;
  return recordGradFn(out, 'MseLossBackward0', [input, target], [input, target], (g) => {
    const s = f32((cpuData(g)[0] as number) / n);
    const gx = new Float32Array(n);
    const xs = cpuData(input);
    const ts = cpuData(target);
    for (let i = 0; i < n; i++) {
      const v = f32(s * f32((xs[i] as number) - (ts[i] as number)));
      gx[i] = v + v;
    }
    return [Tensor.fromArray(gx, [...input.shape]), null];
  });
}

/**
 * The mean absolute error (PyTorch's `F.l1_loss`): `|input − target|`, reduced; the gradient at a zero
 * difference is 0, as PyTorch's.
 * @param input float32, any shape. @param target float32, the input's shape.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.l1_loss.html | torch.nn.functional.l1_loss}
 */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor<'float32'> {
  return pointwiseLoss('l1Loss', input, target, options, abs);
}

interface ClassLayout {
  /** N (1 for an unbatched input), C, and the product of the extra dims d1… */
  n: number;
  c: number;
  inner: number;
  /** The target's expected shape. */
  targetShape: number[];
}

function classLayout(owner: string, input: Tensor, target: Tensor): ClassLayout {
  const s = input.shape;
  if (s.length === 0)
    throw new RangeError(`${owner}: input must have at least 1 dimension (C), received a 0-d tensor`);
  const batched = s.length >= 2;
  const c = (batched ? s[1] : s[0]) as number;
  const targetShape = batched ? [s[0] as number, ...s.slice(2)] : [];
  if (batched && target.ndim >= 1 && target.shape[0] !== s[0]) {
    throw new RangeError(
      `${owner}: expected input batch_size (${s[0]}) to match target batch_size (${target.shape[0]}): input ${formatShape(s)}, target ${formatShape(target.shape)}`,
    );
  }
  if (!shapesEqual(target.shape, targetShape)) {
    throw new RangeError(
      `${owner}: expected target of shape ${formatShape(targetShape)} for input of shape ${formatShape(s)}, received ${formatShape(target.shape)}`,
    );
  }
  const inner = s.slice(2).reduce((a, b) => a * b, 1);
  return { n: batched ? (s[0] as number) : 1, c, inner, targetShape };
}

function checkWeight(owner: string, weight: unknown, c: number): Float32Array | null {
  if (weight === undefined || weight === null) return null;
  checkFloat(owner, 'weight', weight);
  const w = weight as Tensor;
  if (!shapesEqual(w.shape, [c])) {
    throw new RangeError(
      `${owner}: weight should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${formatShape(w.shape)}`,
    );
  }
  return cpuData(w, owner);
}

function checkIgnoreIndex(owner: string, value: unknown): number {
  if (value === undefined) return -100;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${owner}: ignoreIndex must be an integer, received ${describeForError(value)}`);
  }
  return value;
}

function checkIndices(owner: string, target: unknown): Tensor<'int32'> {
  if (!(target instanceof Tensor)) {
    throw new TypeError(`${owner}: target must be a Tensor, received ${describeForError(target)}`);
  }
  if (target.dtype !== 'int32') {
    throw new TypeError(
      `${owner}: expected target to be an int32 tensor of class indices, received ${target.dtype}` +
        (owner === 'crossEntropyLoss' ? ' (class probabilities must be float32 of the input shape)' : ''),
    );
  }
  return target as Tensor<'int32'>;
}

/**
 * The negative log likelihood (PyTorch's `F.nll_loss`): `−weight[t]·input[n, t, d…]` per target `t`.
 * The mean divides by the sum of the weights of the targets that are not `ignoreIndex` (NaN when all are).
 * @param input float32 log-probabilities (N, C), (N, C, d1, …), or unbatched (C).
 * @param target int32 class indices in [0, C) (or `ignoreIndex`): (N), (N, d1, …), or a 0-d tensor.
 * @returns a scalar, or the target's shape with `reduction: 'none'`.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.nll_loss.html | torch.nn.functional.nll_loss}
 */
export function nllLoss(input: Tensor, target: Tensor, options: NLLLossOptions = {}): Tensor<'float32'> {
  const owner = 'nllLoss';
  checkKnownOptions(owner, options, ['reduction', 'weight', 'ignoreIndex']);
  return nll(owner, input, target, options);
}

function nll(owner: string, input: Tensor, target: Tensor, options: NLLLossOptions): Tensor<'float32'> {
  const reduction = checkReduction(owner, options.reduction);
  const ignoreIndex = checkIgnoreIndex(owner, options.ignoreIndex);
  checkFloat(owner, 'input', input);
  const t = cpuIndex(checkIndices(owner, target), owner, 'target');
  const { n, c, inner, targetShape } = classLayout(owner, input, target);
  const w = checkWeight(owner, options.weight, c);
  const x = cpuData(input, owner);
  const count = n * inner;
  const losses = new Float32Array(count);
  const weights = new Float32Array(count);
  let total = 0;
  let totalWeight = 0;
  for (let k = 0; k < count; k++) {
    const cls = t[k] as number;
    if (cls === ignoreIndex) continue;
    if (cls < 0 || cls >= c) throw new RangeError(`${owner}: Target ${cls} is out of bounds.`);
    const wk = w ? (w[cls] as number) : 1;
    const i = k % inner;
    const row = (k - i) / inner;
    losses[k] = -wk * (x[(row * c + cls) * inner + i] as number);
    weights[k] = wk;
    total += losses[k] as number;
    totalWeight += wk;
  }
  let out: Tensor<'float32'>;
  if (reduction === 'none') out = Tensor.fromArray(losses, targetShape);
  else if (reduction === 'sum') out = Tensor.fromArray(Float32Array.of(total), []);
  else out = Tensor.fromArray(Float32Array.of(Math.fround(total) / Math.fround(totalWeight)), []);
  if (!needsGrad(input)) return out;
  const name = input.ndim === 4 ? 'NllLoss2DBackward0' : 'NllLossBackward0';
  const divisor = reduction === 'mean' ? Math.fround(totalWeight) : 1;
  return recordGradFn(out, name, [input], [], (g) => {
    const gy = cpuData(g, 'backward');
    const gx = new Float32Array(x.length);
    for (let k = 0; k < count; k++) {
      const wk = weights[k] as number;
      if (wk === 0) continue;
      const cls = t[k] as number;
      const i = k % inner;
      const row = (k - i) / inner;
      const up = reduction === 'none' ? (gy[k] as number) : Math.fround((gy[0] as number) / divisor);
      gx[(row * c + cls) * inner + i] = -wk * up;
    }
    return [Tensor.fromArray(gx, input.shape)];
  });
}

/**
 * The cross entropy of unnormalized logits (PyTorch's `F.cross_entropy`): `logSoftmax` over the class
 * dimension, then `nllLoss` for class indices, or `−Σ_c weight[c]·target[c]·logp[c]` for class
 * probabilities, with PyTorch's label smoothing in both forms.
 * @param input float32 logits (N, C), (N, C, d1, …), or unbatched (C).
 * @param target int32 class indices of shape (N), (N, d1, …) or 0-d; or float32 class probabilities of the
 *   input's shape.
 * @returns a scalar, or (N, d1, …) with `reduction: 'none'`.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.cross_entropy.html | torch.nn.functional.cross_entropy}
 */
export function crossEntropyLoss(
  input: Tensor,
  target: Tensor,
  options: CrossEntropyLossOptions = {},
): Tensor<'float32'> {
  const owner = 'crossEntropyLoss';
  checkKnownOptions(owner, options, ['reduction', 'weight', 'ignoreIndex', 'labelSmoothing']);
  const reduction = checkReduction(owner, options.reduction);
  const ignoreIndex = checkIgnoreIndex(owner, options.ignoreIndex);
  const ls = options.labelSmoothing ?? 0;
  if (typeof ls !== 'number' || !(ls >= 0 && ls <= 1)) {
    throw new RangeError(
      `${owner}: labelSmoothing must be a number in [0, 1], received ${describeForError(ls)}`,
    );
  }
  checkFloat(owner, 'input', input);
  if (!(target instanceof Tensor)) {
    throw new TypeError(`${owner}: target must be a Tensor, received ${describeForError(target)}`);
  }
  if (input.ndim === 0)
    throw new RangeError(`${owner}: input must have at least 1 dimension (C), received a 0-d tensor`);
  const classDim = input.ndim === 1 ? 0 : 1;
  const c = input.shape[classDim] as number;
  if (input.device !== 'cpu') {
    if (target.dtype !== 'int32') {
      throw new TypeError(
        `${owner}: on '${input.device}' the target must be int32 class indices, received ${target.dtype} (class probabilities are computed on the CPU)`,
      );
    }
    classLayout(owner, input, target);
    const weight = (options.weight ?? null) as Tensor | null;
    if (weight !== null) {
      checkFloat(owner, 'weight', weight);
      if (!shapesEqual(weight.shape, [c])) {
        throw new RangeError(
          `${owner}: weight should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${formatShape(weight.shape)}`,
        );
      }
    }
    if (target.device === 'cpu') {
      for (const cls of cpuIndex(target as Tensor<'int32'>, owner, 'target')) {
        if (cls !== ignoreIndex && (cls < 0 || cls >= c)) {
          throw new RangeError(`${owner}: Target ${cls} is out of bounds.`);
        }
      }
    }
    return crossEntropyOnDevice(input, target, { weight, ignoreIndex, labelSmoothing: ls, reduction });
  }
  const w = checkWeight(owner, options.weight, c);
  // weight viewed as (C, 1, …) so it broadcasts along the class dimension of (N, C, d1, …)
  const weightView = w ? reshape(options.weight as Tensor, [c, ...input.shape.slice(2).map(() => 1)]) : null;
  if (target.dtype === 'float32') {
    if (!shapesEqual(target.shape, input.shape)) {
      throw new RangeError(
        `${owner}: a float32 target holds class probabilities and must have the input's shape ${formatShape(input.shape)}, ` +
          `received ${formatShape(target.shape)} (class indices must be int32)`,
      );
    }
    const logp = logSoftmax(input, classDim);
    const probs = ls > 0 ? add(mul(target, 1 - ls), ls / c) : target;
    let prod = mul(logp, probs);
    if (weightView) prod = mul(prod, weightView);
    if (reduction === 'none') return neg(sum(prod, classDim));
    const total = neg(sum(prod));
    return reduction === 'sum' ? total : div(total, input.numel() / c);
  }
  const indices = checkIndices(owner, target);
  classLayout(owner, input, target);
  const logp = logSoftmax(input, classDim);
  const nllOut = nll(owner, logp, indices, { reduction, ignoreIndex, weight: options.weight ?? null });
  if (ls === 0) return nllOut;
  // PyTorch's cross_entropy_loss_label_smoothing: the smoothing term is −Σ_c weight[c]·logp[c], zero where
  // the target is ignored; its mean divides by the weights of the kept targets (their count unweighted).
  const tIdx = cpuIndex(indices, owner, 'target');
  const keep = new Float32Array(tIdx.length);
  let keptWeight = 0;
  for (let k = 0; k < tIdx.length; k++) {
    const cls = tIdx[k] as number;
    if (cls === ignoreIndex) continue;
    keep[k] = 1;
    keptWeight += w ? (w[cls] as number) : 1;
  }
  const perClass = weightView ? mul(logp, weightView) : logp;
  const smooth = mul(neg(sum(perClass, classDim)), Tensor.fromArray(keep, indices.shape));
  let ret: Tensor<'float32'>;
  if (reduction === 'none') ret = smooth;
  else if (reduction === 'sum') ret = sum(smooth);
  else ret = div(sum(smooth), Math.fround(keptWeight));
  return add(mul(nllOut, 1 - ls), mul(ret, ls / c));
}

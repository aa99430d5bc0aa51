import { defaultGenerator, fillNormal, fillUniform, type Generator } from '../random.js';
import { checkShape, formatShape, numelOf, type Shape } from '../shape.js';
import type { ArrayOf, DType } from '../storage.js';
import { type NestedArray, Tensor, toInt32Array } from '../tensor.js';

/** Array-like numeric data that `tensor()` copies into float32. */
export type TensorData = NestedArray | ArrayLike<number>;

/** The `dtype` option of the creation functions: `'float32'` (the default) or `'int32'`. */
export interface DTypeOptions<D extends DType = DType> {
  dtype?: D;
  /** Make a leaf that records operations for autograd (PyTorch's `requires_grad`; float32 only; false). */
  requiresGrad?: boolean;
}

/** Applies `options.requiresGrad` to a new tensor (PyTorch refuses it for integer dtypes). */
function withGrad<D extends DType>(t: Tensor<D>, options: { requiresGrad?: boolean } | undefined): Tensor<D> {
  if (!options?.requiresGrad) return t;
  if (t.dtype !== 'float32')
    throw new TypeError('Only Tensors of floating point and complex dtype can require gradients');
  return t.requiresGrad_(true);
}

/** Options that name the dtype (the overloads that return `Tensor<D>` require it, so `D` comes from the call). */
export type WithDType<D extends DType> = DTypeOptions<D> & { dtype: D };

function checkDType(dtype: unknown, op: string): DType {
  if (dtype === undefined || dtype === 'float32') return 'float32';
  if (dtype === 'int32') return 'int32';
  throw new TypeError(
    `${op}: dtype must be 'float32' or 'int32', received ${typeof dtype === 'string' ? `'${dtype}'` : String(dtype)}`,
  );
}

/** `values` as the array of `dtype`: float32 rounds, int32 truncates toward zero (like `torch.tensor(..., dtype=torch.int32)`). */
function arrayOf<D extends DType>(values: ArrayLike<number>, dtype: D): ArrayOf<D> {
  return (dtype === 'int32' ? toInt32Array(values) : Float32Array.from(values)) as ArrayOf<D>;
}

/** Options of the random creation functions. */
export interface RandomOptions {
  /** Generator to draw from; defaults to the one `manualSeed` seeds. */
  generator?: Generator;
  /** Make a leaf that records operations for autograd (false). */
  requiresGrad?: boolean;
}

/**
 * A tensor from nested arrays (shape inferred, like `torch.tensor`), a number (a 0-d tensor),
 * or flat numbers / a typed array with an explicit `shape` (defaults to 1-D). The data is always copied.
 * `options.dtype`: `'float32'` (default) or `'int32'` (values truncate toward zero, as PyTorch's cast):
 * `tensor(Int32Array.from([5, 9, 2]), [1, 3], { dtype: 'int32' })` is a `Tensor<'int32'>`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.tensor.html | torch.tensor}
 */
export function tensor(data: TensorData, shape?: Shape, options?: DTypeOptions<'float32'>): Tensor<'float32'>;
export function tensor<D extends DType>(
  data: TensorData,
  shape: Shape | undefined,
  options: WithDType<D>,
): Tensor<D>;
export function tensor<D extends DType>(
  data: TensorData,
  shape?: Shape,
  options: DTypeOptions<D> = {},
): Tensor<D> {
  return withGrad(tensorOf(data, shape, checkDType(options?.dtype, 'tensor') as D), options);
}

function tensorOf<D extends DType>(data: TensorData, shape: Shape | undefined, dtype: D): Tensor<D> {
  if (shape !== undefined) checkShape(shape, 'tensor: shape');
  if (typeof data === 'number') {
    if (shape !== undefined && numelOf(shape) !== 1) {
      throw new RangeError(`tensor: a single number cannot fill shape ${formatShape(shape)}`);
    }
    return Tensor.fromArray<D>(arrayOf([data], dtype), shape ?? []);
  }
  const isNested = Array.isArray(data) && data.some((v) => Array.isArray(v));
  if (isNested) {
    const inferred = inferShape(data as NestedArray[]);
    const flat = new Float64Array(numelOf(inferred));
    let k = 0;
    const walk = (v: NestedArray): void => {
      if (typeof v === 'number') flat[k++] = v;
      else for (const x of v) walk(x);
    };
    walk(data as NestedArray);
    return reshapeChecked(arrayOf(flat, dtype), inferred, shape);
  }
  const values = data as ArrayLike<number>;
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new TypeError(`tensor: expected numbers, nested arrays or a typed array, received ${typeOf(data)}`);
  }
  const flat = arrayOf(values, dtype);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') {
      throw new TypeError(`tensor: element ${i} is ${typeOf(values[i])}, expected a number`);
    }
  }
  return reshapeChecked(flat, [flat.length], shape);
}

function reshapeChecked<D extends DType>(
  flat: ArrayOf<D>,
  inferred: Shape,
  shape: Shape | undefined,
): Tensor<D> {
  if (shape === undefined) return Tensor.fromArray<D>(flat, inferred);
  checkShape(shape, 'tensor: shape');
  if (numelOf(shape) !== flat.length) {
    throw new RangeError(
      `tensor: shape ${formatShape(shape)} needs ${numelOf(shape)} elements, received ${flat.length}`,
    );
  }
  return Tensor.fromArray<D>(flat, shape);
}

function inferShape(data: NestedArray[]): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as NestedArray;
  }
  const check = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number')
        throw new TypeError(`tensor: expected a number at ${path}, received ${typeOf(v)}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new RangeError(
        `tensor: ragged nested array: expected length ${shape[dim]} at ${path}, received ` +
          `${Array.isArray(v) ? `length ${v.length}` : typeOf(v)}`,
      );
    }
    for (let i = 0; i < v.length; i++) check(v[i] as NestedArray, dim + 1, `${path}[${i}]`);
  };
  check(data, 0, 'data');
  return shape;
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function filled<D extends DType>(
  shape: Shape,
  value: number,
  options: DTypeOptions<D>,
  op: string,
): Tensor<D> {
  checkShape(shape, `${op}: shape`);
  const dtype = checkDType(options?.dtype, op) as D;
  const fill = arrayOf([value], dtype)[0] as number;
  const out = dtype === 'int32' ? new Int32Array(numelOf(shape)) : new Float32Array(numelOf(shape));
  return withGrad(Tensor.fromArray<D>(out.fill(fill) as ArrayOf<D>, shape), options);
}

/**
 * A tensor of `shape` filled with `value` (PyTorch's `torch.full`); `options.dtype` as in `tensor`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.full.html | torch.full}
 */
export function full(shape: Shape, value: number, options?: DTypeOptions<'float32'>): Tensor<'float32'>;
export function full<D extends DType>(shape: Shape, value: number, options: WithDType<D>): Tensor<D>;
export function full<D extends DType>(shape: Shape, value: number, options: DTypeOptions<D> = {}): Tensor<D> {
  return filled(shape, value, options, 'full');
}

/**
 * A tensor of zeros (float32, or `options.dtype`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.zeros.html | torch.zeros}
 */
export function zeros(shape: Shape, options?: DTypeOptions<'float32'>): Tensor<'float32'>;
export function zeros<D extends DType>(shape: Shape, options: WithDType<D>): Tensor<D>;
export function zeros<D extends DType>(shape: Shape, options: DTypeOptions<D> = {}): Tensor<D> {
  return filled(shape, 0, options, 'zeros');
}

/**
 * A tensor of ones (float32, or `options.dtype`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.ones.html | torch.ones}
 */
export function ones(shape: Shape, options?: DTypeOptions<'float32'>): Tensor<'float32'>;
export function ones<D extends DType>(shape: Shape, options: WithDType<D>): Tensor<D>;
export function ones<D extends DType>(shape: Shape, options: DTypeOptions<D> = {}): Tensor<D> {
  return filled(shape, 1, options, 'ones');
}

/**
 * Zeros with another tensor's shape and dtype (PyTorch's `zeros_like`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.zeros_like.html | torch.zeros_like}
 */
export function zerosLike<D extends DType>(t: Tensor<D>): Tensor<D> {
  return zeros(t.shape, { dtype: t.dtype });
}

/**
 * `[start, end)` in steps of `step` (PyTorch's `torch.arange`): float32, or int32 with
 * `options.dtype` (`arange(0, 5, 1, { dtype: 'int32' })`).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.arange.html | torch.arange}
 */
export function arange(
  start: number,
  end?: number,
  step?: number,
  options?: DTypeOptions<'float32'>,
): Tensor<'float32'>;
export function arange<D extends DType>(
  start: number,
  end: number | undefined,
  step: number | undefined,
  options: WithDType<D>,
): Tensor<D>;
export function arange<D extends DType>(
  start: number,
  end?: number,
  step = 1,
  options: DTypeOptions<D> = {},
): Tensor<D> {
  const dtype = checkDType(options?.dtype, 'arange') as D;
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step))
    throw new RangeError(`arange: step must be finite and nonzero, received ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + i * step;
  return withGrad(Tensor.fromArray<D>(arrayOf(out, dtype), [n]), options);
}

/**
 * A float32 copy of `t` (PyTorch's `t.float()`; a new tensor even when `t` is float32).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.Tensor.float.html | torch.Tensor.float}
 */
export function toFloat(t: Tensor<DType>): Tensor<'float32'> {
  return t.float();
}

/**
 * An int32 copy of `t` (PyTorch's `t.int()`): truncates toward zero; NaN, ±Infinity and out-of-range give -2147483648.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.Tensor.int.html | torch.Tensor.int}
 */
export function toInt(t: Tensor<DType>): Tensor<'int32'> {
  return t.int();
}

/**
 * Uniform samples on `[0, 1)`; equal to `torch.rand` under the same seed.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.rand.html | torch.rand}
 */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor<'float32'> {
  return uniform(shape, 0, 1, options);
}

/**
 * Uniform samples on `[low, high)`; equal to `torch.empty(shape).uniform_(low, high)` under the same seed.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.Tensor.uniform_.html | torch.Tensor.uniform_}
 */
export function uniform(shape: Shape, low = 0, high = 1, options: RandomOptions = {}): Tensor<'float32'> {
  checkShape(shape, 'uniform: shape');
  const out = new Float32Array(numelOf(shape));
  fillUniform(out, low, high, options.generator ?? defaultGenerator);
  return withGrad(Tensor.fromArray(out, shape), options);
}

/**
 * Standard normal samples; equal to `torch.randn` under the same seed.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.randn.html | torch.randn}
 */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor<'float32'> {
  checkShape(shape, 'randn: shape');
  const out = new Float32Array(numelOf(shape));
  fillNormal(out, 0, 1, options.generator ?? defaultGenerator);
  return withGrad(Tensor.fromArray(out, shape), options);
}

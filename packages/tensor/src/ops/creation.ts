import { defaultGenerator, fillNormal, fillUniform, type Generator } from '../random.js';
import { checkShape, formatShape, numelOf, type Shape } from '../shape.js';
import { type NestedArray, Tensor } from '../tensor.js';

/** Array-like numeric data that `tensor()` copies into float32. */
export type TensorData = NestedArray | ArrayLike<number>;

/** Options of the random creation functions. */
export interface RandomOptions {
  /** Generator to draw from; defaults to the one `manualSeed` seeds. */
  generator?: Generator;
}

/**
 * A float32 tensor from nested arrays (shape inferred, like `torch.tensor`), a number (a 0-d tensor),
 * or flat numbers / a typed array with an explicit `shape` (defaults to 1-D).
 * The data is always copied.
 */
export function tensor(data: TensorData, shape?: Shape): Tensor {
  if (shape !== undefined) checkShape(shape, 'tensor: shape');
  if (typeof data === 'number') {
    if (shape !== undefined && numelOf(shape) !== 1) {
      throw new RangeError(`tensor: a single number cannot fill shape ${formatShape(shape)}`);
    }
    return Tensor.fromArray(Float32Array.of(data), shape ?? []);
  }
  const isNested = Array.isArray(data) && data.some((v) => Array.isArray(v));
  if (isNested) {
    const inferred = inferShape(data as NestedArray[]);
    const flat = new Float32Array(numelOf(inferred));
    let k = 0;
    const walk = (v: NestedArray): void => {
      if (typeof v === 'number') flat[k++] = v;
      else for (const x of v) walk(x);
    };
    walk(data as NestedArray);
    return reshapeChecked(flat, inferred, shape);
  }
  const values = data as ArrayLike<number>;
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new TypeError(`tensor: expected numbers, nested arrays or a typed array, received ${typeOf(data)}`);
  }
  const flat = Float32Array.from(values as ArrayLike<number>);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') {
      throw new TypeError(`tensor: element ${i} is ${typeOf(values[i])}, expected a number`);
    }
  }
  return reshapeChecked(flat, [flat.length], shape);
}

function reshapeChecked(flat: Float32Array, inferred: Shape, shape: Shape | undefined): Tensor {
  if (shape === undefined) return Tensor.fromArray(flat, inferred);
  checkShape(shape, 'tensor: shape');
  if (numelOf(shape) !== flat.length) {
    throw new RangeError(
      `tensor: shape ${formatShape(shape)} needs ${numelOf(shape)} elements, received ${flat.length}`,
    );
  }
  return Tensor.fromArray(flat, shape);
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

/** A tensor of `shape` filled with `value` (PyTorch's `torch.full`). */
export function full(shape: Shape, value: number): Tensor {
  checkShape(shape, 'full: shape');
  return Tensor.fromArray(new Float32Array(numelOf(shape)).fill(value), shape);
}

/** A tensor of zeros. */
export function zeros(shape: Shape): Tensor {
  checkShape(shape, 'zeros: shape');
  return Tensor.fromArray(new Float32Array(numelOf(shape)), shape);
}

/** A tensor of ones. */
export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

/** Zeros with another tensor's shape. */
export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape);
}

/** `[start, end)` in steps of `step` (PyTorch's `torch.arange`, float32). */
export function arange(start: number, end?: number, step = 1): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step))
    throw new RangeError(`arange: step must be finite and nonzero, received ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + i * step;
  return Tensor.fromArray(out, [n]);
}

/** Uniform samples on `[0, 1)`; equal to `torch.rand` under the same seed. */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  return uniform(shape, 0, 1, options);
}

/** Uniform samples on `[low, high)`; equal to `torch.empty(shape).uniform_(low, high)` under the same seed. */
export function uniform(shape: Shape, low = 0, high = 1, options: RandomOptions = {}): Tensor {
  checkShape(shape, 'uniform: shape');
  const out = new Float32Array(numelOf(shape));
  fillUniform(out, low, high, options.generator ?? defaultGenerator);
  return Tensor.fromArray(out, shape);
}

/** Standard normal samples; equal to `torch.randn` under the same seed. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape(shape, 'randn: shape');
  const out = new Float32Array(numelOf(shape));
  fillNormal(out, 0, 1, options.generator ?? defaultGenerator);
  return Tensor.fromArray(out, shape);
}

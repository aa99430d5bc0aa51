import { recordBinary, recordUnary } from '../autograd/elementwise.js';
import { needsGrad } from '../autograd/node.js';
import { broadcastShapes, numelOf, shapesEqual, stridesOf } from '../shape.js';
import { cpuData, Tensor } from '../tensor.js';
import { gatherStrided } from './strided.js';

/** A tensor or a number (broadcast as a scalar). */
export type Operand = Tensor | number;

function broadcastData(t: Tensor, outShape: readonly number[], op: string): Float32Array {
  const data = cpuData(t, op);
  if (shapesEqual(t.shape, outShape)) return data;
  const lead = outShape.length - t.ndim;
  const own = stridesOf(t.shape);
  const strides = outShape.map((_, i) =>
    i < lead || t.shape[i - lead] === 1 ? 0 : (own[i - lead] as number),
  );
  return gatherStrided<'float32'>(data, outShape, strides, 0);
}

/** Applies `f` elementwise with PyTorch broadcasting; numbers act as 0-d tensors. */
export function binary(
  a: Operand,
  b: Operand,
  op: string,
  f: (x: number, y: number) => number,
): Tensor<'float32'> {
  if (typeof a === 'number' && typeof b === 'number') return Tensor.fromArray(Float32Array.of(f(a, b)), []);
  if (typeof b === 'number') return unary(a as Tensor, (x) => f(x, b), op);
  if (typeof a === 'number') return unary(b, (y) => f(a, y), op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const x = broadcastData(a, shape, op);
  const y = broadcastData(b, shape, op);
  const out = new Float32Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(x[i] as number, y[i] as number);
  return Tensor.fromArray(out, shape);
}

/** Applies `f` to every element. */
export function unary(t: Tensor, f: (x: number) => number, op = 'unary'): Tensor<'float32'> {
  const x = cpuData(t, op);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  return Tensor.fromArray(out, t.shape);
}

/**
 * `a + b` with broadcasting.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.add.html | torch.add}
 */
export function add(a: Operand, b: Operand): Tensor<'float32'> {
  const out = binary(a, b, 'add', (x, y) => x + y);
  return needsGrad(a, b) ? recordBinary(out, 'add', a, b) : out;
}

/**
 * `a − b` with broadcasting.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.sub.html | torch.sub}
 */
export function sub(a: Operand, b: Operand): Tensor<'float32'> {
  const out = binary(a, b, 'sub', (x, y) => x - y);
  return needsGrad(a, b) ? recordBinary(out, 'sub', a, b) : out;
}

/**
 * `a · b` elementwise with broadcasting.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.mul.html | torch.mul}
 */
export function mul(a: Operand, b: Operand): Tensor<'float32'> {
  const out = binary(a, b, 'mul', (x, y) => x * y);
  return needsGrad(a, b) ? recordBinary(out, 'mul', a, b) : out;
}

/**
 * `a / b` elementwise with broadcasting (IEEE: x/0 is ±Infinity or NaN).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.div.html | torch.div}
 */
export function div(a: Operand, b: Operand): Tensor<'float32'> {
  const out = binary(a, b, 'div', (x, y) => x / y);
  return needsGrad(a, b) ? recordBinary(out, 'div', a, b) : out;
}

/**
 * `−x`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.neg.html | torch.neg}
 */
export function neg(t: Tensor): Tensor<'float32'> {
  const out = unary(t, (x) => -x, 'neg');
  return needsGrad(t) ? recordUnary(out, 'neg', t) : out;
}

/**
 * `|x|`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.abs.html | torch.abs}
 */
export function abs(t: Tensor): Tensor<'float32'> {
  const out = unary(t, Math.abs, 'abs');
  return needsGrad(t) ? recordUnary(out, 'abs', t) : out;
}

/**
 * `eˣ`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.exp.html | torch.exp}
 */
export function exp(t: Tensor): Tensor<'float32'> {
  const out = unary(t, Math.exp, 'exp');
  return needsGrad(t) ? recordUnary(out, 'exp', t) : out;
}

/**
 * Hyperbolic tangent.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.tanh.html | torch.tanh}
 */
export function tanh(t: Tensor): Tensor<'float32'> {
  const out = unary(t, Math.tanh, 'tanh');
  return needsGrad(t) ? recordUnary(out, 'tanh', t) : out;
}

/**
 * `max(x, 0)`; NaN stays NaN, as in PyTorch.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.relu.html | torch.nn.functional.relu}
 */
export function relu(t: Tensor): Tensor<'float32'> {
  const out = unary(t, reluScalar, 'relu');
  return needsGrad(t) ? recordUnary(out, 'relu', t) : out;
}

/**
 * `1 / (1 + e⁻ˣ)`, composed from exp; saturates to 0 and 1 without overflow errors.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.sigmoid.html | torch.sigmoid}
 */
export function sigmoid(t: Tensor): Tensor<'float32'> {
  const out = unary(t, (x) => 1 / (1 + Math.exp(-x)), 'sigmoid');
  return needsGrad(t) ? recordUnary(out, 'sigmoid', t) : out;
}

/** Scalar ReLU that lets NaN through (a plain `x > 0 ? x : 0` would turn NaN into 0). */
export function reluScalar(x: number): number {
  return x > 0 || Number.isNaN(x) ? x : 0;
}

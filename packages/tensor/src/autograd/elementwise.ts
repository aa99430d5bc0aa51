// Derivative rules of the elementwise ops (PyTorch's derivatives.yaml entries for them).
import { binary, type Operand } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { sumTo, zip2 } from './broadcast.js';
import { record } from './node.js';

const f32 = Math.fround;
type Grad = Tensor<'float32'> | null;

const saved = (...xs: Operand[]): Tensor[] => xs.filter((x): x is Tensor => typeof x !== 'number');
const to = (g: Tensor<'float32'>, x: Operand): Grad => (typeof x === 'number' ? null : sumTo(g, x.shape));

/** Records `out = a + b`, `a − b`, `a · b` or `a / b` (broadcast operands get summed gradients). */
export function recordBinary(
  out: Tensor<'float32'>,
  op: 'add' | 'sub' | 'mul' | 'div',
  a: Operand,
  b: Operand,
): Tensor<'float32'> {
  switch (op) {
    case 'add':
      return record(out, 'AddBackward0', [a, b], [], (g, n) => [
        n[0] ? to(g, a) : null,
        n[1] ? to(g, b) : null,
      ]);
    case 'sub':
      // `c − x` with a number c is PyTorch's `rsub`
      return record(out, typeof a === 'number' ? 'RsubBackward1' : 'SubBackward0', [a, b], [], (g, n) => [
        n[0] ? to(g, a) : null,
        n[1]
          ? to(
              binary(g, -1, 'sub', (x) => -x),
              b,
            )
          : null,
      ]);
    case 'mul':
      return record(out, 'MulBackward0', [a, b], saved(a, b), (g, n) => [
        n[0]
          ? to(
              binary(g, b, 'mul', (x, y) => x * y),
              a,
            )
          : null,
        n[1]
          ? to(
              binary(g, a, 'mul', (x, y) => x * y),
              b,
            )
          : null,
      ]);
    case 'div':
      if (typeof a === 'number') {
        // `c / x` is `x.reciprocal() * c` in PyTorch: -(g·c)·r² with r = 1/x
        return record(out, 'MulBackward0', [a, b], saved(b), (g) => [
          null,
          zip2(g, b as Tensor, (gi, x) => {
            const r = f32(1 / x);
            return -f32(gi * a) * f32(r * r);
          }),
        ]);
      }
      return record(out, 'DivBackward0', [a, b], saved(a, b), (g, n) => [
        n[0]
          ? to(
              binary(g, b, 'div', (x, y) => x / y),
              a,
            )
          : null,
        // PyTorch: -grad · ((a / b) / b)
        n[1]
          ? to(
              binary(
                g,
                binary(
                  binary(a, b, 'div', (x, y) => x / y),
                  b,
                  'div',
                  (x, y) => x / y,
                ),
                'div',
                (x, q) => -x * q,
              ),
              b,
            )
          : null,
      ]);
  }
}

/** The unary ops with a derivative: each saves its input or its result as PyTorch's does. */
export type UnaryOp = 'neg' | 'abs' | 'exp' | 'tanh' | 'relu' | 'sigmoid';

/** Records `out = op(x)`. */
export function recordUnary(out: Tensor<'float32'>, op: UnaryOp, x: Tensor): Tensor<'float32'> {
  switch (op) {
    case 'neg':
      return record(out, 'NegBackward0', [x], [], (g) => [zip2(g, g, (gi) => -gi)]);
    case 'abs':
      return record(out, 'AbsBackward0', [x], [x], (g) => [zip2(g, x, (gi, v) => gi * Math.sign(v))]);
    case 'exp':
      return record(out, 'ExpBackward0', [x], [out], (g) => [zip2(g, out, (gi, y) => gi * y)]);
    case 'tanh':
      return record(out, 'TanhBackward0', [x], [out], (g) => [
        zip2(g, out, (gi, y) => gi * f32(1 - f32(y * y))),
      ]);
    case 'sigmoid':
      return record(out, 'SigmoidBackward0', [x], [out], (g) => [
        zip2(g, out, (gi, y) => f32(gi * f32(1 - y)) * y),
      ]);
    case 'relu':
      // threshold_backward(grad, result, 0): zero where result ≤ 0 (NaN passes the gradient)
      return record(out, 'ReluBackward0', [x], [out], (g) => [zip2(g, out, (gi, y) => (y <= 0 ? 0 : gi))]);
  }
}

import { numelOf, type Shape, shapesEqual, stridesOf } from '../shape.js';
import { cpuData, Tensor } from '../tensor.js';

/**
 * `g` summed back to `shape` (PyTorch's `sum_to`): over its extra leading dimensions and over every
 * dimension where `shape` has size 1, the gradient of an operand broadcast to `g`'s shape. Sums in float64.
 */
export function sumTo(g: Tensor<'float32'>, shape: Shape): Tensor<'float32'> {
  if (shapesEqual(g.shape, shape)) return g;
  const x = cpuData(g, 'backward');
  const acc = new Float64Array(numelOf(shape));
  const lead = g.ndim - shape.length;
  const own = stridesOf(shape);
  // the output offset each of g's dimensions advances (0 where it is summed away)
  const step = g.shape.map((s, i) =>
    i < lead || (shape[i - lead] === 1 && s !== 1) ? 0 : (own[i - lead] as number),
  );
  const ndim = g.ndim;
  const index = new Array<number>(ndim).fill(0);
  let at = 0;
  for (let n = 0; n < x.length; n++) {
    acc[at] = (acc[at] as number) + (x[n] as number);
    for (let d = ndim - 1; d >= 0; d--) {
      const i = (index[d] as number) + 1;
      at += step[d] as number;
      if (i < (g.shape[d] as number)) {
        index[d] = i;
        break;
      }
      index[d] = 0;
      at -= i * (step[d] as number);
    }
  }
  return Tensor.fromArray(Float32Array.from(acc), shape);
}

/** `f(g[i], a[i], b[i])` over three same-length float32 tensors, in `g`'s shape (a formula's loop). */
export function zip3(
  g: Tensor<'float32'>,
  a: Tensor,
  b: Tensor,
  f: (g: number, a: number, b: number) => number,
): Tensor<'float32'> {
  const x = cpuData(g, 'backward');
  const y = cpuData(a, 'backward');
  const z = cpuData(b, 'backward');
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i] as number, y[i] as number, z[i] as number);
  return Tensor.fromArray(out, g.shape);
}

/** `f(g[i], a[i])` over two same-length float32 tensors, in `g`'s shape. */
export function zip2(
  g: Tensor<'float32'>,
  a: Tensor,
  f: (g: number, a: number) => number,
): Tensor<'float32'> {
  const x = cpuData(g, 'backward');
  const y = cpuData(a, 'backward');
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i] as number, y[i] as number);
  return Tensor.fromArray(out, g.shape);
}

// Derivative rules of the reductions: sum, mean, and max/min (whole tensor or along a dimension).
import { splitAt } from '../ops/dims.js';
import { numelOf, type Shape } from '../shape.js';
import { cpuData, cpuIndex, Tensor } from '../tensor.js';
import { record } from './node.js';

/** `g` (the reduced shape) spread back over `shape` along `dim` (all of it when undefined), times `scale`. */
function spread(
  g: Tensor<'float32'>,
  shape: Shape,
  dim: number | undefined,
  scale: number,
): Tensor<'float32'> {
  const x = cpuData(g, 'backward');
  const out = new Float32Array(numelOf(shape));
  if (dim === undefined) return Tensor.fromArray(out.fill((x[0] as number) * scale), shape);
  const { outer, size, inner } = splitAt(shape, dim, 'backward');
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < size; k++) {
      const base = (o * size + k) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = (x[o * inner + i] as number) * scale;
    }
  }
  return Tensor.fromArray(out, shape);
}

/** Records `out = sum(t)` (SumBackward0) or `sum(t, dim, keepdim)` (SumBackward1). */
export function recordSum(out: Tensor<'float32'>, t: Tensor, dim: number | undefined): Tensor<'float32'> {
  const name = dim === undefined ? 'SumBackward0' : 'SumBackward1';
  return record(out, name, [t], [], (g) => [spread(g, t.shape, dim, 1)]);
}

/** Records `out = mean(t)` (MeanBackward0) or `mean(t, dim, keepdim)` (MeanBackward1): the gradient over n. */
export function recordMean(
  out: Tensor<'float32'>,
  t: Tensor,
  dim: number | undefined,
  n: number,
): Tensor<'float32'> {
  const name = dim === undefined ? 'MeanBackward0' : 'MeanBackward1';
  return record(out, name, [t], [], (g) => [
    dim === undefined
      ? spread(Tensor.fromArray(Float32Array.of((cpuData(g)[0] as number) / n), []), t.shape, dim, 1)
      : divided(spread(g, t.shape, dim, 1), n),
  ]);
}

function divided(t: Tensor<'float32'>, n: number): Tensor<'float32'> {
  const x = cpuData(t);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) / n;
  return t;
}

/**
 * Records `out = max(t)` / `min(t)` (MaxBackward1/MinBackward1): PyTorch's evenly_distribute_backward,
 * the gradient split equally among the elements equal to the result (the NaNs, when it is NaN).
 */
export function recordExtremum(out: Tensor<'float32'>, t: Tensor, op: 'max' | 'min'): Tensor<'float32'> {
  const name = op === 'max' ? 'MaxBackward1' : 'MinBackward1';
  return record(out, name, [t], [t, out], (g) => {
    const x = cpuData(t);
    const v = cpuData(out)[0] as number;
    const hit = (e: number): boolean => (Number.isNaN(v) ? Number.isNaN(e) : e === v);
    let count = 0;
    for (let i = 0; i < x.length; i++) if (hit(x[i] as number)) count++;
    const share = Math.fround((cpuData(g)[0] as number) / count);
    const grad = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) if (hit(x[i] as number)) grad[i] = share;
    return [Tensor.fromArray(grad, t.shape)];
  });
}

/** Zeros of `shape` with `g`'s `k` entries per line along `dim` added at the positions `indices` holds. */
function scatterAlong(
  g: Tensor<'float32'>,
  indices: Tensor<'int32'>,
  shape: readonly number[],
  dim: number,
  k: number,
): Tensor<'float32'> {
  const x = cpuData(g);
  const idx = cpuIndex(indices, 'backward');
  const { outer, size, inner } = splitAt(shape, dim, 'backward');
  const grad = new Float32Array(numelOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const from = (o * k + j) * inner + i;
        const to = (o * size + (idx[from] as number)) * inner + i;
        grad[to] = (grad[to] as number) + (x[from] as number);
      }
    }
  }
  return Tensor.fromArray(grad, shape);
}

/**
 * Records `values` of `max(t, dim)` / `min(t, dim)` (MaxBackward0/MinBackward0): the gradient goes to
 * the chosen index of each line (PyTorch's value_selecting_reduction_backward).
 */
export function recordAlong(
  values: Tensor<'float32'>,
  indices: Tensor<'int32'>,
  t: Tensor,
  dim: number,
  op: 'max' | 'min',
): Tensor<'float32'> {
  const name = op === 'max' ? 'MaxBackward0' : 'MinBackward0';
  return record(values, name, [t], [indices], (g) => [scatterAlong(g, indices, t.shape, dim, 1)]);
}

/** Records `values` of `topk(t, k, dim)` (TopkBackward0): each gradient goes back to where its value came from. */
export function recordTopk(
  values: Tensor<'float32'>,
  indices: Tensor<'int32'>,
  t: Tensor,
  dim: number,
  k: number,
): Tensor<'float32'> {
  return record(values, 'TopkBackward0', [t], [indices], (g) => [scatterAlong(g, indices, t.shape, dim, k)]);
}

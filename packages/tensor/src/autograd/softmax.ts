// Derivative rules of softmax and logSoftmax along a dimension (PyTorch's _softmax_backward_data and
// _log_softmax_backward_data), from the saved output y.
import { splitAt } from '../ops/dims.js';
import { cpuData, Tensor } from '../tensor.js';
import { record } from './node.js';

function alongDim(
  g: Tensor<'float32'>,
  y: Tensor<'float32'>,
  dim: number,
  f: (g: Float32Array, y: Float32Array, out: Float32Array, base: number, size: number, inner: number) => void,
): Tensor<'float32'> {
  const gx = cpuData(g, 'backward');
  const yx = cpuData(y, 'backward');
  const { outer, size, inner } = splitAt(y.shape, dim, 'backward');
  const out = new Float32Array(yx.length);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) f(gx, yx, out, o * size * inner + i, size, inner);
  return Tensor.fromArray(out, y.shape);
}

/** Records `y = softmax(t, dim)` (SoftmaxBackward0): dx = y · (g − Σ g·y). */
export function recordSoftmax(y: Tensor<'float32'>, t: Tensor, dim: number): Tensor<'float32'> {
  return record(y, 'SoftmaxBackward0', [t], [y], (g) => [
    alongDim(g, y, dim, (gx, yx, out, base, size, inner) => {
      let dot = 0;
      for (let k = 0; k < size; k++)
        dot += (gx[base + k * inner] as number) * (yx[base + k * inner] as number);
      for (let k = 0; k < size; k++) {
        const at = base + k * inner;
        out[at] = (yx[at] as number) * ((gx[at] as number) - dot);
      }
    }),
  ]);
}

/** Records `y = logSoftmax(t, dim)` (LogSoftmaxBackward0): dx = g − exp(y) · Σ g. */
export function recordLogSoftmax(y: Tensor<'float32'>, t: Tensor, dim: number): Tensor<'float32'> {
  return record(y, 'LogSoftmaxBackward0', [t], [y], (g) => [
    alongDim(g, y, dim, (gx, yx, out, base, size, inner) => {
      let sum = 0;
      for (let k = 0; k < size; k++) sum += gx[base + k * inner] as number;
      for (let k = 0; k < size; k++) {
        const at = base + k * inner;
        out[at] = (gx[at] as number) - Math.exp(yx[at] as number) * sum;
      }
    }),
  ]);
}

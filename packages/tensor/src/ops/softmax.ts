import { needsGrad } from '../autograd/node.js';
import { recordLogSoftmax, recordSoftmax } from '../autograd/softmax.js';
import { cpuData, Tensor } from '../tensor.js';
import { splitAt } from './dims.js';

/**
 * Runs `f` on every line of `t` along `dim` (strided by `inner`), computing the row's max first.
 * The max propagates NaN, so a row holding NaN (or +Infinity, where `x − max` is NaN) is all NaN, as in
 * PyTorch's kernels; a row of all −Infinity is NaN too.
 */
function alongDim(
  t: Tensor,
  dim: number,
  op: string,
  f: (x: Float32Array, out: Float32Array, base: number, size: number, inner: number, max: number) => void,
): Tensor<'float32'> {
  const x = cpuData(t, op);
  const { outer, size, inner } = splitAt(t.shape, dim, op);
  const out = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < size; k++) {
        const v = x[base + k * inner] as number;
        if (Number.isNaN(v) || v > max) max = v;
        if (Number.isNaN(v)) break;
      }
      f(x, out, base, size, inner, max);
    }
  }
  return Tensor.fromArray(out, t.shape);
}

/**
 * `exp(x − max) / Σ exp(x − max)` along `dim` (negative counts from the end), like
 * `torch.softmax(t, dim)`: same shape as `t`, float32 only. Subtracting the row's max keeps `exp` from
 * overflowing; the sums run in float64 (PyTorch sums in float32 with a vectorized exp, so results agree
 * to about 1e-7 relative, not bit for bit).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.softmax.html | torch.nn.functional.softmax}
 */
export function softmax(t: Tensor, dim: number): Tensor<'float32'> {
  const out = alongDim(t, dim, 'softmax', (x, out, base, size, inner, max) => {
    let sum = 0;
    for (let k = 0; k < size; k++) sum += Math.exp((x[base + k * inner] as number) - max);
    for (let k = 0; k < size; k++)
      out[base + k * inner] = Math.exp((x[base + k * inner] as number) - max) / sum;
  });
  return needsGrad(t) ? recordSoftmax(out, t, dim) : out;
}

/**
 * `x − max − log Σ exp(x − max)` along `dim`, like `torch.log_softmax(t, dim)`: the log of `softmax`
 * without its underflow to −Infinity for very unlikely entries (an entry of −Infinity stays −Infinity).
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.functional.log_softmax.html | torch.nn.functional.log_softmax}
 */
export function logSoftmax(t: Tensor, dim: number): Tensor<'float32'> {
  const out = alongDim(t, dim, 'logSoftmax', (x, out, base, size, inner, max) => {
    let sum = 0;
    for (let k = 0; k < size; k++) sum += Math.exp((x[base + k * inner] as number) - max);
    const logSum = Math.log(sum);
    for (let k = 0; k < size; k++) out[base + k * inner] = (x[base + k * inner] as number) - max - logSum;
  });
  return needsGrad(t) ? recordLogSoftmax(out, t, dim) : out;
}

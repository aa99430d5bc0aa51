import { defaultGenerator, fillExponential, Generator, uniformDouble } from '../random.js';
import { formatShape } from '../shape.js';
import { cpuData, Tensor } from '../tensor.js';
import { argmax } from './argreduce.js';
import { topk } from './sort.js';

/** Options of `multinomial`. */
export interface MultinomialOptions {
  /** Draw with replacement (false: each category at most once per row). */
  replacement?: boolean;
  /** Generator to draw from; defaults to the one `manualSeed` seeds. */
  generator?: Generator;
}

const f32 = Math.fround;

/**
 * `numSamples` category indices per row drawn from `probs` (non-negative weights, not necessarily
 * normalized), like `torch.multinomial(probs, numSamples, replacement, generator=...)`:
 * `probs` of shape `(C)` or `(N, C)` gives int32 indices of shape `(numSamples)` or `(N, numSamples)`.
 * It draws exactly what PyTorch 1.13 draws on the CPU under the same seed: without replacement,
 * `topk(probs / q)` (argmax for one sample) with `q ~ Exp(1)` from one `exponential_` over all of
 * `probs`; with replacement (one sample included), per sample one double uniform located by binary
 * search in the float32 cumulative distribution. Rows with fewer non-zero weights than `numSamples`
 * (without replacement) end with zero-weight categories, in the order PyTorch's topk leaves them.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.multinomial.html | torch.multinomial}
 */
export function multinomial(
  probs: Tensor,
  numSamples: number,
  options: MultinomialOptions = {},
): Tensor<'int32'> {
  const op = 'multinomial';
  const { replacement = false, generator = defaultGenerator } = options;
  const p = cpuData(probs, op);
  if (!(generator instanceof Generator)) {
    throw new TypeError(
      `${op}: expected a Generator, received ${generator === null ? 'null' : typeof generator}`,
    );
  }
  if (probs.ndim < 1 || probs.ndim > 2) {
    throw new RangeError(`${op}: prob_dist must be 1 or 2 dim, received shape ${formatShape(probs.shape)}`);
  }
  if (!Number.isInteger(numSamples) || numSamples <= 0) {
    throw new RangeError(`${op}: cannot sample n_sample <= 0 samples (received ${numSamples})`);
  }
  const categories = probs.shape[probs.ndim - 1] as number;
  const rows = probs.ndim === 2 ? (probs.shape[0] as number) : 1;
  if (!replacement && numSamples > categories) {
    throw new RangeError(
      `${op}: cannot sample n_sample > prob_dist.size(-1) samples without replacement ` +
        `(n_sample = ${numSamples}, ${categories} categories)`,
    );
  }
  if (categories > 2 ** 24) throw new RangeError(`${op}: number of categories cannot exceed 2^24`);
  const outShape = probs.ndim === 2 ? [rows, numSamples] : [numSamples];

  if (!replacement) {
    for (let i = 0; i < p.length; i++) {
      const v = p[i] as number;
      if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) {
        throw new RangeError(`${op}: probability tensor contains either \`inf\`, \`nan\` or element < 0`);
      }
    }
    for (let r = 0; r < rows; r++) {
      if (p.subarray(r * categories, (r + 1) * categories).every((v) => v === 0)) {
        throw new RangeError(`${op}: invalid multinomial distribution (sum of probabilities <= 0)`);
      }
    }
    // Gumbel-max with the exp applied: argmax/topk of p / q with q ~ Exp(1) (ATen's no-replacement path).
    const q = fillExponential(new Float32Array(p.length), 1, generator);
    for (let i = 0; i < q.length; i++) q[i] = (p[i] as number) / (q[i] as number);
    const keys = Tensor.fromArray(q, probs.shape);
    if (numSamples === 1) return argmax(keys, -1, true);
    return topk(keys, numSamples, -1)[1];
  }

  const out = new Int32Array(rows * numSamples);
  const cum = new Float32Array(categories);
  for (let r = 0; r < rows; r++) {
    // ATen's multinomial_with_replacement: a float32 running sum, normalized, last bucket forced to 1.
    let sum = 0;
    for (let j = 0; j < categories; j++) {
      const v = p[r * categories + j] as number;
      if (!(v >= 0)) {
        throw new RangeError(`${op}: invalid multinomial distribution (encountering probability entry < 0)`);
      }
      if (!Number.isFinite(v)) {
        throw new RangeError(
          `${op}: invalid multinomial distribution (encountering probability entry = infinity or NaN)`,
        );
      }
      sum = f32(sum + v);
      cum[j] = sum;
    }
    if (!(sum > 0))
      throw new RangeError(`${op}: invalid multinomial distribution (sum of probabilities <= 0)`);
    for (let j = 0; j < categories; j++) cum[j] = (cum[j] as number) / sum;
    cum[categories - 1] = 1;
    for (let s = 0; s < numSamples; s++) {
      const u = uniformDouble(generator);
      let left = 0;
      let right = categories;
      while (right - left > 0) {
        const mid = left + ((right - left) >> 1);
        if ((cum[mid] as number) < u) left = mid + 1;
        else right = mid;
      }
      out[r * numSamples + s] = left;
    }
  }
  return Tensor.fromArray(out, outShape);
}

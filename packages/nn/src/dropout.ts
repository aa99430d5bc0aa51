import { defaultGenerator, fillBernoulli, type Generator, Tensor } from '@recurrent/tensor';
import { checkCpuInput } from './cpu-input.js';
import { Module } from './module.js';
import { checkKnownOptions, checkProbability } from './options.js';

/** Options of `Dropout`: `torch.nn.Dropout`'s arguments in camelCase. */
export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1]. Default 0.5. */
  p?: number;
  /** Generator for the masks (default: the one `manualSeed` seeds). */
  generator?: Generator;
}

/**
 * Inverted dropout like `torch.nn.Dropout`: in training mode each element is zeroed with probability `p`
 * and the others scaled by `1 / (1 − p)`, the mask drawn from the generator in PyTorch's order (one
 * `bernoulli_(1 − p)` over the input's elements), so a seeded run matches PyTorch; in eval mode (and for
 * p = 0) it returns the input itself. Any shape; computes on the CPU.
 */
export class Dropout extends Module {
  readonly p: number;
  readonly #generator: Generator;

  constructor(options: DropoutOptions = {}) {
    super();
    checkKnownOptions('Dropout', options, ['p', 'generator']);
    this.p = options.p === undefined ? 0.5 : checkProbability('Dropout', 'p', options.p);
    this.#generator = options.generator ?? defaultGenerator;
  }

  /** @param input any shape, float32, on the CPU. @returns the same shape. */
  forward(input: Tensor): Tensor<'float32'> {
    checkCpuInput('Dropout', input);
    if (input.dtype !== 'float32') {
      throw new TypeError(`Dropout: input must be a float32 tensor, received ${input.dtype}`);
    }
    const { p } = this;
    if (!this.training || p === 0 || input.numel() === 0) return input as Tensor<'float32'>; // checked above
    const x = input.dataSync() as Float32Array;
    const out = new Float32Array(x.length);
    if (p === 1) {
      // PyTorch multiplies by zero rather than writing zeros, so ±Inf and NaN become NaN
      for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * 0;
      return Tensor.fromArray(out, input.shape);
    }
    fillBernoulli(out, 1 - p, this.#generator);
    // PyTorch divides the float32 mask by (1 − p) and multiplies: x · float32(1 / float32(1 − p))
    const scale = Math.fround(1 / Math.fround(1 - p));
    for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * ((out[i] as number) * scale);
    return Tensor.fromArray(out, input.shape);
  }
}

import { defaultGenerator, type Generator, recordGradFn, type Tensor } from '@recurrent/tensor';
import { dropoutBackward, dropoutTrainCpu } from './backend/cpu-grad-heads.js';
import { checkTensorInput } from './cpu-input.js';
import { Module } from './module.js';
import { checkKnownOptions, checkProbability } from './options.js';
import { recordsGraph, unsupported } from './recurrent-grad.js';

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
 * p = 0) it returns the input itself. Any shape; computes on its backend (`backend.dropout`, the mask
 * drawn on the CPU and applied there), so after `to(gpu)` it takes and returns GPU tensors.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.Dropout.html | torch.nn.Dropout}
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

  /** @param input any shape, float32, on the CPU or the module's backend. @returns the same shape, there. */
  forward(input: Tensor): Tensor<'float32'> {
    checkTensorInput('Dropout', input);
    if (input.dtype !== 'float32') {
      throw new TypeError(`Dropout: input must be a float32 tensor, received ${input.dtype}`);
    }
    const { p } = this;
    if (!this.training || p === 0 || input.numel() === 0) return input as Tensor<'float32'>; // checked above
    const backend = this.backend;
    const grad = recordsGraph(false, [input], () => []);
    if (grad && input.device === 'cpu' && backend.device === 'cpu') {
      // the mask is the backward (PyTorch's MulBackward0): drawn here, on the CPU, as backend.dropout draws it
      const { output, multiplier } = dropoutTrainCpu(input, p, this.#generator);
      return recordGradFn(output, 'MulBackward0', [input], [], (g) => [dropoutBackward(g, multiplier)]);
    }
    if (grad && backend.dropoutTrain && backend.dropoutBackward) {
      // on a device: the mask stays there for the backward
      const dropoutBackward = backend.dropoutBackward;
      const { output, mask } = backend.dropoutTrain({
        input: this.onBackend(input, 'input'),
        p,
        generator: this.#generator,
      });
      return recordGradFn(output, 'MulBackward0', [input], [], (g) => [dropoutBackward(g, mask, p)]);
    }
    const out = this.withUploads((on) =>
      backend.dropout({ input: on(input, 'input'), p, generator: this.#generator }),
    );
    if (!grad) return out;
    return recordGradFn(out, 'MulBackward0', [input], [], () => {
      throw unsupported('Dropout', backend);
    });
  }
}

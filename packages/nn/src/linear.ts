import {
  defaultGenerator,
  type Generator,
  recordGradFn,
  type Tensor,
  uniform,
  zeros,
} from '@recurrent/tensor';
import { linearBackward } from './backend/cpu-grad-heads.js';
import { checkTensorInput } from './cpu-input.js';
import { Module } from './module.js';
import { checkBoolean, checkInteger, checkKnownOptions } from './options.js';
import { recordsGraph, unsupported } from './recurrent-grad.js';

/** Options of `Linear`: `torch.nn.Linear`'s arguments in camelCase. */
export interface LinearOptions {
  /** Features of the input's last dimension. */
  inFeatures: number;
  /** Features of the output's last dimension. */
  outFeatures: number;
  /** Whether the layer adds a learnt `bias` `(outFeatures)`. Default true. */
  bias?: boolean;
  /** Generator for the initial weights (default: the one `manualSeed` seeds). */
  generator?: Generator;
}

const OPTIONS = ['inFeatures', 'outFeatures', 'bias', 'generator'] as const;

/**
 * `y = x·Wᵀ + b` like `torch.nn.Linear`, over any leading dimensions: `(…, inFeatures)` → `(…, outFeatures)`.
 *
 * Parameters as PyTorch's: `weight` `(outFeatures, inFeatures)` and `bias` `(outFeatures)`, both drawn
 * `U(−1/√inFeatures, 1/√inFeatures)` in that order (kaiming_uniform with a = √5, then the bias), so
 * `manualSeed(s)` gives PyTorch's weights for `torch.manual_seed(s)`.
 *
 * Computes on its backend as one GEMM with the bias fused (`backend.linear`): after `to(gpu)` it takes CPU
 * or GPU tensors and returns a GPU tensor.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.Linear.html | torch.nn.Linear}
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Whether the layer has a `bias` parameter. */
  readonly bias: boolean;

  constructor(options: LinearOptions) {
    super();
    checkKnownOptions('Linear', options, OPTIONS);
    this.inFeatures = checkInteger('Linear', 'inFeatures', options.inFeatures, 0);
    this.outFeatures = checkInteger('Linear', 'outFeatures', options.outFeatures, 0);
    this.bias = checkBoolean('Linear', 'bias', options.bias, true);
    const generator = options.generator ?? defaultGenerator;
    const shape = [this.outFeatures, this.inFeatures];
    // kaiming_uniform_(a=√5): gain √(2/(1+a²)), bound √3·gain/√fan_in, computed as PyTorch does in doubles
    // (it is 1/√fan_in up to the last bit); a zero-element weight draws nothing.
    const a = Math.sqrt(5);
    const bound = (Math.sqrt(3) * Math.sqrt(2 / (1 + a * a))) / Math.sqrt(this.inFeatures);
    const empty = this.inFeatures * this.outFeatures === 0;
    this.registerParameter('weight', empty ? zeros(shape) : uniform(shape, -bound, bound, { generator }));
    if (this.bias) {
      const b = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      this.registerParameter('bias', uniform([this.outFeatures], -b, b, { generator }));
    }
  }

  /**
   * @param input `(…, inFeatures)`: `(inFeatures)`, `(N, inFeatures)`, `(N, L, inFeatures)`, …; a CPU
   *              tensor or one of the module's backend.
   * @returns `(…, outFeatures)` on the module's backend.
   */
  forward(input: Tensor): Tensor<'float32'> {
    checkTensorInput('Linear', input);
    if (input.dtype !== 'float32') {
      throw new TypeError(`Linear: input must be a float32 tensor, received ${input.dtype}`);
    }
    const last = input.ndim === 0 ? undefined : input.shape[input.ndim - 1];
    if (last !== this.inFeatures) {
      throw new RangeError(
        `Linear: input's last dimension must equal inFeatures (${this.inFeatures}), received shape [${input.shape.join(', ')}]`,
      );
    }
    const recording = recordsGraph(this.training, [input], () => this.parameters());
    if (recording) this.residentParameters();
    if (!recording) {
      return this.withUploads((on) =>
        this.backend.linear({
          input: on(input, 'input'),
          weight: this.parameter('weight'),
          bias: this.bias ? this.parameter('bias') : null,
        }),
      );
    }
    // the backward reads the input as the backend got it (an upload is kept for it)
    const backend = this.backend;
    const args = {
      input: this.onBackend(input, 'input'),
      weight: this.parameter('weight'),
      bias: this.bias ? this.parameter('bias') : null,
    };
    const out = backend.linear(args);
    // the backward: one GEMM per operand, on the CPU parameters or on the device (PyTorch's grad_fn name for the shape)
    const weight = this.cpuParameter('weight');
    const bias = this.bias ? this.cpuParameter('bias') : null;
    const name =
      input.ndim === 1
        ? bias
          ? 'AddBackward0'
          : 'SqueezeBackward3'
        : input.ndim === 2
          ? bias
            ? 'AddmmBackward0'
            : 'MmBackward0'
          : bias
            ? 'ViewBackward0'
            : 'UnsafeViewBackward0';
    return recordGradFn(out, name, [input, weight, bias], [input, weight], (g, needs) => {
      // the backend's own backward where it has one (a device's; the WebAssembly kernels')
      if (backend.linearBackward) return backend.linearBackward(args, g, needs);
      if (out.device !== 'cpu' || input.device !== 'cpu') throw unsupported('Linear', backend);
      return linearBackward(input, weight, bias !== null, g, needs);
    });
  }
}

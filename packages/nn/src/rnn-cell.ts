import {
  defaultGenerator,
  formatShape,
  type Generator,
  shapesEqual,
  squeeze,
  type Tensor,
  uniform,
  unsqueeze,
} from '@recurrent/tensor';
import type { Nonlinearity } from './backend/types.js';
import { Module } from './module.js';
import { checkBoolean, checkInteger, checkKnownOptions, checkNonlinearity } from './options.js';

/** Options of `RNNCell`: `torch.nn.RNNCell`'s arguments in camelCase. */
export interface RNNCellOptions {
  inputSize: number;
  hiddenSize: number;
  /** Default true. */
  bias?: boolean;
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
  /** Generator for the initial weights (default: the one `manualSeed` seeds). */
  generator?: Generator;
}

const KNOWN = ['inputSize', 'hiddenSize', 'bias', 'nonlinearity', 'generator'];

/**
 * One step of an Elman RNN, like `torch.nn.RNNCell`: `h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`.
 * Parameters `weight_ih (H, Hin)`, `weight_hh (H, H)`, `bias_ih`, `bias_hh (H)`, init `U(−1/√H, 1/√H)`.
 */
export class RNNCell extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  readonly nonlinearity: Nonlinearity;

  constructor(options: RNNCellOptions) {
    super();
    checkKnownOptions('RNNCell', options, KNOWN);
    this.inputSize = checkInteger('RNNCell', 'inputSize', options.inputSize, 1);
    this.hiddenSize = checkInteger('RNNCell', 'hiddenSize', options.hiddenSize, 1);
    this.bias = checkBoolean('RNNCell', 'bias', options.bias, true);
    this.nonlinearity = checkNonlinearity('RNNCell', options.nonlinearity);
    const H = this.hiddenSize;
    const bound = 1 / Math.sqrt(H);
    const generator = options.generator ?? defaultGenerator;
    const init = (shape: number[]): Tensor => uniform(shape, -bound, bound, { generator });
    this.registerParameter('weight_ih', init([H, this.inputSize]));
    this.registerParameter('weight_hh', init([H, H]));
    if (this.bias) {
      this.registerParameter('bias_ih', init([H]));
      this.registerParameter('bias_hh', init([H]));
    }
  }

  /**
   * One step.
   * @param input `(N, inputSize)` or unbatched `(inputSize)`.
   * @param hx    `(N, hiddenSize)` or unbatched `(hiddenSize)`; zeros if omitted.
   * @returns h' with hx's shape, on the module's backend.
   */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    if (
      !input ||
      typeof input !== 'object' ||
      !Array.isArray(input.shape) ||
      (input.ndim !== 1 && input.ndim !== 2)
    ) {
      throw new RangeError(
        `RNNCell: input must be 1-D (inputSize) or 2-D (N, inputSize), received ${
          input && Array.isArray(input.shape) ? `shape ${formatShape(input.shape)}` : typeof input
        }`,
      );
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new RangeError(
        `RNNCell: input's last dimension must equal inputSize (${this.inputSize}), received shape ${formatShape(input.shape)}`,
      );
    }
    const unbatched = input.ndim === 1;
    const batch = unbatched ? 1 : (input.shape[0] as number);
    if (hx !== undefined && hx !== null) {
      const expected = unbatched ? [this.hiddenSize] : [batch, this.hiddenSize];
      if (!Array.isArray(hx.shape) || !shapesEqual(hx.shape, expected)) {
        throw new RangeError(
          `RNNCell: expected hx of shape ${formatShape(expected)}, received ${
            Array.isArray(hx.shape) ? `shape ${formatShape(hx.shape)}` : typeof hx
          }`,
        );
      }
    }
    // A cell is a one-layer RNN over a sequence of length 1: x (1, N, Hin), h (1, N, H).
    const x = unsqueeze(unbatched ? unsqueeze(input, 0) : input, 0);
    const h = hx ? unsqueeze(unbatched ? unsqueeze(hx, 0) : hx, 0) : null;
    const weights = {
      weightIh: this.parameter('weight_ih'),
      weightHh: this.parameter('weight_hh'),
      biasIh: this.bias ? this.parameter('bias_ih') : null,
      biasHh: this.bias ? this.parameter('bias_hh') : null,
    };
    // CPU arguments are copied to the backend for this call only, and released after it (even on error)
    const uploads: Tensor[] = [];
    const on = (t: Tensor, what: string): Tensor => {
      const u = this.onBackend(t, what);
      if (u !== t) uploads.push(u);
      return u;
    };
    let hN: Tensor;
    try {
      const result = this.backend.rnn({
        input: on(x, 'input'),
        batchFirst: false,
        h0: h ? on(h, 'hx') : null,
        layers: [[weights]],
        hiddenSize: this.hiddenSize,
        nonlinearity: this.nonlinearity,
        dropout: null,
      });
      result.output.dispose(); // only hN is returned
      hN = result.hN;
    } finally {
      for (const u of uploads) u.dispose();
    }
    const out = squeeze(hN, 0);
    return unbatched ? squeeze(out, 0) : out;
  }
}

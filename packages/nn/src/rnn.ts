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
import type { Nonlinearity, RnnDirectionWeights } from './backend/types.js';
import { Module } from './module.js';
import {
  checkBoolean,
  checkInteger,
  checkKnownOptions,
  checkNonlinearity,
  checkProbability,
} from './options.js';
import { RNNStream, type RNNStreamOptions } from './stream.js';

/** Options of `RNN`: `torch.nn.RNN`'s arguments in camelCase, with the same defaults. */
export interface RNNOptions {
  /** Features per time step of the input (`Hin`). */
  inputSize: number;
  /** Features of the hidden state (`H`). */
  hiddenSize: number;
  /** Stacked layers; layer k > 0 reads layer k−1's output. Default 1. */
  numLayers?: number;
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
  /** Whether the layers have `bias_ih` / `bias_hh`. Default true. */
  bias?: boolean;
  /** Input and output are `(N, L, ·)` instead of `(L, N, ·)`; `h0`/`hN` are unaffected. Default false. */
  batchFirst?: boolean;
  /** Dropout probability on every layer's output except the last, in training mode only. Default 0. */
  dropout?: number;
  /** Run a reverse-time copy of every layer and concatenate. Default false. */
  bidirectional?: boolean;
  /** Generator for the initial weights and the dropout masks (default: the one `manualSeed` seeds). */
  generator?: Generator;
}

const KNOWN = [
  'inputSize',
  'hiddenSize',
  'numLayers',
  'nonlinearity',
  'bias',
  'batchFirst',
  'dropout',
  'bidirectional',
  'generator',
];

/**
 * An Elman RNN with `torch.nn.RNN`'s options, parameters, initialization and numbers:
 * `h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)`.
 *
 * Parameters: `weight_ih_l{k}` `(H, Hin)` for k = 0 and `(H, D·H)` after, `weight_hh_l{k}` `(H, H)`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` `(H)`, and `…_reverse` for the second direction, all initialized
 * `U(−1/√H, 1/√H)` in PyTorch's order (so `manualSeed(s)` gives PyTorch's weights for `torch.manual_seed(s)`).
 */
export class RNN extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly nonlinearity: Nonlinearity;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly #generator: Generator;

  constructor(options: RNNOptions) {
    super();
    checkKnownOptions('RNN', options, KNOWN);
    this.inputSize = checkInteger('RNN', 'inputSize', options.inputSize, 1);
    this.hiddenSize = checkInteger('RNN', 'hiddenSize', options.hiddenSize, 1);
    this.numLayers = checkInteger('RNN', 'numLayers', options.numLayers ?? 1, 1);
    this.nonlinearity = checkNonlinearity('RNN', options.nonlinearity);
    this.bias = checkBoolean('RNN', 'bias', options.bias, true);
    this.batchFirst = checkBoolean('RNN', 'batchFirst', options.batchFirst, false);
    this.dropout = checkProbability('RNN', 'dropout', options.dropout);
    this.bidirectional = checkBoolean('RNN', 'bidirectional', options.bidirectional, false);
    this.#generator = options.generator ?? defaultGenerator;

    const H = this.hiddenSize;
    const bound = 1 / Math.sqrt(H);
    const init = (shape: number[]): Tensor => uniform(shape, -bound, bound, { generator: this.#generator });
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (const suffix of this.#suffixes()) {
        const layerInput = layer === 0 ? this.inputSize : this.directions * H;
        this.registerParameter(`weight_ih_l${layer}${suffix}`, init([H, layerInput]));
        this.registerParameter(`weight_hh_l${layer}${suffix}`, init([H, H]));
        if (this.bias) {
          this.registerParameter(`bias_ih_l${layer}${suffix}`, init([H]));
          this.registerParameter(`bias_hh_l${layer}${suffix}`, init([H]));
        }
      }
    }
  }

  /** 2 when bidirectional, else 1 (PyTorch's `D`). */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  #suffixes(): string[] {
    return this.bidirectional ? ['', '_reverse'] : [''];
  }

  /**
   * Runs the RNN over a whole sequence.
   *
   * @param input `(L, N, inputSize)`, `(N, L, inputSize)` with `batchFirst`, or unbatched `(L, inputSize)`.
   *              A CPU tensor or one already on the module's backend.
   * @param h0    `(D·numLayers, N, hiddenSize)` (unbatched: `(D·numLayers, hiddenSize)`); zeros if omitted.
   * @returns `[output, hN]`: output `(L, N, D·hiddenSize)` (`(N, L, …)` with `batchFirst`, `(L, …)` unbatched),
   *          both directions concatenated on the last dim; hN shaped like h0, layer-major then direction.
   *          Both live on the module's backend.
   */
  forward(input: Tensor, h0?: Tensor | null): [output: Tensor, hN: Tensor] {
    const unbatched = this.#checkInput(input);
    const batch = unbatched ? 1 : (input.shape[this.batchFirst ? 0 : 1] as number);
    if (h0 !== undefined && h0 !== null) this.#checkH0(h0, unbatched, batch);
    const x = unbatched ? unsqueeze(input, this.batchFirst ? 0 : 1) : input;
    const h = h0 ? (unbatched ? unsqueeze(h0, 1) : h0) : null;

    const layers: RnnDirectionWeights[][] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      layers.push(
        this.#suffixes().map((s) => ({
          weightIh: this.parameter(`weight_ih_l${layer}${s}`),
          weightHh: this.parameter(`weight_hh_l${layer}${s}`),
          biasIh: this.bias ? this.parameter(`bias_ih_l${layer}${s}`) : null,
          biasHh: this.bias ? this.parameter(`bias_hh_l${layer}${s}`) : null,
        })),
      );
    }
    // CPU arguments are copied to the backend for this call only, and released after it (even on error)
    const uploads: Tensor[] = [];
    const on = (t: Tensor, what: string): Tensor => {
      const u = this.onBackend(t, what);
      if (u !== t) uploads.push(u);
      return u;
    };
    let result: { output: Tensor; hN: Tensor };
    try {
      result = this.backend.rnn({
        input: on(x, 'input'),
        batchFirst: this.batchFirst,
        h0: h ? on(h, 'h0') : null,
        layers,
        hiddenSize: this.hiddenSize,
        nonlinearity: this.nonlinearity,
        dropout:
          this.training && this.dropout > 0 && this.numLayers > 1
            ? { p: this.dropout, generator: this.#generator }
            : null,
      });
    } finally {
      for (const u of uploads) u.dispose();
    }
    const { output, hN } = result;
    if (unbatched) return [squeeze(output, this.batchFirst ? 0 : 1), squeeze(hN, 1)];
    return [output, hN];
  }

  /**
   * A stream over this RNN for input that arrives in chunks: `step(chunk)` continues from the state the
   * previous chunk left (kept on the module's backend, never read back), so consecutive chunks give the
   * outputs of one `forward` over their concatenation. See `RNNStream`.
   *
   * @param options `batch`: the N of every chunk `(L, N, inputSize)` (`(N, L, inputSize)` with `batchFirst`),
   *                or null for unbatched chunks `(L, inputSize)`; `h0`: the starting state (zeros if omitted).
   * @throws for a bidirectional RNN, whose reverse direction needs the whole sequence.
   * @example
   * const stream = rnn.eval().stream({ batch: 1 });
   * for await (const chunk of source) render(stream.step(chunk));
   */
  stream(options: RNNStreamOptions): RNNStream {
    return new RNNStream(this, options);
  }

  #checkInput(input: Tensor): boolean {
    if (!input || typeof input !== 'object' || !Array.isArray(input.shape)) {
      throw new TypeError(`RNN: input must be a Tensor, received ${input === null ? 'null' : typeof input}`);
    }
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new RangeError(
        `RNN: input must be 2-D (L, inputSize) or 3-D (${this.batchFirst ? 'N, L' : 'L, N'}, inputSize), ` +
          `received shape ${formatShape(input.shape)}`,
      );
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new RangeError(
        `RNN: input's last dimension must equal inputSize (${this.inputSize}), received shape ${formatShape(input.shape)}`,
      );
    }
    const steps = input.shape[input.ndim === 3 && this.batchFirst ? 1 : 0] as number;
    if (steps === 0)
      throw new RangeError(`RNN: the sequence is empty (input shape ${formatShape(input.shape)})`);
    return input.ndim === 2;
  }

  #checkH0(h0: Tensor, unbatched: boolean, batch: number): void {
    const layers = this.directions * this.numLayers;
    const expected = unbatched ? [layers, this.hiddenSize] : [layers, batch, this.hiddenSize];
    if (!h0 || typeof h0 !== 'object' || !Array.isArray(h0.shape) || !shapesEqual(h0.shape, expected)) {
      throw new RangeError(
        `RNN: expected h0 of shape ${formatShape(expected)} (D·numLayers, ${unbatched ? '' : 'N, '}hiddenSize) ` +
          `for ${unbatched ? 'an unbatched' : 'a batched'} input, received ${
            h0 && Array.isArray(h0.shape) ? `shape ${formatShape(h0.shape)}` : typeof h0
          }`,
      );
    }
  }
}

import {
  defaultGenerator,
  formatShape,
  type Generator,
  noGrad,
  shapesEqual,
  squeeze,
  Tensor,
  uniform,
  unsqueeze,
  zeros,
} from '@recurrent/tensor';
import type { RnnDirectionWeights } from './backend/types.js';
import { type CellSpec, modeModule } from './cell.js';
import { Module } from './module.js';
import { checkBoolean, checkInteger, checkKnownOptions } from './options.js';
import { describeValue } from './recurrent.js';
import { recordRecurrent, recordsGraph, reshapeGrad, trainForward } from './recurrent-grad.js';
import { checkAllocations, checkMaxBytes, parameterAllocations } from './sizes.js';
import { describeStateDictCell } from './state-dict-cell.js';

/** The options every cell shares: `torch.nn.RNNCellBase`'s arguments in camelCase. */
export interface RecurrentCellOptions {
  inputSize: number;
  hiddenSize: number;
  /** Default true. */
  bias?: boolean;
  /** Generator for the initial weights (default: the one `manualSeed` seeds). */
  generator?: Generator;
  /** The most bytes the parameters may take (default 2 GiB); larger sizes are refused at once. */
  maxBytes?: number;
}

export const CELL_OPTIONS = ['inputSize', 'hiddenSize', 'bias', 'generator', 'maxBytes'] as const;

/**
 * What `RNNCell`, `LSTMCell` and `GRUCell` share, like `torch.nn.RNNCellBase`: parameters `weight_ih`
 * `(G·H, Hin)`, `weight_hh` `(G·H, H)`, `bias_ih`, `bias_hh` `(G·H)` drawn `U(−1/√H, 1/√H)` in that order,
 * and one step as a one-layer forward of length 1 on the module's backend.
 */
export abstract class RecurrentCellBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  /** The largest allocation the module may make, in bytes (the `maxBytes` option; default 2 GiB). */
  readonly maxBytes: number;
  readonly cell: CellSpec;

  protected constructor(
    options: RecurrentCellOptions,
    known: readonly string[],
    cell: (H: number) => CellSpec,
  ) {
    super();
    const owner = `${modeModule(cell(1).mode)}Cell`;
    checkKnownOptions(owner, options, known);
    this.inputSize = checkInteger(owner, 'inputSize', options.inputSize, 1);
    // PyTorch's cells accept hiddenSize 0 and return a (N, 0) state
    this.hiddenSize = checkInteger(owner, 'hiddenSize', options.hiddenSize, 0);
    this.bias = checkBoolean(owner, 'bias', options.bias, true);
    this.maxBytes = checkMaxBytes(owner, options.maxBytes);
    this.cell = cell(this.hiddenSize);
    const H = this.hiddenSize;
    const G = this.cell.gates;
    checkAllocations(
      owner,
      `inputSize ${this.inputSize} and hiddenSize ${H}`,
      parameterAllocations(this.cell, this.inputSize, 1, 1, this.bias, 'cell'),
      this.maxBytes,
    );
    const bound = H > 0 ? 1 / Math.sqrt(H) : 0; // hiddenSize 0: every tensor is empty
    const generator = options.generator ?? defaultGenerator;
    const init = (shape: number[]): Tensor<'float32'> => uniform(shape, -bound, bound, { generator });
    this.registerParameter('weight_ih', init([G * H, this.inputSize]));
    this.registerParameter('weight_hh', init([G * H, H]));
    if (this.bias) {
      this.registerParameter('bias_ih', init([G * H]));
      this.registerParameter('bias_hh', init([G * H]));
    }
  }

  /** The name used in messages (`'LSTMCell'`, …). */
  protected get owner(): string {
    return `${modeModule(this.cell.mode)}Cell`;
  }

  protected override stateDictMismatch(dict: ReadonlyMap<string, unknown>): string | null {
    return describeStateDictCell(dict, this.cell, this.owner, '');
  }

  /** Checks the input; returns whether it is unbatched `(inputSize)`. */
  protected checkInput(input: Tensor): boolean {
    if (!(input instanceof Tensor) || (input.ndim !== 1 && input.ndim !== 2)) {
      throw new RangeError(
        `${this.owner}: input must be 1-D (inputSize) or 2-D (N, inputSize), received ${
          input instanceof Tensor ? `shape ${formatShape(input.shape)}` : describeValue(input)
        }`,
      );
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new RangeError(
        `${this.owner}: input's last dimension must equal inputSize (${this.inputSize}), received shape ${formatShape(input.shape)}`,
      );
    }
    return input.ndim === 1;
  }

  /** Checks one state tensor: `(N, hiddenSize)`, unbatched `(hiddenSize)`. */
  protected checkState(t: unknown, name: string, input: Tensor): void {
    const unbatched = input.ndim === 1;
    const expected = unbatched ? [this.hiddenSize] : [input.shape[0] as number, this.hiddenSize];
    if (!(t instanceof Tensor) || !shapesEqual(t.shape, expected)) {
      throw new RangeError(
        `${this.owner}: expected ${name} of shape ${formatShape(expected)} for input of shape ${formatShape(
          input.shape,
        )}, received ${t instanceof Tensor ? `shape ${formatShape(t.shape)}` : describeValue(t)}`,
      );
    }
  }

  /** `step` when a gradient is required: one autograd node over `[h', c']` (see `RecurrentBase.run`). */
  private stepTrain(
    input: Tensor,
    h: Tensor | null,
    c: Tensor | null,
    seq: (t: Tensor) => Tensor,
    unbatched: boolean,
  ): [Tensor<'float32'>, Tensor<'float32'> | null] {
    const { tape, output, hN, cN } = noGrad(() =>
      this.withTrainingUploads((on) =>
        trainForward(this.backend, {
          cell: this.cell,
          input: on(seq(input), 'input'),
          batchFirst: false,
          batchSizes: null,
          h0: h ? on(seq(h), 'hx') : null,
          c0: c ? on(seq(c), 'cx') : null,
          layers: [[this.#weights()]],
          dropout: null,
        }),
      ),
    );
    // a cell returns only the states; the sequence output is kept only where the backward reads it (the
    // CPU's saved activations may share its storage), and released at once on a backend that cannot train
    if (tape.saved === null) output.dispose();
    const stateShape = unbatched ? [this.hiddenSize] : [input.shape[0] as number, this.hiddenSize];
    const outs = [reshapeGrad(hN, stateShape) as Tensor<'float32'>];
    if (cN) outs.push(reshapeGrad(cN, stateShape) as Tensor<'float32'>);
    // PyTorch's cells are composites: the grad_fn of h' is the last op of the cell's formula
    const mode = this.cell.mode;
    const last =
      mode === 'RNN_TANH' ? 'TanhBackward0' : mode === 'RNN_RELU' ? 'ReluBackward0' : 'AddBackward0';
    const [h1, c1] = recordRecurrent({
      owner: this.owner,
      tape,
      inputs: {
        input,
        h0: h,
        c0: c,
        params: [
          [
            [
              this.cpuParameter('weight_ih'),
              this.cpuParameter('weight_hh'),
              this.bias ? this.cpuParameter('bias_ih') : null,
              this.bias ? this.cpuParameter('bias_hh') : null,
              null,
            ],
          ],
        ],
      },
      outputs: outs,
      name: unbatched ? 'SqueezeBackward1' : last,
      outputName: unbatched ? 'SqueezeBackward1' : mode === 'LSTM' ? 'MulBackward0' : last,
      gradOut: ([gh, gc]) => ({
        output: null,
        hN: reshapeGrad(gh ?? null, hN.shape),
        cN: cN ? reshapeGrad(gc ?? null, cN.shape) : null,
      }),
      gradIn: (g) => ({
        input: reshapeGrad(g.input, input.shape),
        h0: reshapeGrad(g.h0, stateShape) as Tensor,
        c0: g.c0 ? reshapeGrad(g.c0, stateShape) : null,
      }),
    });
    return [h1 as Tensor<'float32'>, c1 ?? null];
  }

  #weights(): RnnDirectionWeights {
    return {
      weightIh: this.parameter('weight_ih'),
      weightHh: this.parameter('weight_hh'),
      biasIh: this.bias ? this.parameter('bias_ih') : null,
      biasHh: this.bias ? this.parameter('bias_hh') : null,
      weightHr: null,
    };
  }

  /** One step on the backend: `[h', c']` (c' null but for LSTM), shaped like the state. */
  protected step(
    input: Tensor,
    h: Tensor | null,
    c: Tensor | null,
  ): [Tensor<'float32'>, Tensor<'float32'> | null] {
    const unbatched = this.checkInput(input);
    if (h) this.checkState(h, 'hx', input);
    if (c) this.checkState(c, 'cx', input);
    if (this.hiddenSize === 0) {
      const empty = () =>
        this.onBackend(zeros(unbatched ? [0] : [input.shape[0] as number, 0]), 'state') as Tensor<'float32'>;
      return [empty(), this.cell.hasCellState ? empty() : null];
    }
    // a cell is a one-layer forward over a sequence of length 1: x (1, N, Hin), states (1, N, H)
    const seq = (t: Tensor) => unsqueeze(unbatched ? unsqueeze(t, 0) : t, 0);
    if (recordsGraph(this.training, [input, h, c], () => this.parameters())) {
      return this.stepTrain(input, h, c, seq, unbatched);
    }
    const result = this.withUploads((on) =>
      this.backend.rnn({
        cell: this.cell,
        input: on(seq(input), 'input'),
        batchFirst: false,
        batchSizes: null,
        h0: h ? on(seq(h), 'hx') : null,
        c0: c ? on(seq(c), 'cx') : null,
        layers: [
          [
            {
              weightIh: this.parameter('weight_ih'),
              weightHh: this.parameter('weight_hh'),
              biasIh: this.bias ? this.parameter('bias_ih') : null,
              biasHh: this.bias ? this.parameter('bias_hh') : null,
              weightHr: null,
            },
          ],
        ],
        dropout: null,
      }),
    );
    result.output.dispose(); // only the states are returned
    const unseq = (t: Tensor<'float32'>) => (unbatched ? squeeze(squeeze(t, 0), 0) : squeeze(t, 0));
    return [unseq(result.hN), result.cN ? unseq(result.cN) : null];
  }
}

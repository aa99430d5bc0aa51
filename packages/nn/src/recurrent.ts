import {
  defaultGenerator,
  formatShape,
  type Generator,
  noGrad,
  reshape,
  shapesEqual,
  squeeze,
  Tensor,
  uniform,
  unsqueeze,
} from '@recurrent/tensor';
import type { RnnArgs, RnnDirectionWeights, RnnResult } from './backend/types.js';
import { type CellSpec, modeModule } from './cell.js';
import { Module } from './module.js';
import { checkBoolean, checkInteger, checkKnownOptions, checkProbability } from './options.js';
import { PackedSequence } from './packed-sequence.js';
import {
  type RecurrentInputs,
  recordRecurrent,
  recordsGraph,
  recurrentParams,
  reshapeGrad,
  trainForward,
} from './recurrent-grad.js';
import { activationAllocations, checkAllocations, checkMaxBytes, parameterAllocations } from './sizes.js';
import { describeStateDictCell } from './state-dict-cell.js';

/** The options every recurrent module shares: `torch.nn.RNNBase`'s arguments in camelCase. */
export interface RecurrentOptions {
  /** Features per time step of the input (`Hin`). */
  inputSize: number;
  /** Features of the hidden state (`H`). */
  hiddenSize: number;
  /** Stacked layers; layer k > 0 reads layer k−1's output. Default 1. */
  numLayers?: number;
  /** Whether the layers have `bias_ih` / `bias_hh`. Default true. */
  bias?: boolean;
  /** Input and output are `(N, L, ·)` instead of `(L, N, ·)`; the states are unaffected. Default false. */
  batchFirst?: boolean;
  /** Dropout probability on every layer's output except the last, in training mode only. Default 0. */
  dropout?: number;
  /** Run a reverse-time copy of every layer and concatenate. Default false. */
  bidirectional?: boolean;
  /** Generator for the initial weights and the dropout masks (default: the one `manualSeed` seeds). */
  generator?: Generator;
  /**
   * The most bytes the parameters, and one forward's activations, may take; larger sizes are refused at
   * once, naming the sizes, instead of failing deep in an allocation. Default 2 GiB; `Infinity` for no limit.
   */
  maxBytes?: number;
}

export const RECURRENT_OPTIONS = [
  'inputSize',
  'hiddenSize',
  'numLayers',
  'bias',
  'batchFirst',
  'dropout',
  'bidirectional',
  'generator',
  'maxBytes',
] as const;

/** A recurrent state in the form the backend takes and returns: `h` and, for LSTM, `c`. */
export interface RawState {
  h: Tensor | null;
  c: Tensor | null;
}

/**
 * What `RNN`, `LSTM` and `GRU` share, like `torch.nn.RNNBase`: options, parameters in PyTorch's names,
 * order, shapes and init, input and state checks, and one backend call per forward. A subclass names its
 * cell and the form of its state (`Tensor` for RNN and GRU, `[h, c]` for LSTM).
 */
export abstract class RecurrentBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** The cell: gates, state parts, projection. */
  readonly cell: CellSpec;
  /** The largest parameter and per-forward activation size allowed, in bytes. */
  readonly maxBytes: number;
  protected readonly generator: Generator;

  protected constructor(
    owner: string,
    options: RecurrentOptions,
    known: readonly string[],
    cell: (H: number) => CellSpec,
  ) {
    super();
    checkKnownOptions(owner, options, known);
    this.inputSize = checkInteger(owner, 'inputSize', options.inputSize, 1);
    this.hiddenSize = checkInteger(owner, 'hiddenSize', options.hiddenSize, 1);
    this.numLayers = checkInteger(owner, 'numLayers', options.numLayers ?? 1, 1);
    this.bias = checkBoolean(owner, 'bias', options.bias, true);
    this.batchFirst = checkBoolean(owner, 'batchFirst', options.batchFirst, false);
    this.dropout = checkProbability(owner, 'dropout', options.dropout);
    this.bidirectional = checkBoolean(owner, 'bidirectional', options.bidirectional, false);
    this.generator = options.generator ?? defaultGenerator;
    this.maxBytes = checkMaxBytes(owner, options.maxBytes);
    this.cell = cell(this.hiddenSize);
  }

  /**
   * Registers every parameter in PyTorch's order (per layer, per direction: `weight_ih`, `weight_hh`,
   * `bias_ih`, `bias_hh`, `weight_hr`), each drawn `U(−1/√H, 1/√H)` in that order, so `manualSeed(s)` gives
   * PyTorch's weights for `torch.manual_seed(s)`. Subclasses call it at the end of their constructor.
   */
  protected initParameters(): void {
    checkAllocations(
      this.owner,
      `inputSize ${this.inputSize}, hiddenSize ${this.hiddenSize}${this.cell.projSize ? `, projSize ${this.cell.projSize}` : ''} and numLayers ${this.numLayers}`,
      parameterAllocations(this.cell, this.inputSize, this.numLayers, this.directions, this.bias),
      this.maxBytes,
    );
    const { hiddenSize: H, gates: G, stateSize: P, projSize } = this.cell;
    const bound = 1 / Math.sqrt(H);
    const init = (shape: number[]): Tensor<'float32'> =>
      uniform(shape, -bound, bound, { generator: this.generator });
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (const suffix of this.suffixes()) {
        const layerInput = layer === 0 ? this.inputSize : this.directions * P;
        this.registerParameter(`weight_ih_l${layer}${suffix}`, init([G * H, layerInput]));
        this.registerParameter(`weight_hh_l${layer}${suffix}`, init([G * H, P]));
        if (this.bias) {
          this.registerParameter(`bias_ih_l${layer}${suffix}`, init([G * H]));
          this.registerParameter(`bias_hh_l${layer}${suffix}`, init([G * H]));
        }
        if (projSize > 0) this.registerParameter(`weight_hr_l${layer}${suffix}`, init([projSize, H]));
      }
    }
  }

  /** 2 when bidirectional, else 1 (PyTorch's `D`). */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The name used in messages (`'LSTM'`, `'GRU'`, `'RNN'`). */
  protected get owner(): string {
    return modeModule(this.cell.mode);
  }

  protected suffixes(): string[] {
    return this.bidirectional ? ['', '_reverse'] : [''];
  }

  protected override stateDictMismatch(dict: ReadonlyMap<string, unknown>): string | null {
    return describeStateDictCell(dict, this.cell, this.owner);
  }

  /**
   * Checks `input` and the state against the module, runs the backend, and returns the raw result with
   * the batch dimension removed again for unbatched input.
   */
  protected run(input: Tensor, state: RawState): RnnResult {
    const unbatched = this.checkInput(input);
    const batch = unbatched ? 1 : (input.shape[this.batchFirst ? 0 : 1] as number);
    const steps = input.shape[unbatched || !this.batchFirst ? 0 : 1] as number;
    checkAllocations(
      this.owner,
      `the activations of a forward over ${steps} steps of a batch of ${batch}`,
      activationAllocations(this.cell, steps, batch, this.numLayers, this.directions),
      this.maxBytes,
    );
    const { hiddenSize: H, stateSize: P, hasCellState } = this.cell;
    const layers = this.directions * this.numLayers;
    const hLabel = this.cell.projSize > 0 ? 'projSize' : 'hiddenSize';
    // an LSTM's state is both tensors or neither
    const given = hasCellState ? state.h !== null || state.c !== null : state.h !== null;
    if (given) this.checkState(state.h, 'h0', unbatched, batch, layers, P, hLabel);
    if (given && hasCellState) this.checkState(state.c, 'c0', unbatched, batch, layers, H, 'hiddenSize');
    if (this.recordsGraph(input, state)) {
      return this.runTrain(input, state, unbatched);
    }
    const weights = this.directionWeights(); // the parameters go to the backend first, the input after
    const result = this.withUploads((on) =>
      this.backend.rnn(this.rectangularArgs(on, input, state, unbatched, weights)),
    );
    if (!unbatched) return result;
    return {
      output: squeeze(result.output, this.batchFirst ? 0 : 1),
      hN: squeeze(result.hN, 1),
      cN: result.cN ? squeeze(result.cN, 1) : null,
    };
  }

  /** The backend's arguments for a rectangular forward: input and states on the backend, N = 1 when unbatched. */
  private rectangularArgs(
    on: (t: Tensor, what: string) => Tensor,
    input: Tensor,
    state: RawState,
    unbatched: boolean,
    layers: RnnDirectionWeights[][],
  ): RnnArgs {
    const batched = (t: Tensor) => (unbatched ? unsqueeze(t, 1) : t);
    return {
      cell: this.cell,
      input: on(unbatched ? unsqueeze(input, this.batchFirst ? 0 : 1) : input, 'input'),
      batchFirst: this.batchFirst,
      batchSizes: null,
      h0: state.h ? on(batched(state.h), 'h0') : null,
      c0: state.c ? on(batched(state.c), 'c0') : null,
      layers,
      dropout: this.dropoutSpec(),
    };
  }

  /**
   * Whether a forward records the autograd graph: grad mode on and the input or a state requires grad,
   * or, in training mode, a parameter does. In eval mode a forward whose input and states need no
   * gradient records nothing (PyTorch would record one for the parameters): inference and streams keep
   * today's path, with nothing saved.
   */
  protected recordsGraph(input: unknown, state: RawState): boolean {
    return recordsGraph(this.training, [input, state.h, state.c], () => this.parameters());
  }

  /**
   * `run` when a gradient is required: the backend's training forward, recorded as ONE autograd node
   * over (output, hN, cN) whose inputs are the input, h0, c0 and every parameter (PyTorch's order).
   */
  private runTrain(input: Tensor, state: RawState, unbatched: boolean): RnnResult {
    const { tape, output, hN, cN } = noGrad(() =>
      this.withTrainingUploads((on) => {
        const weights = this.directionWeights();
        return trainForward(this.backend, this.rectangularArgs(on, input, state, unbatched, weights));
      }),
    );
    const unbatch = (t: Tensor<'float32'>, dim: number) => (unbatched ? noGrad(() => squeeze(t, dim)) : t);
    const outs = [unbatch(output, this.batchFirst ? 0 : 1), unbatch(hN, 1)];
    if (cN) outs.push(unbatch(cN, 1));
    const stateName = unbatched ? 'SqueezeBackward1' : 'StackBackward0';
    const outputName = unbatched
      ? 'SqueezeBackward1'
      : this.batchFirst
        ? this.cell.mode === 'LSTM'
          ? 'TransposeBackward0'
          : 'TransposeBackward1'
        : this.bidirectional
          ? 'CatBackward0'
          : 'StackBackward0';
    const [o, h, c] = recordRecurrent({
      owner: this.owner,
      tape,
      inputs: this.graphInputs(input, state),
      outputs: outs,
      name: stateName,
      outputName,
      gradOut: ([go, gh, gc]) => ({
        output: reshapeGrad(go ?? null, output.shape),
        hN: reshapeGrad(gh ?? null, hN.shape),
        cN: cN ? reshapeGrad(gc ?? null, cN.shape) : null,
      }),
      gradIn: (g) => ({
        input: reshapeGrad(g.input, input.shape),
        h0: reshapeGrad(g.h0, state.h?.shape ?? g.h0.shape) as Tensor,
        c0: g.c0 ? reshapeGrad(g.c0, state.c?.shape ?? g.c0.shape) : null,
      }),
    });
    return { output: o as Tensor<'float32'>, hN: h as Tensor<'float32'>, cN: c ?? null };
  }

  /**
   * The forward of a `PackedSequence`: h0/c0 (given in the caller's batch order) are put into the sorted
   * order, the backend computes only each sequence's real steps, and hN/cN come back in the caller's order
   * (`unsortedIndices`), as PyTorch does. Everything stays on the module's backend.
   */
  protected runPacked(
    packed: PackedSequence,
    state: RawState,
  ): { output: PackedSequence; hN: Tensor<'float32'>; cN: Tensor<'float32'> | null } {
    const owner = this.owner;
    const { data } = packed;
    if (data.ndim !== 2 || data.shape[1] !== this.inputSize) {
      throw new RangeError(
        `${owner}: a PackedSequence's data must be (Σ lengths, inputSize ${this.inputSize}), received shape ${formatShape(data.shape)}`,
      );
    }
    if (data.dtype !== 'float32') {
      throw new TypeError(`${owner}: a PackedSequence's data must be float32, received ${data.dtype}`);
    }
    const batchSizes = packed.batchSizes.dataSync();
    const batch = batchSizes[0] as number;
    checkAllocations(
      owner,
      `the activations of a packed forward over ${batchSizes.length} steps of a batch of ${batch}`,
      activationAllocations(this.cell, batchSizes.length, batch, this.numLayers, this.directions),
      this.maxBytes,
    );
    const { hiddenSize: H, stateSize: P, hasCellState } = this.cell;
    const layers = this.directions * this.numLayers;
    const hLabel = this.cell.projSize > 0 ? 'projSize' : 'hiddenSize';
    const given = hasCellState ? state.h !== null || state.c !== null : state.h !== null;
    if (given) this.checkState(state.h, 'h0', false, batch, layers, P, hLabel);
    if (given && hasCellState) this.checkState(state.c, 'c0', false, batch, layers, H, 'hiddenSize');
    const backend = this.backend;
    const sorted = packed.sortedIndices?.dataSync() ?? null;
    const unsorted = packed.unsortedIndices?.dataSync() ?? null;
    // rows (k, b) of a (D·L, N, F) state picked by batch permutation `perm`, on the backend
    const permute = (t: Tensor, perm: Int32Array): Tensor<'float32'> => {
      const F = t.shape[2] as number;
      const rows = new Int32Array(layers * batch);
      for (let k = 0; k < layers; k++)
        for (let b = 0; b < batch; b++) rows[k * batch + b] = k * batch + (perm[b] as number);
      const indices = backend.fromCpu(Tensor.fromArray(rows, [rows.length])) as Tensor<'int32'>;
      try {
        return reshape(backend.gatherRows({ input: reshape(t, [layers * batch, F]), indices, fill: 0 }), [
          layers,
          batch,
          F,
        ]);
      } finally {
        if (indices.device !== 'cpu') indices.dispose();
      }
    };
    if (this.recordsGraph(data, state))
      return this.runPackedTrain(packed, state, batchSizes, sorted, unsorted, permute);
    const result = this.withUploads((on) => {
      const args = this.packedArgs(on, packed.data, state, batchSizes, sorted, permute);
      try {
        return this.backend.rnn(args);
      } finally {
        if (sorted) {
          args.h0?.dispose();
          args.c0?.dispose();
        }
      }
    });
    const output = new PackedSequence(
      result.output,
      packed.batchSizes,
      packed.sortedIndices,
      packed.unsortedIndices,
      {
        backend: result.output.device === 'cpu' ? null : backend,
      },
    );
    if (!unsorted) return { output, hN: result.hN, cN: result.cN };
    const hN = permute(result.hN, unsorted);
    const cN = result.cN ? permute(result.cN, unsorted) : null;
    result.hN.dispose();
    result.cN?.dispose();
    return { output, hN, cN };
  }

  /** `runPacked` when a gradient is required (see `runTrain`); states are sorted and unsorted on the CPU. */
  private runPackedTrain(
    packed: PackedSequence,
    state: RawState,
    batchSizes: Int32Array,
    sorted: Int32Array | null,
    unsorted: Int32Array | null,
    permute: (t: Tensor, perm: Int32Array) => Tensor<'float32'>,
  ): { output: PackedSequence; hN: Tensor<'float32'>; cN: Tensor<'float32'> | null } {
    const sort = (t: Tensor | null, perm: Int32Array | null): Tensor | null =>
      t && perm ? permute(t, perm) : t;
    const { tape, output, hN, cN } = noGrad(() =>
      this.withTrainingUploads((on) =>
        trainForward(this.backend, this.packedArgs(on, packed.data, state, batchSizes, sorted, permute)),
      ),
    );
    // off the CPU on a backend that cannot train, free the sorted states and the unsorted results (one that
    // trains keeps them for its backward)
    const onDevice = output.device !== 'cpu' && tape.saved === null;
    if (onDevice && sorted) {
      tape.args.h0?.dispose();
      tape.args.c0?.dispose();
    }
    const outs = [output, sort(hN, unsorted) as Tensor<'float32'>];
    if (cN) outs.push(sort(cN, unsorted) as Tensor<'float32'>);
    if (onDevice && unsorted) {
      hN.dispose();
      cN?.dispose();
    }
    const [o, h, c] = recordRecurrent({
      owner: this.owner,
      tape,
      inputs: this.graphInputs(packed.data, state),
      outputs: outs,
      name: unsorted ? 'IndexSelectBackward0' : 'StackBackward0',
      outputName: 'CatBackward0',
      gradOut: ([go, gh, gc]) => ({
        output: go ?? null,
        hN: sort(gh ?? null, sorted),
        cN: sort(gc ?? null, sorted),
      }),
      gradIn: (g) => ({ input: g.input, h0: sort(g.h0, unsorted) as Tensor, c0: sort(g.c0, unsorted) }),
    });
    const out = new PackedSequence(
      o as Tensor,
      packed.batchSizes,
      packed.sortedIndices,
      packed.unsortedIndices,
      {
        backend: (o as Tensor).device === 'cpu' ? null : this.backend,
      },
    );
    return { output: out, hN: h as Tensor<'float32'>, cN: c ?? null };
  }

  /**
   * The backend's arguments for a packed forward: data and states on the backend, the states put into
   * the sorted order (`sorted`, when the batch was sorted) by `permute`.
   */
  private packedArgs(
    on: (t: Tensor, what: string) => Tensor,
    data: Tensor,
    state: RawState,
    batchSizes: Int32Array,
    sorted: Int32Array | null,
    permute: (t: Tensor, perm: Int32Array) => Tensor<'float32'>,
  ): RnnArgs {
    const layers = this.directionWeights(); // the parameters go to the backend first, as in `run`
    const sortedState = (t: Tensor | null, what: string): Tensor | null => {
      if (!t) return null;
      const u = on(t, what);
      return sorted ? permute(u, sorted) : u;
    };
    return {
      cell: this.cell,
      input: on(data, 'PackedSequence data'),
      batchFirst: false,
      batchSizes,
      h0: sortedState(state.h, 'h0'),
      c0: sortedState(state.c, 'c0'),
      layers,
      dropout: this.dropoutSpec(),
    };
  }

  /** The edges of the autograd node: the caller's input and states, and every CPU parameter in PyTorch's order. */
  private graphInputs(input: Tensor, state: RawState): RecurrentInputs {
    return {
      input,
      h0: state.h,
      c0: state.c,
      params: recurrentParams(
        (n) => this.cpuParameter(n),
        this.numLayers,
        this.suffixes(),
        this.bias,
        this.cell.projSize > 0,
      ),
    };
  }

  /** Every layer's weights per direction, as the backend takes them. */
  protected directionWeights(): RnnDirectionWeights[][] {
    const weights: RnnDirectionWeights[][] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      weights.push(
        this.suffixes().map((s) => ({
          weightIh: this.parameter(`weight_ih_l${layer}${s}`),
          weightHh: this.parameter(`weight_hh_l${layer}${s}`),
          biasIh: this.bias ? this.parameter(`bias_ih_l${layer}${s}`) : null,
          biasHh: this.bias ? this.parameter(`bias_hh_l${layer}${s}`) : null,
          weightHr: this.cell.projSize > 0 ? this.parameter(`weight_hr_l${layer}${s}`) : null,
        })),
      );
    }
    return weights;
  }

  /** Dropout between layers: in training mode with p > 0 and more than one layer. */
  protected dropoutSpec(): { p: number; generator: Generator } | null {
    return this.training && this.dropout > 0 && this.numLayers > 1
      ? { p: this.dropout, generator: this.generator }
      : null;
  }

  /** Validates the input; returns whether it is unbatched. */
  protected checkInput(input: Tensor): boolean {
    const owner = this.owner;
    if (!(input instanceof Tensor)) {
      throw new TypeError(`${owner}: input must be a Tensor, received ${describeValue(input)}`);
    }
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new RangeError(
        `${owner}: input must be 2-D (L, inputSize) or 3-D (${this.batchFirst ? 'N, L' : 'L, N'}, inputSize), ` +
          `received shape ${formatShape(input.shape)}`,
      );
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new RangeError(
        `${owner}: input's last dimension must equal inputSize (${this.inputSize}), received shape ${formatShape(input.shape)}`,
      );
    }
    const steps = input.shape[input.ndim === 3 && this.batchFirst ? 1 : 0] as number;
    if (steps === 0)
      throw new RangeError(`${owner}: the sequence is empty (input shape ${formatShape(input.shape)})`);
    return input.ndim === 2;
  }

  protected checkState(
    t: unknown,
    name: string,
    unbatched: boolean,
    batch: number,
    layers: number,
    features: number,
    featureLabel: string,
  ): void {
    const expected = unbatched ? [layers, features] : [layers, batch, features];
    if (!(t instanceof Tensor) || !shapesEqual(t.shape, expected)) {
      const dims = `(D·numLayers, ${unbatched ? '' : 'N, '}${featureLabel})`;
      throw new RangeError(
        `${this.owner}: expected ${name} of shape ${formatShape(expected)} ${dims} for ${
          unbatched ? 'an unbatched' : 'a batched'
        } input, received ${t instanceof Tensor ? `shape ${formatShape(t.shape)}` : describeValue(t)}`,
      );
    }
  }
}

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Tensor) return `a Tensor of shape ${formatShape(value.shape)}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}

export type { RnnResult };

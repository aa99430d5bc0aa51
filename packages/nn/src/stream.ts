import { clone, formatShape, shapesEqual, Tensor } from '@recurrent/tensor';
import type { Backend } from './backend/types.js';
import { type CellSpec, modeModule } from './cell.js';

/** The state a stream carries: `h` (RNN, GRU) or `[h, c]` (LSTM). */
export type StreamState = Tensor | readonly [h: Tensor, c: Tensor];

/** What a stream runs: a unidirectional `RNN`, `GRU` or `LSTM`. */
export interface StreamableModule<S extends StreamState> {
  readonly cell: CellSpec;
  /** Where the module computes; the stream copies the states it is given there. */
  readonly backend: Backend;
  readonly bidirectional: boolean;
  readonly batchFirst: boolean;
  readonly numLayers: number;
  forward(input: Tensor, state?: S | null): [Tensor, S];
}

/** Options of `RNNStream` (`rnn.stream(options)`). */
export interface RNNStreamOptions<S extends StreamState = Tensor> {
  /**
   * The batch size `N` of every chunk: chunks are `(L, N, inputSize)`, or `(N, L, inputSize)` with
   * `batchFirst`. `null` for unbatched chunks `(L, inputSize)`, one sequence as PyTorch's unbatched input.
   */
  batch: number | null;
  /**
   * The state the stream starts from, and returns to on `reset()`: `(numLayers, N, hiddenSize)`, unbatched
   * `(numLayers, hiddenSize)` (an LSTM's `[h0, c0]`, h0 with `projSize` features if it projects), on the
   * CPU or the module's backend. Zeros if omitted.
   */
  h0?: S | null;
}

/**
 * Runs a unidirectional RNN over a sequence that arrives in chunks (a live stream): each `step(chunk)`
 * continues from the hidden state the previous chunk left, so the outputs of consecutive chunks equal
 * one `forward` over their concatenation.
 *
 * The state stays on the module's backend between steps, never read back. The stream owns the states it
 * produces and releases each one when the next replaces it (a GPU buffer on WebGPU), so memory stays flat
 * however long the stream runs; on the WebAssembly backend the next step writes its state over the arrays
 * of one released, unless `state` handed that one out. The outputs belong to the caller.
 *
 * In training mode with dropout, every chunk draws its own masks, so chunked and whole differ; call
 * `rnn.eval()` first for inference.
 *
 * @example
 * const stream = new RNNStream(rnn.eval(), { batch: 1 }); // or rnn.stream({ batch: 1 })
 * for await (const chunk of source) render(stream.step(chunk)); // chunk (L, 1, inputSize)
 */
export class RNNStream<S extends StreamState = Tensor> {
  /** The module the stream runs (an `RNN`, `GRU` or `LSTM`). */
  readonly rnn: StreamableModule<S>;
  /** The batch size of every chunk, or null for unbatched chunks. */
  readonly batch: number | null;
  readonly #h0: S | null;
  #state: S | null;
  /** Whether `#state` came from a step (the stream's to release) rather than from the caller. */
  #owned = false;
  /** Whether `state` has handed `#state` out: then its memory is never given back to the backend. */
  #seen = false;
  #steps = 0;

  constructor(rnn: StreamableModule<S>, options: RNNStreamOptions<S>) {
    if (!rnn || typeof rnn.forward !== 'function' || typeof rnn.bidirectional !== 'boolean' || !rnn.cell) {
      throw new TypeError('RNNStream: expected an RNN, GRU or LSTM');
    }
    if (rnn.bidirectional) {
      throw new Error(
        `RNNStream: a bidirectional ${modeModule(rnn.cell.mode)} needs the whole sequence: its reverse direction starts from ` +
          'the last step; run forward() on the full sequence instead',
      );
    }
    const batch = options?.batch;
    if (batch !== null && !(Number.isInteger(batch) && (batch as number) >= 1)) {
      throw new RangeError(
        'RNNStream: batch must be an integer >= 1 (the N of every chunk), or null for unbatched chunks ' +
          `(L, inputSize), received ${batch === undefined ? 'nothing' : JSON.stringify(batch)}`,
      );
    }
    this.rnn = rnn;
    this.batch = batch;
    this.#h0 = this.#copy(this.#checkState(options.h0 ?? null, 'h0'));
    this.#state = this.#h0;
  }

  /**
   * The state the next step starts from: hN of the last step `(numLayers, N, hiddenSize)` (unbatched
   * `(numLayers, hiddenSize)`; an LSTM's `[hN, cN]`) on the module's backend, or the starting `h0`; null
   * means zeros. Valid until the next `step()` or `reset()`, which release it: copy it
   * (`await state.data()`) to keep it.
   */
  get state(): S | null {
    this.#seen = true;
    return this.#state;
  }

  /** Time steps consumed since the stream was created or last reset. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * Runs the next chunk of the sequence.
   *
   * @param chunk `(L, N, inputSize)`, `(N, L, inputSize)` with `batchFirst`, or `(L, inputSize)` for a
   *              stream created with `batch: null`; any L ≥ 1. A CPU tensor or one on the module's backend.
   * @returns the chunk's output, `(L, N, hiddenSize)` (batch-first or unbatched like the chunk), on the
   *          module's backend; the state advances to the chunk's hN. A failed step leaves the state as it was.
   */
  step(chunk: Tensor): Tensor {
    this.#checkChunk(chunk);
    const [output, hN] = this.rnn.forward(chunk, this.#state);
    this.#release(hN);
    this.#state = hN;
    this.#owned = true;
    this.#seen = false;
    this.#steps += chunk.shape[this.batch !== null && this.rnn.batchFirst ? 1 : 0] as number;
    return output;
  }

  /**
   * Starts over: from the `h0` the stream was created with, or from `state` when given (null: zeros).
   * Releases the state the steps produced.
   */
  reset(state?: S | null): void {
    // a given state is copied before the old one is released: `reset(stream.state)` keeps the current state
    const given = state !== undefined;
    const next = given ? this.#copy(this.#checkState(state, 'reset(state)')) : this.#h0;
    this.#release(null);
    this.#state = next;
    this.#owned = given && next !== null;
    this.#seen = false;
    this.#steps = 0;
  }

  /**
   * The stream's own copy of a state it is given, so the caller may dispose theirs (and `reset(stream.state)`
   * works): CPU tensors are cloned on the CPU, tensors of the module's backend there.
   */
  #copy(state: S | null): S | null {
    if (state === null) return null;
    const one = (t: Tensor): Tensor => (t.device === 'cpu' ? clone(t) : this.rnn.backend.clone(t));
    return (state instanceof Tensor ? one(state) : [one(state[0]), one(state[1])]) as S;
  }

  /**
   * Releases the state the stream owns as `next` replaces it: given back to the backend (`recycle`) when
   * nothing else can hold it — never handed out by `state`, and in no autograd graph, whose backward may
   * read it (a training step saves its h0) — else disposed.
   */
  #release(next: S | null): void {
    const state = this.#state;
    if (this.#owned && state) {
      const backend = this.rnn.backend;
      const inGraph = [state, next].some((s) => s !== null && statesOf(s).some((t) => t.requiresGrad));
      const reuse = backend.recycle !== undefined && !this.#seen && !inGraph;
      for (const t of statesOf(state)) {
        if (reuse) backend.recycle?.(t);
        else t.dispose();
      }
    }
    this.#owned = false;
  }

  #layout(): string {
    if (this.batch === null) return '(L, inputSize)';
    return this.rnn.batchFirst ? '(N, L, inputSize)' : '(L, N, inputSize)';
  }

  #checkChunk(chunk: Tensor): void {
    if (!chunk || typeof chunk !== 'object' || !Array.isArray(chunk.shape)) {
      throw new TypeError(
        `RNNStream: a chunk must be a Tensor, received ${chunk === null ? 'null' : typeof chunk}`,
      );
    }
    if (this.batch === null) {
      if (chunk.ndim !== 2) {
        throw new RangeError(
          `RNNStream: this stream takes unbatched chunks (L, inputSize) (it was created with batch: null), ` +
            `received shape ${formatShape(chunk.shape)}`,
        );
      }
      return;
    }
    if (chunk.ndim !== 3 || chunk.shape[this.rnn.batchFirst ? 0 : 1] !== this.batch) {
      throw new RangeError(
        `RNNStream: this stream takes chunks ${this.#layout()} with N = ${this.batch}, ` +
          `received shape ${formatShape(chunk.shape)}`,
      );
    }
  }

  #checkState(state: S | null, what: string): S | null {
    if (state === null) return null;
    const { hiddenSize: H, stateSize: P, hasCellState } = this.rnn.cell;
    const layers = this.rnn.numLayers;
    const dims = (n: number) => (this.batch === null ? [layers, n] : [layers, this.batch, n]);
    const names = (n: string) => `(numLayers, ${this.batch === null ? '' : 'N, '}${n})`;
    const hName = P === H ? 'hiddenSize' : 'projSize';
    if (hasCellState) {
      if (!Array.isArray(state) || state.length !== 2) {
        throw new TypeError(
          `RNNStream: ${what} of an LSTM must be [h0, c0], received ${
            state instanceof Tensor ? `a Tensor of shape ${formatShape(state.shape)}` : typeof state
          }`,
        );
      }
      this.#checkTensor(state[0], `${what}[0] (h)`, dims(P), names(hName));
      this.#checkTensor(state[1], `${what}[1] (c)`, dims(H), names('hiddenSize'));
    } else {
      this.#checkTensor(state, what, dims(P), names(hName));
    }
    return state;
  }

  #checkTensor(h: unknown, what: string, want: number[], names: string): void {
    if (!(h instanceof Tensor) || !shapesEqual(h.shape, want)) {
      throw new RangeError(
        `RNNStream: ${what} must have shape ${formatShape(want)} ${names}, received ${
          h instanceof Tensor ? `shape ${formatShape(h.shape)}` : h === null ? 'null' : typeof h
        }`,
      );
    }
  }
}

function statesOf(state: StreamState): readonly Tensor[] {
  return state instanceof Tensor ? [state] : state;
}

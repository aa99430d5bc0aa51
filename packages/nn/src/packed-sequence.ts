import {
  anyNeedsGrad,
  cpuArray,
  cpuIndex,
  formatShape,
  needsGrad,
  noGrad,
  recordGradFn,
  reshape,
  Tensor,
} from '@recurrent/tensor';
import { cpuBackend } from './backend/cpu.js';
import type { Backend } from './backend/types.js';

/**
 * A batch of sequences of different lengths, packed time step by time step (PyTorch's
 * `torch.nn.utils.rnn.PackedSequence`): step t holds the first `batchSizes[t]` sequences, sorted longest
 * first, so `data` has one row per real token and none for padding. `RNN`, `LSTM` and `GRU` take one and
 * return one, computing only the real steps of every sequence.
 *
 * Make one with `packPaddedSequence` or `packSequence`; read it back with `padPackedSequence`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.rnn.PackedSequence.html | torch.nn.utils.rnn.PackedSequence}
 */
export class PackedSequence {
  /** `(Σ lengths, *)`: the rows of step 0 (longest sequence first), then of step 1, … */
  readonly data: Tensor;
  /** `(T)` int32 on the CPU: how many sequences step t holds (non-increasing, every entry ≥ 1). */
  readonly batchSizes: Tensor<'int32'>;
  /** `(N)` int32: the caller's batch index of sorted position j; null when the batch was given sorted. */
  readonly sortedIndices: Tensor<'int32'> | null;
  /** `(N)` int32: the sorted position of the caller's batch entry b (the inverse of `sortedIndices`). */
  readonly unsortedIndices: Tensor<'int32'> | null;
  /**
   * The backend `data` lives on when that is not the CPU (set by the modules that return packed output),
   * so `padPackedSequence` unpacks it there without a readback. Not part of PyTorch's tuple.
   */
  readonly backend: Backend | null;

  /**
   * @param data `(Σ batchSizes, *)`.
   * @param batchSizes the sequences of every step, non-increasing, each ≥ 1 (an array or a CPU int32 tensor).
   * @param sortedIndices the permutation that sorted the batch (`unsortedIndices` is derived when omitted).
   */
  constructor(
    data: Tensor,
    batchSizes: Tensor<'int32'> | readonly number[] | Int32Array,
    sortedIndices: Tensor<'int32'> | readonly number[] | Int32Array | null = null,
    unsortedIndices: Tensor<'int32'> | readonly number[] | Int32Array | null = null,
    options: { backend?: Backend | null } = {},
  ) {
    if (!(data instanceof Tensor) || data.ndim < 1) {
      throw new TypeError(
        `PackedSequence: data must be a Tensor of at least one dimension, received ${describe(data)}`,
      );
    }
    const sizes = toInt32(batchSizes, 'batchSizes');
    let total = 0;
    for (let t = 0; t < sizes.length; t++) {
      const b = sizes[t] as number;
      if (b < 1 || (t > 0 && b > (sizes[t - 1] as number))) {
        throw new RangeError(
          `PackedSequence: batchSizes must be non-increasing and at least 1, received [${[...sizes].join(', ')}]`,
        );
      }
      total += b;
    }
    if (data.shape[0] !== total) {
      throw new RangeError(
        `PackedSequence: data must have Σ batchSizes = ${total} rows, received shape ${formatShape(data.shape)}`,
      );
    }
    const N = sizes[0] ?? 0;
    const sorted = sortedIndices === null ? null : toInt32(sortedIndices, 'sortedIndices');
    if (sorted && !isPermutation(sorted, N)) {
      throw new RangeError(
        `PackedSequence: sortedIndices must be a permutation of 0…${N - 1}, received [${[...sorted].join(', ')}]`,
      );
    }
    const unsorted =
      unsortedIndices === null
        ? sorted
          ? invert(sorted)
          : null
        : toInt32(unsortedIndices, 'unsortedIndices');
    if (unsorted && (!sorted || !isInverse(sorted, unsorted))) {
      throw new RangeError(
        'PackedSequence: unsortedIndices must be the inverse permutation of sortedIndices',
      );
    }
    if (data.device !== 'cpu' && !options.backend) {
      throw new TypeError(
        `PackedSequence: data lives on '${data.device}'; pass { backend } (the backend that holds it) so it can be unpacked there`,
      );
    }
    this.data = data;
    this.batchSizes = Tensor.fromArray(sizes, [sizes.length]);
    this.sortedIndices = sorted ? Tensor.fromArray(sorted, [N]) : null;
    this.unsortedIndices = unsorted ? Tensor.fromArray(unsorted, [N]) : null;
    this.backend = data.device === 'cpu' ? null : (options.backend ?? null);
    Object.freeze(this);
  }

  /** The number of sequences (`batchSizes[0]`). */
  get batch(): number {
    return (this.batchSizes.dataSync()[0] as number) ?? 0;
  }

  /** Each sequence's length in the caller's batch order (what `padPackedSequence` returns). */
  lengths(): number[] {
    return callerLengths(this.batchSizes.dataSync(), this.unsortedIndices?.dataSync() ?? null);
  }
}

export interface PackPaddedOptions {
  /** `input` is `(N, T, *)` instead of `(T, N, *)`. Default false. */
  batchFirst?: boolean;
  /**
   * `lengths` must already be sorted longest first (default true, as PyTorch); false sorts them (stably)
   * and records `sortedIndices` / `unsortedIndices`, so results come back in the caller's order.
   */
  enforceSorted?: boolean;
  /** The backend `input` lives on, when it is not a CPU tensor: the packing gathers rows there. */
  backend?: Backend;
}

/**
 * Packs a padded batch (PyTorch's `pack_padded_sequence`): only the first `lengths[b]` steps of
 * sequence b are kept.
 *
 * @param input `(T, N, *)`, or `(N, T, *)` with `batchFirst`.
 * @param lengths N lengths, each in [1, T] (an array or an int32 tensor on the CPU).
 * @example
 * const packed = packPaddedSequence(padded, [5, 2, 4], { batchFirst: true, enforceSorted: false });
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.rnn.pack_padded_sequence.html | torch.nn.utils.rnn.pack_padded_sequence}
 */
export function packPaddedSequence(
  input: Tensor,
  lengths: readonly number[] | Int32Array | Tensor,
  options: PackPaddedOptions = {},
): PackedSequence {
  const op = 'packPaddedSequence';
  const batchFirst = options.batchFirst ?? false;
  const enforceSorted = options.enforceSorted ?? true;
  if (!(input instanceof Tensor) || input.ndim < 2) {
    throw new TypeError(
      `${op}: input must be a Tensor (${batchFirst ? 'N, T' : 'T, N'}, *) of at least 2 dimensions, received ${describe(input)}`,
    );
  }
  const [T, N] = (batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]]) as [
    number,
    number,
  ];
  const lens = toInt32(lengths, 'lengths', op);
  if (lens.length !== N) {
    throw new RangeError(
      `${op}: expected ${N} lengths, one per batch entry of input ${formatShape(input.shape)}` +
        `${batchFirst ? ' (batchFirst)' : ''}, received ${lens.length}: [${[...lens].join(', ')}]`,
    );
  }
  for (let b = 0; b < N; b++) {
    const l = lens[b] as number;
    if (l < 1 || l > T) {
      throw new RangeError(
        `${op}: every length must be in [1, ${T}] (the input's ${T} steps), received lengths[${b}] = ${l}` +
          `${l < 1 ? ' (PyTorch: every sample must have length greater than 0)' : ''}`,
      );
    }
  }
  let sorted: Int32Array | null = null;
  if (enforceSorted) {
    for (let b = 1; b < N; b++) {
      if ((lens[b] as number) > (lens[b - 1] as number)) {
        throw new RangeError(
          `${op}: lengths must be sorted in decreasing order when enforceSorted is true, received ` +
            `[${[...lens].join(', ')}]; pass { enforceSorted: false } to have them sorted (the results come back in your order)`,
        );
      }
    }
  } else {
    // torch.sort(lengths, descending=True): ties keep the caller's order
    sorted = Int32Array.from(
      [...lens.keys()].sort((a, b) => (lens[b] as number) - (lens[a] as number) || a - b),
    );
  }
  const sortedLens = sorted ? sorted.map((b) => lens[b] as number) : lens;
  const batchSizes = batchSizesOf(sortedLens, sortedLens[0] ?? 0);
  const rows: number[] = [];
  for (let t = 0; t < batchSizes.length; t++) {
    for (let j = 0; j < (batchSizes[t] as number); j++) {
      const b = sorted ? (sorted[j] as number) : j;
      rows.push(batchFirst ? b * T + t : t * N + b);
    }
  }
  const features = input.shape.slice(2);
  const backend = backendFor(input, options.backend, op);
  let data = reshape(gather(backend, input, T * N, rows, 0), [rows.length, ...features]);
  if (needsGrad(input)) {
    // each padded row lands in at most one packed row: the gradient goes back by the inverse map
    const back = inverseRows(rows, T * N);
    data = recordGradFn(data, 'PackPaddedSequenceBackward0', [input], [], (g) => [
      reshape(gather(cpuBackend, g, rows.length, back, 0), input.shape) as Tensor<'float32'>,
    ]);
  }
  return new PackedSequence(data, batchSizes, sorted, null, {
    backend: backend === cpuBackend ? null : backend,
  });
}

export interface PadPackedOptions {
  /** Return `(N, T, *)` instead of `(T, N, *)`. Default false. */
  batchFirst?: boolean;
  /** The value of the padding positions. Default 0. */
  paddingValue?: number;
  /** Pad to this many steps instead of the longest length (at least the longest). */
  totalLength?: number;
}

/**
 * Unpacks a `PackedSequence` into a padded batch (PyTorch's `pad_packed_sequence`), in the caller's batch
 * order, on the backend the data lives on.
 *
 * @returns `[padded, lengths]`: padded `(T, N, *)` (`(N, T, *)` with `batchFirst`), T = `totalLength` or the
 *          longest length; lengths in the caller's batch order.
 * @example
 * const [out, lengths] = padPackedSequence(outPacked, { batchFirst: true }); // out (3, 5, D·H), lengths [5, 2, 4]
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.rnn.pad_packed_sequence.html | torch.nn.utils.rnn.pad_packed_sequence}
 */
export function padPackedSequence(
  sequence: PackedSequence,
  options: PadPackedOptions = {},
): [Tensor, number[]] {
  const op = 'padPackedSequence';
  if (!(sequence instanceof PackedSequence)) {
    throw new TypeError(`${op}: expected a PackedSequence, received ${describe(sequence)}`);
  }
  const batchFirst = options.batchFirst ?? false;
  const paddingValue = options.paddingValue ?? 0;
  if (typeof paddingValue !== 'number') {
    throw new TypeError(`${op}: paddingValue must be a number, received ${typeof paddingValue}`);
  }
  const sizes = sequence.batchSizes.dataSync();
  const longest = sizes.length;
  let T = longest;
  if (options.totalLength !== undefined) {
    const total = options.totalLength;
    if (!Number.isInteger(total) || total < longest) {
      throw new RangeError(
        `${op}: totalLength must be an integer of at least the length of the longest sequence (${longest}), received ${total}`,
      );
    }
    T = total;
  }
  const N = sizes[0] ?? 0;
  const offsets = new Int32Array(longest + 1);
  for (let t = 0; t < longest; t++) offsets[t + 1] = (offsets[t] as number) + (sizes[t] as number);
  const unsorted = sequence.unsortedIndices?.dataSync() ?? null;
  const rows: number[] = [];
  const row = (t: number, b: number): number => {
    const j = unsorted ? (unsorted[b] as number) : b; // b's sorted position
    return t < longest && j < (sizes[t] as number) ? (offsets[t] as number) + j : -1;
  };
  if (batchFirst) for (let b = 0; b < N; b++) for (let t = 0; t < T; t++) rows.push(row(t, b));
  else for (let t = 0; t < T; t++) for (let b = 0; b < N; b++) rows.push(row(t, b));
  const { data } = sequence;
  const backend = sequence.backend ?? cpuBackend;
  const shape = batchFirst ? [N, T, ...data.shape.slice(1)] : [T, N, ...data.shape.slice(1)];
  let out = reshape(gather(backend, data, data.shape[0] as number, rows, paddingValue), shape);
  if (needsGrad(data)) {
    // every packed row appears once in the padded batch; PyTorch's grad_fn for each layout
    const back = inverseRows(rows, data.shape[0] as number);
    const name = unsorted ? 'IndexSelectBackward0' : batchFirst ? 'TransposeBackward0' : 'CopySlices';
    out = recordGradFn(out, name, [data], [], (g) => [
      reshape(gather(cpuBackend, g, rows.length, back, 0), data.shape) as Tensor<'float32'>,
    ]);
  }
  return [out, sequence.lengths()];
}

export interface PadSequenceOptions {
  /** Return `(N, T, *)` instead of `(T, N, *)`. Default false. */
  batchFirst?: boolean;
  /** The value of the padding positions. Default 0. */
  paddingValue?: number;
}

/**
 * Stacks sequences of different lengths into one padded batch (PyTorch's `pad_sequence`). CPU tensors.
 *
 * @param sequences each `(L_b, *)`, the same `*` for all.
 * @returns `(T, N, *)`, or `(N, T, *)` with `batchFirst`, T the longest L_b.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.rnn.pad_sequence.html | torch.nn.utils.rnn.pad_sequence}
 */
export function padSequence<D extends 'float32' | 'int32' = 'float32'>(
  sequences: readonly Tensor<D>[],
  options: PadSequenceOptions = {},
): Tensor<D> {
  const { lengths, features, width, dtype } = checkSequences(sequences, 'padSequence');
  const batchFirst = options.batchFirst ?? false;
  const paddingValue = options.paddingValue ?? 0;
  const N = sequences.length;
  const T = Math.max(...lengths);
  const out = dtype === 'int32' ? new Int32Array(T * N * width) : new Float32Array(T * N * width);
  out.fill(paddingValue);
  const at = (b: number, t: number) => (batchFirst ? b * T + t : t * N + b);
  sequences.forEach((s, b) => {
    const x = cpuArray(s, 'padSequence') as Float32Array; // or Int32Array: `set` copies either
    for (let t = 0; t < (lengths[b] as number); t++)
      (out as Float32Array).set(x.subarray(t * width, (t + 1) * width), at(b, t) * width);
  });
  const shape = batchFirst ? [N, T, ...features] : [T, N, ...features];
  const padded = (
    out instanceof Int32Array ? Tensor.fromArray(out, shape) : Tensor.fromArray(out, shape)
  ) as Tensor<D>;
  if (!anyNeedsGrad(sequences)) return padded;
  // sequence b's gradient: its rows of the padded gradient
  return recordGradFn(padded, 'CopySlices', sequences, [], (g) =>
    sequences.map((s, b) => {
      const rows = Array.from({ length: lengths[b] as number }, (_, t) => at(b, t));
      return reshape(gather(cpuBackend, g, T * N, rows, 0), s.shape) as Tensor<'float32'>;
    }),
  );
}

export interface PackSequenceOptions {
  /** The sequences are already sorted longest first (default true, as PyTorch); false sorts them. */
  enforceSorted?: boolean;
}

/**
 * Packs a list of sequences of different lengths (PyTorch's `pack_sequence`): `padSequence` then
 * `packPaddedSequence`. CPU tensors.
 *
 * @param sequences each `(L_b, *)`; sorted longest first unless `enforceSorted: false`.
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.utils.rnn.pack_sequence.html | torch.nn.utils.rnn.pack_sequence}
 */
export function packSequence(
  sequences: readonly Tensor[],
  options: PackSequenceOptions = {},
): PackedSequence {
  const { lengths } = checkSequences(sequences, 'packSequence');
  return packPaddedSequence(padSequence(sequences), lengths, {
    enforceSorted: options.enforceSorted ?? true,
  });
}

function checkSequences(
  sequences: readonly Tensor[],
  op: string,
): { lengths: number[]; features: number[]; width: number; dtype: 'float32' | 'int32' } {
  if (!Array.isArray(sequences) || sequences.length === 0) {
    throw new TypeError(`${op}: expected a non-empty array of tensors, received ${describe(sequences)}`);
  }
  const first = sequences[0] as Tensor;
  sequences.forEach((s, b) => {
    if (!(s instanceof Tensor) || s.ndim < 1) {
      throw new TypeError(`${op}: sequences[${b}] must be a Tensor (L, *), received ${describe(s)}`);
    }
    if (s.device !== 'cpu') {
      throw new TypeError(`${op}: sequences[${b}] must be a CPU tensor, received one on '${s.device}'`);
    }
    if (s.dtype !== first.dtype) {
      throw new TypeError(
        `${op}: every sequence must have the dtype of sequences[0] (${first.dtype}), received sequences[${b}] ${s.dtype}`,
      );
    }
    if (formatShape(s.shape.slice(1)) !== formatShape(first.shape.slice(1))) {
      throw new RangeError(
        `${op}: every sequence must have the same trailing dimensions as sequences[0] ${formatShape(first.shape)}, ` +
          `received sequences[${b}] ${formatShape(s.shape)}`,
      );
    }
  });
  const features = first.shape.slice(1);
  return {
    lengths: sequences.map((s) => s.shape[0] as number),
    features,
    width: features.reduce((p, d) => p * d, 1),
    dtype: first.dtype as 'float32' | 'int32',
  };
}

/** `input` viewed as `(R, F)` rows, gathered by `rows` (−1 → `fill`) on `backend` (int32: on the CPU). */
function gather(backend: Backend, input: Tensor, R: number, rows: number[], fill: number): Tensor {
  const F = R === 0 ? 0 : input.numel() / R;
  if (input.dtype === 'int32') {
    const x = cpuArray(input, 'gather') as Int32Array;
    const out = new Int32Array(rows.length * F).fill(fill);
    rows.forEach((r, i) => {
      if (r >= 0) out.set(x.subarray(r * F, (r + 1) * F), i * F);
    });
    return Tensor.fromArray(out, [rows.length, F]);
  }
  const indices = backend.fromCpu(Tensor.fromArray(Int32Array.from(rows), [rows.length])) as Tensor<'int32'>;
  try {
    return noGrad(() => backend.gatherRows({ input: reshape(input, [R, F]), indices, fill }));
  } finally {
    if (indices.device !== 'cpu') indices.dispose();
  }
}

/** The inverse of a row map into `R` rows: `back[r] = i` where `rows[i] = r`, −1 for rows nothing took. */
function inverseRows(rows: readonly number[], R: number): number[] {
  const back = new Array<number>(R).fill(-1);
  rows.forEach((r, i) => {
    if (r >= 0) back[r] = i;
  });
  return back;
}

function backendFor(input: Tensor, backend: Backend | undefined, op: string): Backend {
  if (backend) {
    if (!backend.owns(input)) {
      throw new Error(`${op}: input is on '${input.device}', not on the given backend '${backend.label}'`);
    }
    return backend;
  }
  if (input.device !== 'cpu') {
    throw new TypeError(
      `${op}: input lives on '${input.device}'; pass { backend } (the backend that holds it) to pack it there`,
    );
  }
  return cpuBackend;
}

/** PyTorch's batch sizes for lengths sorted longest first. */
function batchSizesOf(sortedLengths: Int32Array, T: number): Int32Array {
  const sizes = new Int32Array(T);
  for (const l of sortedLengths) for (let t = 0; t < l; t++) sizes[t] = (sizes[t] as number) + 1;
  return sizes;
}

/** Lengths in the caller's order from batch sizes and (optionally) the unsorting permutation. */
function callerLengths(sizes: Int32Array, unsorted: Int32Array | null): number[] {
  const N = sizes[0] ?? 0;
  const sortedLengths = new Array<number>(N).fill(0);
  for (const b of sizes) for (let j = 0; j < b; j++) sortedLengths[j] = (sortedLengths[j] as number) + 1;
  return unsorted ? [...unsorted].map((j) => sortedLengths[j] as number) : sortedLengths;
}

function toInt32(
  v: Tensor | readonly number[] | Int32Array,
  name: string,
  op = 'PackedSequence',
): Int32Array {
  if (v instanceof Tensor) {
    if (v.ndim !== 1)
      throw new RangeError(`${op}: ${name} must be 1-D, received shape ${formatShape(v.shape)}`);
    if (v.dtype === 'int32') return Int32Array.from(cpuIndex(v as Tensor<'int32'>, op, name));
    return toInt32(Array.from(v.dataSync() as Float32Array), name, op);
  }
  if (!(v instanceof Int32Array) && !Array.isArray(v)) {
    throw new TypeError(
      `${op}: ${name} must be an array of integers or a 1-D tensor, received ${describe(v)}`,
    );
  }
  for (const x of v) {
    if (!Number.isInteger(x)) {
      throw new TypeError(`${op}: ${name} must hold integers, received [${[...v].join(', ')}]`);
    }
  }
  return Int32Array.from(v);
}

function isPermutation(p: Int32Array, N: number): boolean {
  if (p.length !== N) return false;
  const seen = new Uint8Array(N);
  for (const i of p) {
    if (i < 0 || i >= N || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}

function invert(p: Int32Array): Int32Array {
  const inv = new Int32Array(p.length);
  p.forEach((v, i) => {
    inv[v] = i;
  });
  return inv;
}

function isInverse(p: Int32Array, q: Int32Array): boolean {
  return p.length === q.length && p.every((v, i) => q[v] === i);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return `a Tensor of shape ${formatShape(v.shape)}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v;
}

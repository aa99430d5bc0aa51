// A minimal protobuf writer for the few ONNX messages the bench needs: a graph of RNN, LSTM or GRU nodes
// (one per layer) with Transpose/Reshape glue, weights as initializers. Field numbers are onnx.proto's.
import { type Cell, GATES } from './configs.js';
import type { Problem } from './problem.js';

const VARINT = 0;
const BYTES = 2;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT32 = 6; // TensorProto.DataType.INT32
const INT64 = 7; // TensorProto.DataType.INT64
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;
const ATTR_STRINGS = 8;

type Chunk = Uint8Array;

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

function concat(chunks: readonly Chunk[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const intField = (field: number, value: number): Chunk =>
  Uint8Array.from([...varint((field << 3) | VARINT), ...varint(value)]);
const bytesField = (field: number, bytes: Uint8Array): Chunk =>
  concat([Uint8Array.from([...varint((field << 3) | BYTES), ...varint(bytes.length)]), bytes]);
const stringField = (field: number, s: string): Chunk => bytesField(field, new TextEncoder().encode(s));
const message = (field: number, parts: readonly Chunk[]): Chunk => bytesField(field, concat(parts));

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function tensor(
  field: number,
  name: string,
  dims: readonly number[],
  data: Float32Array | BigInt64Array,
): Chunk {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return message(field, [
    ...dims.map((d) => intField(1, d)),
    intField(2, data instanceof Float32Array ? FLOAT : INT64),
    stringField(8, name),
    bytesField(9, raw),
  ]);
}

/** AttributeProto: name (1), i (3), s (4), ints (8), strings (9), type (20). */
type Attr = readonly [name: string, value: number | string | readonly number[] | readonly string[]];
function attribute([name, value]: Attr): Chunk {
  const parts: Chunk[] = [stringField(1, name)];
  if (typeof value === 'number') parts.push(intField(3, value), intField(20, ATTR_INT));
  else if (typeof value === 'string') parts.push(stringField(4, value), intField(20, ATTR_STRING));
  else if (value.every((v) => typeof v === 'number'))
    parts.push(...value.map((v) => intField(8, v as number)), intField(20, ATTR_INTS));
  else parts.push(...value.map((v) => stringField(9, v as string)), intField(20, ATTR_STRINGS));
  return message(5, parts);
}

/** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
function node(
  op: string,
  name: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Attr[] = [],
): Chunk {
  return message(1, [
    ...inputs.map((s) => stringField(1, s)),
    ...outputs.map((s) => stringField(2, s)),
    stringField(3, name),
    stringField(4, op),
    ...attrs.map(attribute),
  ]);
}

/** ValueInfoProto with a tensor type of fixed dims: name (1), type (2) → tensor_type (1): elem_type (1), shape (2). */
function valueInfo(field: number, name: string, dims: readonly number[], elemType = FLOAT): Chunk {
  const shape = message(
    2,
    dims.map((d) => message(1, [intField(1, d)])),
  );
  return message(field, [stringField(1, name), message(2, [message(1, [intField(1, elemType), shape])])]);
}

/** Concatenates arrays: per-direction weights into one (D, …) initializer. */
function stack(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * ONNX's gate order as indices of PyTorch's gate blocks: an ONNX LSTM stacks i, o, f, c (PyTorch: i, f, g, o),
 * an ONNX GRU z, r, h (PyTorch: r, z, n). What `torch.onnx.export` does to nn.LSTM and nn.GRU weights.
 */
const ONNX_GATE_ORDER: Readonly<Record<Cell, readonly number[]>> = {
  RNN: [0],
  LSTM: [0, 3, 1, 2],
  GRU: [1, 0, 2],
};

/** Reorders the gate blocks (equal runs of rows, or of a bias) of one PyTorch weight into ONNX's order. */
export function toOnnxGates(cell: Cell, a: Float32Array): Float32Array {
  const order = ONNX_GATE_ORDER[cell];
  const block = a.length / order.length;
  const out = new Float32Array(a.length);
  order.forEach((from, to) => {
    out.set(a.subarray(from * block, (from + 1) * block), to * block);
  });
  return out;
}

/** The node's attributes, as `torch.onnx.export` writes them for nn.RNN (tanh), nn.LSTM and nn.GRU. */
function cellAttributes(cell: Cell, H: number, D: number): Attr[] {
  const attrs: Attr[] = [
    ['hidden_size', H],
    ['direction', D === 2 ? 'bidirectional' : 'forward'],
  ];
  if (cell === 'RNN') attrs.push(['activations', D === 2 ? ['Tanh', 'Tanh'] : ['Tanh']]);
  // PyTorch's GRU applies the reset gate to (W_hn h + b_hn), after the product: ONNX's linear_before_reset.
  if (cell === 'GRU') attrs.push(['linear_before_reset', 1]);
  return attrs;
}

/** Layer k's state inputs and outputs in a streamed model: h (and c for an LSTM). */
export function stateNames(cell: Cell, k: number): { inputs: string[]; outputs: string[] } {
  const parts = cell === 'LSTM' ? ['H', 'C'] : ['H'];
  return { inputs: parts.map((p) => `${p}0_${k}`), outputs: parts.map((p) => `${p}N_${k}`) };
}

/**
 * The problem as an ONNX model (opset 17): input `X` (B, T, I) batch-first, output `Y` (B, T, D·H).
 * Each layer is one `RNN`, `LSTM` or `GRU` node on sequence-first data, its weights in ONNX's gate order
 * and B = [Wb, Rb]; Transpose/Reshape nodes convert between layouts. A packed config adds the input `L`
 * (B) int32, every node's `sequence_lens`: ONNX Runtime then runs each sequence for its own length (the
 * reverse direction from its last real step) and writes zeros to Y past it, which the next layer reads
 * but, with the same `sequence_lens`, never uses. A streamed config runs one step per call: X is (B, 1, I),
 * and each layer k takes its state as inputs `H0_k` (and `C0_k` for an LSTM), (D, B, H), and gives the
 * next as outputs `HN_k` (`CN_k`).
 */
export function onnxModel(problem: Problem): Uint8Array {
  const { config, layers } = problem;
  const { cell, batch: B, hiddenSize: H, lengths, stream } = config;
  const T = stream ? 1 : config.steps;
  const G = GATES[cell];
  const D = config.bidirectional ? 2 : 1;
  const gates = (a: Float32Array): Float32Array => toOnnxGates(cell, a);
  const nodes: Chunk[] = [node('Transpose', 'to_seq_first', ['X'], ['x0'], [['perm', [1, 0, 2]]])];
  const inits: Chunk[] = [tensor(5, 'flat', [3], BigInt64Array.from([0n, 0n, -1n]))];
  let x = 'x0';
  layers.forEach((dirs, k) => {
    const inputSize = k === 0 ? config.inputSize : D * H;
    inits.push(
      tensor(5, `W${k}`, [D, G * H, inputSize], stack(dirs.map((d) => gates(d.wIh)))),
      tensor(5, `R${k}`, [D, G * H, H], stack(dirs.map((d) => gates(d.wHh)))),
      tensor(5, `B${k}`, [D, 2 * G * H], stack(dirs.flatMap((d) => [gates(d.bIh), gates(d.bHh)]))),
    );
    // ONNX's optional inputs are positional: sequence_lens (4), initial_h (5), initial_c (6)
    const states = stream ? stateNames(cell, k) : null;
    const lens = lengths ? ['L'] : states ? [''] : [];
    const inputs = [x, `W${k}`, `R${k}`, `B${k}`, ...lens, ...(states?.inputs ?? [])];
    nodes.push(
      node(
        cell,
        `${cell.toLowerCase()}${k}`,
        inputs,
        [`y${k}`, ...(states?.outputs ?? [])],
        cellAttributes(cell, H, D),
      ),
      // Y is (T, D, B, H): bring D next to H, then merge them.
      node('Transpose', `merge_dirs${k}`, [`y${k}`], [`yt${k}`], [['perm', [0, 2, 1, 3]]]),
      node('Reshape', `flatten${k}`, [`yt${k}`, 'flat'], [`x${k + 1}`]),
    );
    x = `x${k + 1}`;
  });
  nodes.push(node('Transpose', 'to_batch_first', [x], ['Y'], [['perm', [1, 0, 2]]]));
  const graph = message(7, [
    ...nodes,
    stringField(2, cell.toLowerCase()),
    ...inits,
    valueInfo(11, 'X', [B, T, config.inputSize]),
    ...(lengths ? [valueInfo(11, 'L', [B], INT32)] : []),
    valueInfo(12, 'Y', [B, T, D * H]),
    ...(stream
      ? layers.flatMap((_, k) => {
          const { inputs, outputs } = stateNames(cell, k);
          return [
            ...inputs.map((n) => valueInfo(11, n, [D, B, H])),
            ...outputs.map((n) => valueInfo(12, n, [D, B, H])),
          ];
        })
      : []),
  ]);
  const opset = message(8, [stringField(1, ''), intField(2, 17)]);
  return concat([intField(1, 8), stringField(2, 'recurrent-bench'), graph, opset]);
}

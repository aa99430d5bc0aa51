import { DTYPE_BITS, isDtype, type SafetensorsDtype } from './dtypes.js';
import { describe, preview, previewShape, quote, SafetensorsError } from './errors.js';
import { findDuplicateKey, maxDepth } from './json-scan.js';
import { decodeUtf8 } from './utf8.js';

/** The format's limit on the JSON header (the reference implementation's `MAX_HEADER_SIZE`). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A valid header nests at most 3 deep: the header object → a tensor entry → its shape array. */
const MAX_DEPTH = 3;

/** A safetensors file's bytes, from `fs.readFile`, `fetch(…).arrayBuffer()` or `file.arrayBuffer()`. */
export type SafetensorsBytes = Uint8Array | ArrayBufferLike | ArrayBufferView;

/** Options of `readSafetensorsHeader` and `loadSafetensors`. */
export interface SafetensorsReadOptions {
  /**
   * Refuse headers longer than this many bytes (default and maximum 100 000 000, the format's limit).
   * Lower it for untrusted uploads.
   */
  maxHeaderBytes?: number;
}

/** One tensor's entry in the header. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  /** Row-major dimensions; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** `[begin, end)` in bytes, relative to the start of the data section. */
  readonly dataOffsets: readonly [begin: number, end: number];
}

/** A parsed and validated header. */
export interface SafetensorsHeader {
  /** The free-form `__metadata__` string map (empty if the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor, ordered by data offset (the order the data section stores them in). */
  readonly tensors: readonly SafetensorsTensorInfo[];
  /** Byte offset of the data section in the file: 8 + the header length. */
  readonly dataStart: number;
}

/**
 * Parses and validates a safetensors header without decoding any tensor. Tensors of every safetensors
 * dtype are listed (loading them then needs F32, F16, BF16 or F64).
 *
 * Throws a `SafetensorsError` naming the tensor and the problem for any file that is not well formed:
 * a header length past the end of the file or over the limit, a header that is not UTF-8, not a JSON
 * object, nested too deep or with duplicate keys, an unknown dtype, a malformed shape or `data_offsets`,
 * a byte range that does not hold exactly `shape`'s elements, and byte ranges that overlap, leave gaps
 * or do not end where the file does.
 */
export function readSafetensorsHeader(
  bytes: SafetensorsBytes,
  options: SafetensorsReadOptions = {},
): SafetensorsHeader {
  checkReadOptions(options, 'readSafetensorsHeader');
  const file = toBytes(bytes);
  const headerLength = readHeaderLength(file, file.length, headerLimit(options.maxHeaderBytes));
  const dataStart = 8 + headerLength;
  const { metadata, tensors } = parseHeaderBytes(file.subarray(8, dataStart), file.length - dataStart);
  return { metadata, tensors, dataStart };
}

/** What `parseHeaderBytes` finds: the header, and where its tensors end in the data section. */
export interface ParsedHeader {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: readonly SafetensorsTensorInfo[];
  /** The byte, relative to the data section, where the last tensor ends (0 without tensors). */
  readonly dataEnd: number;
}

/**
 * Validates the header's bytes (everything `readSafetensorsHeader` checks). With `dataLength`, the
 * tensors must end exactly there; without it (the Node loader, before reading the data) the caller
 * compares `dataEnd` with the file's size itself.
 */
export function parseHeaderBytes(bytes: Uint8Array, dataLength?: number): ParsedHeader {
  const text = decodeUtf8(bytes);
  if (text === null) throw new SafetensorsError('the header is not valid UTF-8');
  return validate(parseHeader(text), dataLength);
}

/** A Uint8Array over the caller's bytes (no copy). */
export function toBytes(input: SafetensorsBytes): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const tag = Object.prototype.toString.call(input);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(input as ArrayBufferLike);
  }
  throw new SafetensorsError(
    `expected the file's bytes (a Uint8Array, an ArrayBuffer or an ArrayBufferView), received ${describe(input)}`,
  );
}

/** `maxHeaderBytes`, checked; the format's limit when it is not given. */
export function headerLimit(max: number | undefined): number {
  if (max === undefined) return MAX_HEADER_BYTES;
  if (!Number.isInteger(max) || max < 2 || max > MAX_HEADER_BYTES) {
    throw new SafetensorsError(
      `maxHeaderBytes must be an integer in [2, ${MAX_HEADER_BYTES}], received ${preview(max)}`,
    );
  }
  return max;
}

/**
 * The u64 little-endian length in front of the header, checked against the limit and the file size.
 * `prefix` holds the file's first 8 bytes (fewer only when the file is shorter), `fileLength` its size.
 */
export function readHeaderLength(prefix: Uint8Array, fileLength: number, limit: number): number {
  if (fileLength < 8) {
    throw new SafetensorsError(
      `the file is ${fileLength} bytes long, too short for the 8-byte header length`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(limit)) {
    throw (
      notSafetensors(prefix) ??
      new SafetensorsError(`the header length ${n} is over the limit of ${limit} bytes`)
    );
  }
  const length = Number(n);
  if (length > fileLength - 8) {
    throw (
      notSafetensors(prefix) ??
      new SafetensorsError(
        `the header length ${length} runs past the end of the file (${fileLength - 8} bytes follow the length)`,
      )
    );
  }
  return length;
}

/** The command that converts a torch.save file, as the repository and the installed package ship it. */
export const EXPORT_COMMAND: string =
  'python3 scripts/export_safetensors.py model.pt model.safetensors ' +
  '(the script is also installed as node_modules/@recurrent/nn/scripts/export_safetensors.py)';

// torch.save's legacy format starts with its magic number 0x1950a86a20f9469cfc6c, pickled: with protocol 2
// (`\x80\x02`, LONG1 of 10 bytes) by every PyTorch since 0.4, as a decimal LONG by the oldest ones.
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46];
const LEGACY_MAGIC_TEXT = [...'L1195470'].map((c) => c.charCodeAt(0));

/**
 * The error for a file that starts like a PyTorch `torch.save` file (a zip archive, or a pickle), or
 * undefined. Asked only once the first 8 bytes make no valid header length, so it never refuses a
 * safetensors file whose length happens to look like a pickle's first bytes.
 */
function notSafetensors(prefix: Uint8Array): SafetensorsError | undefined {
  const starts = (bytes: readonly number[]) => bytes.every((b, i) => prefix[i] === b);
  let kind: string | undefined;
  if (starts([0x50, 0x4b, 0x03, 0x04])) kind = 'a zip archive, as torch.save writes since PyTorch 1.6';
  else if (starts(LEGACY_MAGIC) || starts(LEGACY_MAGIC_TEXT)) kind = 'the legacy pickle format';
  else if (prefix[0] === 0x80 && (prefix[1] ?? 0) >= 2 && (prefix[1] ?? 0) <= 5) kind = 'a pickle';
  if (kind === undefined) return undefined;
  return new SafetensorsError(
    `this is a PyTorch torch.save file (${kind}), not safetensors; convert it with ${EXPORT_COMMAND}`,
  );
}

/** JSON text → the header object, refusing what JSON.parse would let through. */
function parseHeader(text: string): Record<string, unknown> {
  if (text.length === 0) throw new SafetensorsError('the header is empty');
  if (text[0] !== '{') {
    throw new SafetensorsError(
      `the header must be a JSON object starting with "{", but it starts with ${quote(text.slice(0, 1))}`,
    );
  }
  if (maxDepth(text) > MAX_DEPTH) {
    throw new SafetensorsError(`the header nests deeper than the ${MAX_DEPTH} levels a valid header has`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`the header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const dup = findDuplicateKey(text);
  if (dup?.parent === null) {
    if (dup.key === '__metadata__') throw new SafetensorsError('"__metadata__" appears twice in the header');
    throw new SafetensorsError(`tensor ${quote(dup.key)} appears twice in the header`);
  }
  if (dup?.parent === '__metadata__') {
    throw new SafetensorsError(`__metadata__ key ${quote(dup.key)} appears twice`);
  }
  if (dup) throw new SafetensorsError(`field ${quote(dup.key)} appears twice`, { tensor: dup.parent });
  return value as Record<string, unknown>;
}

function validate(header: Record<string, unknown>, dataLength: number | undefined): ParsedHeader {
  let metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') metadata = checkMetadata(entry);
    else tensors.push(checkEntry(key, entry, dataLength));
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  return { metadata, tensors, dataEnd: checkLayout(tensors, dataLength) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkMetadata(entry: unknown): Record<string, string> {
  if (!isObject(entry)) {
    throw new SafetensorsError(`"__metadata__" must be an object of strings, found ${describe(entry)}`);
  }
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(`__metadata__ key ${quote(k)} must map to a string, found ${describe(v)}`);
    }
  }
  return Object.fromEntries(Object.entries(entry)) as Record<string, string>;
}

const isIndex = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) >= 0;

/**
 * The elements of a shape of safe non-negative integers, multiplied in order as the reference
 * implementation does (`try_fold(1, usize::checked_mul)`), or null once the product passes 2^53 − 1,
 * even when a 0 dimension follows: the reference refuses that overflow too, and a float product
 * (`numelOf`) would make it ∞ · 0 = NaN. Every accepted shape thus has an exact `numelOf`.
 */
function elementCount(shape: readonly number[]): number | null {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return null;
  }
  return n;
}

function checkEntry(name: string, entry: unknown, dataLength: number | undefined): SafetensorsTensorInfo {
  const fail = (detail: string) => new SafetensorsError(detail, { tensor: name });
  if (!isObject(entry)) throw fail(`expected {dtype, shape, data_offsets}, found ${describe(entry)}`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(entry, field)) throw fail(`missing "${field}"`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw fail(`dtype must be a string, found ${describe(dtype)}`);
  if (!isDtype(dtype)) {
    throw fail(`unknown dtype ${quote(dtype)} (safetensors spells them F32, F16, BF16, F64, I64, …)`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw fail(`shape must be an array of non-negative integers, found ${preview(shape)}`);
  }
  const numel = elementCount(shape);
  if (numel === null) {
    throw fail(
      shape.includes(0)
        ? `shape ${previewShape(shape)} overflows: its dimensions multiply past 2^53 − 1 before the 0`
        : `shape ${previewShape(shape)} has more than 2^53 − 1 elements`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw fail(`data_offsets must be [begin, end] with non-negative integers, found ${preview(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const range = `data_offsets [${begin}, ${end}]`;
  if (end < begin) throw fail(`${range} end before they begin`);
  if (dataLength !== undefined && end > dataLength) {
    throw fail(`${range} run past the end of the data (${dataLength} bytes)`);
  }
  // exact: the span in bits is a byte count times 8, and a quotient that rounds is past 2^53 > numel
  const bits = DTYPE_BITS[dtype];
  const spanBits = (end - begin) * 8;
  if (spanBits % bits !== 0) {
    throw fail(
      `${range} span ${end - begin} bytes, not a whole number of ${dtype} elements (${bits} bits each)`,
    );
  }
  if (spanBits / bits !== numel) {
    throw fail(
      `${range} hold ${spanBits / bits} ${dtype} elements but shape ${previewShape(shape)} needs ${numel}`,
    );
  }
  return { name, dtype, shape, dataOffsets: [begin, end] };
}

/**
 * Sorted by offset, the byte ranges must tile the data section exactly: no overlap, no gap and, when
 * `dataLength` is known, no tail. Returns where the tiling ends.
 */
function checkLayout(tensors: readonly SafetensorsTensorInfo[], dataLength: number | undefined): number {
  let covered = 0;
  let previous: SafetensorsTensorInfo | null = null;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin < covered && previous) {
      const [pb, pe] = previous.dataOffsets;
      throw new SafetensorsError(
        `data_offsets [${begin}, ${end}] overlap tensor ${quote(previous.name)} at [${pb}, ${pe}]`,
        { tensor: t.name },
      );
    }
    if (begin > covered) {
      throw new SafetensorsError(
        `data_offsets [${begin}, ${end}] leave a gap: bytes [${covered}, ${begin}) of the data belong to no tensor`,
        { tensor: t.name },
      );
    }
    covered = end;
    previous = t;
  }
  if (dataLength !== undefined && covered !== dataLength) {
    throw new SafetensorsError(
      `the data section is ${dataLength} bytes but the tensors end at byte ${covered}: ` +
        `${dataLength - covered} trailing bytes belong to no tensor`,
    );
  }
  return covered;
}

/** Refuses options that are not an object (`null`, a number…) with a TypeError naming what was received. */
export function checkReadOptions(options: unknown, op: string): asserts options is SafetensorsReadOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `${op}: options must be an object like { maxHeaderBytes: 1e6 }, received ${options === null ? 'null' : typeof options}`,
    );
  }
}

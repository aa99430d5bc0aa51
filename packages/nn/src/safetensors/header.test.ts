// Hostile and malformed files, each with the exact error it gets; and the edge cases a valid file may have.
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from './errors.js';
import { readSafetensorsHeader } from './header.js';
import { loadSafetensors } from './load.js';

/** A file from a header (JSON text or a value to stringify) and a data section; `length` overrides N. */
function file(header: string | object, data: Uint8Array | number = 0, length?: number | bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length ?? json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const f32 = (...values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const entry = (shape: unknown, offsets: unknown, dtype: unknown = 'F32') => ({
  dtype,
  shape,
  data_offsets: offsets,
});
const W = entry([3], [0, 12]);

function thrown(f: () => unknown): SafetensorsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, nothing was thrown');
}

const prefix = 'safetensors: ';
const raw = (bytes: number[]): Uint8Array => new Uint8Array(bytes);

describe('hostile and malformed files', () => {
  it.each<[string, Uint8Array | ArrayBuffer | unknown, string]>([
    ['an empty file', raw([]), 'the file is 0 bytes long, too short for the 8-byte header length'],
    [
      'a file shorter than the length',
      raw([2, 0, 0, 0, 0]),
      'the file is 5 bytes long, too short for the 8-byte header length',
    ],
    [
      'a header over 100 MB',
      file('{}', 0, 100_000_001),
      'the header length 100000001 is over the limit of 100000000 bytes',
    ],
    [
      'a header length of 2^64 − 1',
      file('{}', 0, 2n ** 64n - 1n),
      'the header length 18446744073709551615 is over the limit of 100000000 bytes',
    ],
    [
      'a header length larger than the file',
      file('{}', 0, 50),
      'the header length 50 runs past the end of the file (2 bytes follow the length)',
    ],
    [
      'a header length one past the file',
      file('{}', 0, 3),
      'the header length 3 runs past the end of the file (2 bytes follow the length)',
    ],
    [
      'a header that is not UTF-8',
      raw([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff]),
      'the header is not valid UTF-8',
    ],
    [
      'an overlong UTF-8 encoding',
      raw([3, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xc0, 0xaf]),
      'the header is not valid UTF-8',
    ],
    [
      'an encoded surrogate',
      raw([4, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xed, 0xa0, 0x80]),
      'the header is not valid UTF-8',
    ],
    ['an empty header', file(''), 'the header is empty'],
    [
      'a header that is an array',
      file('[]'),
      'the header must be a JSON object starting with "{", but it starts with "["',
    ],
    [
      'a header that is a string',
      file('"{}"'),
      'the header must be a JSON object starting with "{", but it starts with "\\""',
    ],
    [
      'a header that is a number',
      file('12'),
      'the header must be a JSON object starting with "{", but it starts with "1"',
    ],
    [
      'a header with leading whitespace',
      file(' {}'),
      'the header must be a JSON object starting with "{", but it starts with " "',
    ],
    [
      'a header with a byte order mark',
      file('\uFEFF{}'),
      'the header must be a JSON object starting with "{", but it starts with "\uFEFF"',
    ],
    [
      'a header nested 4 deep',
      file({ w: { shape: [[3]] } }),
      'the header nests deeper than the 3 levels a valid header has',
    ],
    [
      'a header nested 100 000 deep',
      file(`{"w":${'['.repeat(100_000)}`),
      'the header nests deeper than the 3 levels a valid header has',
    ],
    [
      'a tensor listed twice',
      file(`{"w":${JSON.stringify(W)},"w":${JSON.stringify(W)}}`, f32(1, 2, 3)),
      'tensor "w" appears twice in the header',
    ],
    [
      'a tensor listed twice, once escaped',
      file(`{"w":${JSON.stringify(W)},"\\u0077":${JSON.stringify(W)}}`, f32(1, 2, 3)),
      'tensor "w" appears twice in the header',
    ],
    [
      '"__metadata__" twice',
      file('{"__metadata__":{},"__metadata__":{}}'),
      '"__metadata__" appears twice in the header',
    ],
    [
      'a field given twice',
      file('{"w":{"dtype":"F32","dtype":"I32","shape":[3],"data_offsets":[0,12]}}', f32(1, 2, 3)),
      'tensor "w": field "dtype" appears twice',
    ],
    [
      'a metadata key given twice',
      file('{"__metadata__":{"k":"1","k":"2"}}'),
      '__metadata__ key "k" appears twice',
    ],
    [
      '"__metadata__" that is an array',
      file({ __metadata__: ['pt'] }),
      '"__metadata__" must be an object of strings, found an array',
    ],
    [
      '"__metadata__" that is null',
      file({ __metadata__: null }),
      '"__metadata__" must be an object of strings, found null',
    ],
    [
      'a metadata value that is a number',
      file({ __metadata__: { epoch: 3 } }),
      '__metadata__ key "epoch" must map to a string, found a number',
    ],
    [
      'an entry that is a string',
      file({ w: 'F32' }),
      'tensor "w": expected {dtype, shape, data_offsets}, found a string',
    ],
    [
      'an entry that is null',
      file({ w: null }),
      'tensor "w": expected {dtype, shape, data_offsets}, found null',
    ],
    [
      'an entry that is an array',
      file({ w: [] }),
      'tensor "w": expected {dtype, shape, data_offsets}, found an array',
    ],
    [
      'a missing dtype',
      file({ w: { shape: [3], data_offsets: [0, 12] } }, 12),
      'tensor "w": missing "dtype"',
    ],
    [
      'a missing shape',
      file({ w: { dtype: 'F32', data_offsets: [0, 12] } }, 12),
      'tensor "w": missing "shape"',
    ],
    [
      'missing data_offsets',
      file({ w: { dtype: 'F32', shape: [3] } }, 12),
      'tensor "w": missing "data_offsets"',
    ],
    [
      'a dtype that is a number',
      file({ w: entry([3], [0, 12], 32) }, 12),
      'tensor "w": dtype must be a string, found a number',
    ],
    [
      'an unknown dtype',
      file({ w: entry([3], [0, 12], 'F33') }, 12),
      'tensor "w": unknown dtype "F33" (safetensors spells them F32, F16, BF16, F64, I64, …)',
    ],
    [
      'a lower-case dtype',
      file({ w: entry([3], [0, 12], 'f32') }, 12),
      'tensor "w": unknown dtype "f32" (safetensors spells them F32, F16, BF16, F64, I64, …)',
    ],
    [
      'a numpy dtype name',
      file({ w: entry([3], [0, 12], 'float32') }, 12),
      'tensor "w": unknown dtype "float32" (safetensors spells them F32, F16, BF16, F64, I64, …)',
    ],
    [
      'a negative dimension',
      file({ w: entry([-3], [0, 12]) }, 12),
      'tensor "w": shape must be an array of non-negative integers, found [-3]',
    ],
    [
      'a fractional dimension',
      file({ w: entry([1.5, 2], [0, 12]) }, 12),
      'tensor "w": shape must be an array of non-negative integers, found [1.5,2]',
    ],
    [
      'a dimension as a string',
      file({ w: entry(['3'], [0, 12]) }, 12),
      'tensor "w": shape must be an array of non-negative integers, found ["3"]',
    ],
    [
      'a shape that is a number',
      file({ w: entry(3, [0, 12]) }, 12),
      'tensor "w": shape must be an array of non-negative integers, found 3',
    ],
    [
      'a dimension past 2^53',
      file('{"w":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,12]}}', 12),
      'tensor "w": shape must be an array of non-negative integers, found [9007199254740992]',
    ],
    [
      'one data offset',
      file({ w: entry([3], [0]) }, 12),
      'tensor "w": data_offsets must be [begin, end] with non-negative integers, found [0]',
    ],
    [
      'three data offsets',
      file({ w: entry([3], [0, 12, 24]) }, 12),
      'tensor "w": data_offsets must be [begin, end] with non-negative integers, found [0,12,24]',
    ],
    [
      'a negative offset',
      file({ w: entry([3], [-12, 0]) }, 12),
      'tensor "w": data_offsets must be [begin, end] with non-negative integers, found [-12,0]',
    ],
    [
      'offsets as an object',
      file({ w: entry([3], { begin: 0, end: 12 }) }, 12),
      'tensor "w": data_offsets must be [begin, end] with non-negative integers, found {"begin":0,"end":12}',
    ],
    [
      'offsets that end before they begin',
      file({ w: entry([3], [12, 0]) }, 12),
      'tensor "w": data_offsets [12, 0] end before they begin',
    ],
    [
      'offsets past the end of the data',
      file({ w: entry([1000], [0, 4000]) }, 12),
      'tensor "w": data_offsets [0, 4000] run past the end of the data (12 bytes)',
    ],
    [
      'offsets near 2^53',
      file({ w: entry([3], [0, 2 ** 53 - 1]) }, 12),
      'tensor "w": data_offsets [0, 9007199254740991] run past the end of the data (12 bytes)',
    ],
    [
      'a shape that does not match its bytes',
      file({ weight_ih_l0: entry([3, 5], [0, 48]) }, 48),
      'tensor "weight_ih_l0": data_offsets [0, 48] hold 12 F32 elements but shape [3, 5] needs 15',
    ],
    [
      'a byte range of a partial element',
      file({ w: entry([3], [0, 10]) }, 10),
      'tensor "w": data_offsets [0, 10] span 10 bytes, not a whole number of F32 elements (32 bits each)',
    ],
    [
      'a shape whose size overflows',
      file({ w: entry([2 ** 40, 2 ** 40, 2 ** 40], [0, 12]) }, 12),
      'tensor "w": shape [1099511627776, 1099511627776, 1099511627776] has more than 2^53 − 1 elements',
    ],
    [
      'a shape one element past 2^53 − 1',
      file({ w: entry([2 ** 26, 2 ** 27], [0, 12]) }, 12),
      'tensor "w": shape [67108864, 134217728] has more than 2^53 − 1 elements',
    ],
    [
      // ∞ · 0 = NaN elements: the header took it and loading threw a RangeError from Tensor
      'a shape whose size overflows to infinity before a 0',
      file({ w: entry([...Array(24).fill(2 ** 53 - 1), 0], [0, 0]) }),
      'tensor "w": shape [9007199254740991, 9007199254740991, 9007199254740991, 9007199254740991, ' +
        '9007199254740991, 9007199254740991, 9007199254740991, 9007199254740991, … (25 dimensions)] ' +
        'overflows: its dimensions multiply past 2^53 − 1 before the 0',
    ],
    [
      // the reference implementation's checked product refuses this too (ValidationOverflow)
      'a shape whose size passes 2^53 − 1 before a 0',
      file({ w: entry([2 ** 30, 2 ** 30, 0], [0, 0]) }),
      'tensor "w": shape [1073741824, 1073741824, 0] overflows: its dimensions multiply past 2^53 − 1 before the 0',
    ],
    [
      'a shape of 2^53 − 1 elements on 12 bytes',
      file({ w: entry([2 ** 53 - 1], [0, 12]) }, 12),
      'tensor "w": data_offsets [0, 12] hold 3 F32 elements but shape [9007199254740991] needs 9007199254740991',
    ],
    [
      'a shape of a million dimensions',
      file({ w: entry(Array(1_000_000).fill(1), [0, 12]) }, 12),
      'tensor "w": data_offsets [0, 12] hold 3 F32 elements but shape [1, 1, 1, 1, 1, 1, 1, 1, … (1000000 dimensions)] needs 1',
    ],
    [
      'a zero-size shape with bytes',
      file({ w: entry([0, 3], [0, 12]) }, 12),
      'tensor "w": data_offsets [0, 12] hold 3 F32 elements but shape [0, 3] needs 0',
    ],
    [
      'overlapping tensors',
      file({ a: W, b: entry([3], [8, 20]) }, 20),
      'tensor "b": data_offsets [8, 20] overlap tensor "a" at [0, 12]',
    ],
    [
      'two tensors on the same bytes',
      file({ a: W, b: W }, 12),
      'tensor "b": data_offsets [0, 12] overlap tensor "a" at [0, 12]',
    ],
    [
      'an empty tensor inside another',
      file({ a: W, z: entry([0], [4, 4]) }, 12),
      'tensor "z": data_offsets [4, 4] overlap tensor "a" at [0, 12]',
    ],
    [
      'a gap between tensors',
      file({ a: W, b: entry([3], [16, 28]) }, 28),
      'tensor "b": data_offsets [16, 28] leave a gap: bytes [12, 16) of the data belong to no tensor',
    ],
    [
      'a first tensor that does not start at 0',
      file({ a: entry([3], [4, 16]) }, 16),
      'tensor "a": data_offsets [4, 16] leave a gap: bytes [0, 4) of the data belong to no tensor',
    ],
    [
      'trailing bytes after the last tensor',
      file({ a: W }, 16),
      'the data section is 16 bytes but the tensors end at byte 12: 4 trailing bytes belong to no tensor',
    ],
    [
      'data but no tensors',
      file({}, 8),
      'the data section is 8 bytes but the tensors end at byte 0: 8 trailing bytes belong to no tensor',
    ],
    [
      'a string instead of bytes',
      'model.safetensors',
      "expected the file's bytes (a Uint8Array, an ArrayBuffer or an ArrayBufferView), received a string",
    ],
    [
      'null instead of bytes',
      null,
      "expected the file's bytes (a Uint8Array, an ArrayBuffer or an ArrayBufferView), received null",
    ],
    [
      'an array of numbers',
      [1, 2, 3],
      "expected the file's bytes (a Uint8Array, an ArrayBuffer or an ArrayBufferView), received an array",
    ],
  ])('%s', (_, bytes, message) => {
    const error = thrown(() => readSafetensorsHeader(bytes as Uint8Array));
    expect(error.message).toBe(prefix + message);
    expect(thrown(() => loadSafetensors(bytes as Uint8Array)).message).toBe(prefix + message);
  });

  it.each([
    ['a header cut short', '{"w":'],
    ['trailing garbage', '{} x'],
    ['a single quote string', "{'w':1}"],
    ['a trailing comma', '{"a":"b",}'],
    ['an unterminated string', '{"w'],
  ])('rejects %s as not JSON', (_, text) => {
    const error = thrown(() => loadSafetensors(file(text)));
    expect(error.message).toMatch(/^safetensors: the header is not valid JSON \(.+\)$/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('names the tensor in the error', () => {
    const error = thrown(() => loadSafetensors(file({ weight_hh_l0: entry([2], [0, 4]) }, 4)));
    expect(error.tensor).toBe('weight_hh_l0');
    expect(error.detail).toBe('data_offsets [0, 4] hold 1 F32 elements but shape [2] needs 2');
    expect(error.name).toBe('SafetensorsError');
  });

  it('cuts a hostile 1 MB name short in messages', () => {
    const name = 'x'.repeat(1_000_000);
    const error = thrown(() => loadSafetensors(file({ [name]: entry([1], [0, 8]) }, 8)));
    expect(error.message).toBe(
      `safetensors: tensor "${'x'.repeat(60)}"… (1000000 characters): data_offsets [0, 8] hold 2 F32 elements but shape [1] needs 1`,
    );
  });

  it('refuses dtypes it cannot convert to float32 when loading, but lists them in the header', () => {
    const bytes = file({ steps: entry([2], [0, 16], 'I64'), w: entry([1], [16, 20]) }, 20);
    expect(thrown(() => loadSafetensors(bytes)).message).toBe(
      'safetensors: tensor "steps": dtype I64 cannot be loaded: only F32, F16, BF16 and F64 convert to float32',
    );
    expect(readSafetensorsHeader(bytes).tensors.map((t) => `${t.name}:${t.dtype}`)).toEqual([
      'steps:I64',
      'w:F32',
    ]);
  });

  it('checks sub-byte dtypes by bits', () => {
    expect(readSafetensorsHeader(file({ q: entry([6], [0, 3], 'F4') }, 3)).tensors).toHaveLength(1);
    expect(thrown(() => readSafetensorsHeader(file({ q: entry([3], [0, 2], 'F4') }, 2))).message).toBe(
      'safetensors: tensor "q": data_offsets [0, 2] hold 4 F4 elements but shape [3] needs 3',
    );
    expect(thrown(() => readSafetensorsHeader(file({ q: entry([5], [0, 4], 'F6_E2M3') }, 4))).message).toBe(
      'safetensors: tensor "q": data_offsets [0, 4] span 4 bytes, not a whole number of F6_E2M3 elements (6 bits each)',
    );
  });

  it('takes a lower header limit for untrusted uploads, and refuses a bad one', () => {
    const bytes = file({ w: W }, f32(1, 2, 3));
    expect(() => loadSafetensors(bytes, { maxHeaderBytes: 1024 })).not.toThrow();
    expect(thrown(() => loadSafetensors(bytes, { maxHeaderBytes: 16 })).message).toBe(
      'safetensors: the header length 55 is over the limit of 16 bytes',
    );
    expect(thrown(() => loadSafetensors(bytes, { maxHeaderBytes: 200_000_000 })).message).toBe(
      'safetensors: maxHeaderBytes must be an integer in [2, 100000000], received 200000000',
    );
    expect(thrown(() => loadSafetensors(bytes, { maxHeaderBytes: 1.5 })).message).toBe(
      'safetensors: maxHeaderBytes must be an integer in [2, 100000000], received 1.5',
    );
  });
});

describe('valid files', () => {
  it('reads an empty file and metadata alone', () => {
    expect(loadSafetensors(file('{}'))).toEqual({});
    const header = readSafetensorsHeader(file('{"__metadata__":{"format":"pt"}}      '));
    expect(header).toEqual({ metadata: { format: 'pt' }, tensors: [], dataStart: 8 + 38 });
  });

  it('reads scalars, zero-element tensors, and tensors listed out of offset order', () => {
    const header = {
      b: entry([2], [4, 12]),
      empty: entry([0, 3], [12, 12]),
      scalar: entry([], [0, 4]),
      tail: entry([0], [12, 12]),
    };
    const loaded = loadSafetensors(file(header, f32(7, 1, 2)));
    expect(Object.keys(loaded)).toEqual(['scalar', 'b', 'empty', 'tail']);
    expect(loaded.scalar?.shape).toEqual([]);
    expect(loaded.scalar?.item()).toBe(7);
    expect(loaded.b?.tolist()).toEqual([1, 2]);
    expect(loaded.empty?.shape).toEqual([0, 3]);
    expect(loaded.empty?.numel()).toBe(0);
  });

  it('reads a 0 dimension as 0 elements whatever dimensions follow it', () => {
    const big = 2 ** 53 - 1;
    const loaded = loadSafetensors(file({ e: entry([0, big, big, ...Array(30).fill(big)], [0, 0]) }));
    expect(loaded.e?.shape).toEqual([0, big, big, ...Array(30).fill(big)]);
    expect(loaded.e?.numel()).toBe(0);
  });

  it('ignores fields it does not know in an entry, as the reference does', () => {
    const loaded = loadSafetensors(file({ w: { ...W, quantization: 'none' } }, f32(1, 2, 3)));
    expect(loaded.w?.tolist()).toEqual([1, 2, 3]);
  });

  it('keeps names as they are: quotes, unicode, and "__proto__" as an ordinary key', () => {
    const names = ['__proto__', 'naïve "q" \\ 🙂', 'constructor', '0'];
    const header = Object.fromEntries(names.map((n, i) => [n, entry([1], [4 * i, 4 * i + 4])]));
    const loaded = loadSafetensors(file(header, f32(0, 1, 2, 3)));
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    expect(Object.keys(loaded).sort()).toEqual([...names].sort());
    expect(Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value.item()).toBe(0);
    expect(loaded['naïve "q" \\ 🙂']?.item()).toBe(1);
  });

  it('reads F32 data at any alignment, from any kind of buffer, into tensors that own their data', () => {
    const unaligned = file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   ', f32(1.5, -2));
    expect((unaligned.length - 8) % 4).not.toBe(0);
    const padded = new Uint8Array(unaligned.length + 3);
    padded.set(unaligned, 3);
    const shared = new Uint8Array(new SharedArrayBuffer(unaligned.length));
    shared.set(unaligned);
    const inputs = [
      unaligned,
      unaligned.buffer,
      padded.subarray(3),
      new DataView(padded.buffer, 3),
      Buffer.from(unaligned),
      shared,
      shared.buffer,
    ];
    for (const input of inputs) {
      const w = loadSafetensors(input).w;
      expect(w?.tolist()).toEqual([1.5, -2]);
    }
    const w = loadSafetensors(unaligned).w;
    unaligned.fill(0);
    expect(w?.tolist()).toEqual([1.5, -2]);
  });
});

describe('options that are not an object', () => {
  it('are refused with a TypeError naming what was received, not a property read on null', async () => {
    const bytes = file({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 8);
    expect(() => loadSafetensors(bytes, null as never)).toThrow(
      'readSafetensorsHeader: options must be an object like { maxHeaderBytes: 1e6 }, received null',
    );
    expect(() => readSafetensorsHeader(bytes, 5 as never)).toThrow(
      'readSafetensorsHeader: options must be an object like { maxHeaderBytes: 1e6 }, received number',
    );
  });
});

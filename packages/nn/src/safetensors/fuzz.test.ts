// A seeded mutation fuzzer. Valid files (PyTorch's checkpoints, saveSafetensors output, a few made by
// hand) are mutated by bit flips, byte overwrites, truncation, extension, splicing and edits of the
// header JSON; every mutant must load or throw a SafetensorsError, quickly (1 s alone, 5 s in the shared test run), never anything else.
//
// Mutant i of seed S is mutant seed S + i and depends on nothing else, so a failure replays alone:
// `pnpm fuzz -- --seed=<its seed> --runs=1`. CI runs RUNS mutants of a fixed seed; `pnpm fuzz` runs as
// many as asked (packages/nn/scripts/fuzz.mjs, which sets the SAFETENSORS_FUZZ_* variables below).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numelOf, Tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointFixtures, readFixtureBytes } from '../../../../fixtures/load.js';
import { loadSafetensorsFile } from '../node.js';
import { DTYPE_BITS, isDtype } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { readSafetensorsHeader } from './header.js';
import { maxDepth } from './json-scan.js';
import { loadSafetensors } from './load.js';
import { saveSafetensors } from './save.js';
import { isWellFormed } from './utf8.js';

const fromCli = process.env.SAFETENSORS_FUZZ_RUNS !== undefined;
const RUNS = Number(process.env.SAFETENSORS_FUZZ_RUNS ?? 4000);
const SEED = Number(process.env.SAFETENSORS_FUZZ_SEED ?? 20_240_611) >>> 0;
/** Where the CLI wants a JSON summary of this process's runs. */
const REPORT = process.env.SAFETENSORS_FUZZ_REPORT;
/**
 * A hang detector, not a speed test: the slowest mutant takes ~100 ms alone, but in `pnpm test` the suites of
 * every package share CI's two cores (seen: 1.1 s), so the suite allows 5 s; `pnpm fuzz` runs alone and keeps 1 s.
 */
const TIME_LIMIT_MS = fromCli ? 1000 : 5000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------------------
// A small, fast PRNG: murmur3's finalizer on the seed, then mulberry32, so neighbouring seeds give
// unrelated streams.

interface Rng {
  float(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
}

function rng(seed: number): Rng {
  let s = seed >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35);
  s ^= s >>> 16;
  const float = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(float() * n);
  return {
    float,
    int,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T,
    chance: (p) => float() < p,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(256)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Valid files to start from.

function build(header: string | Uint8Array, data: Uint8Array, length?: bigint): Uint8Array {
  const json = typeof header === 'string' ? encoder.encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const made = rng(1);
const seeds: readonly Uint8Array[] = [
  ...checkpointFixtures.checkpoints.map((c) => readFixtureBytes(c.file)),
  saveSafetensors({}),
  saveSafetensors({}, { format: 'pt' }),
  saveSafetensors(
    {
      s: Tensor.fromArray(new Float32Array([1]), []),
      e: Tensor.fromArray(new Float32Array(0), [0, 2]),
      w: Tensor.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
    },
    { format: 'pt' },
  ),
  build(
    JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1, 1], data_offsets: [4, 6] },
      d: { dtype: 'F64', shape: [], data_offsets: [6, 14] },
      z: { dtype: 'F64', shape: [3, 0], data_offsets: [14, 14] },
    }),
    made.bytes(14),
  ),
  // valid headers whose tensors do not load (I64, sub-byte F4): refused with the dtype named
  build(
    JSON.stringify({
      __metadata__: { note: 'not loadable' },
      q: { dtype: 'F4', shape: [2, 3], data_offsets: [0, 3] },
      i: { dtype: 'I64', shape: [1], data_offsets: [3, 11] },
    }),
    made.bytes(11),
  ),
];

// ---------------------------------------------------------------------------------------------------
// The header as a value to edit: JSON.parse's objects, with `Raw` where a mutation wants exact JSON text
// (numbers JSON.stringify cannot write: 1e400, -0, 1.0, NaN; or text that is not JSON at all).

class Raw {
  constructor(readonly text: string) {}
}
type Json = null | boolean | number | string | Raw | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function toJson(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${toJson(v[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `o[key] = value` as an own property, "__proto__" included. */
function setOwn(o: Obj, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Split {
  header: Obj;
  data: Uint8Array;
}

/** The file's header and data, when its length field fits and its header parses as an object. */
function split(file: Uint8Array): Split | null {
  if (file.length < 8) return null;
  const n = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(file.length - 8)) return null;
  const text = decoder.decode(file.subarray(8, 8 + Number(n)));
  if (maxDepth(text) > 8) return null; // toJson recurses
  try {
    const header: unknown = JSON.parse(text);
    return isObj(header) ? { header, data: file.subarray(8 + Number(n)) } : null;
  } catch {
    return null;
  }
}

const tensorKeys = (h: Obj): string[] => Object.keys(h).filter((k) => k !== '__metadata__');

/** A file from an edited header: the length right, or now and then wrong. */
function rebuild(r: Rng, header: string | Uint8Array, data: Uint8Array): Uint8Array {
  const json = typeof header === 'string' ? encoder.encode(header) : header;
  if (!r.chance(0.15)) return build(json, data);
  const wrong = r.chance(0.5) ? json.length + r.pick([-8, -2, -1, 1, 2, 8]) : r.int(2 * json.length + 16);
  return build(json, data, BigInt(Math.max(0, wrong)));
}

// ---------------------------------------------------------------------------------------------------
// Values that break a header in every way we can think of (and some that do not).

// the last ones are not JSON at all
const NUMBERS = (
  '0 -0 1 2 3 -1 0.5 1.0 1e2 1E2 2e0 -1e-400 1e-7 1e308 1e400 -1e400 4294967296 9007199254740991 ' +
  '9007199254740992 9007199254740993 18446744073709551615 18446744073709551616 1e21 ' +
  'NaN Infinity -Infinity 01 +1 0x10 .5 5. 1e undefined'
).split(' ');
const HUGE = [2 ** 53 - 1, 2 ** 53 - 2, 2 ** 40, 2 ** 32, 1e15, 2 ** 26, 3037000500];
const DTYPES = Object.keys(DTYPE_BITS);
const ODD_DTYPES = ['f32', 'float32', 'F8', 'F32 ', '', 'I64\u0000', '__metadata__', 'x'.repeat(300)];
const ODD_NAMES = [
  '',
  '__proto__',
  '__metadata__',
  'constructor',
  'toString',
  '0',
  'naïve 🙂',
  '\ud800',
  'a"b\\c',
];

const number = (r: Rng): Raw => new Raw(r.chance(0.5) ? String(r.int(5000) - 5) : r.pick(NUMBERS));

function longString(r: Rng): string {
  const n = r.chance(0.1) ? r.pick([65_536, 1 << 20]) : r.pick([81, 100, 1000, 10_000]);
  const unit = r.pick(['x', 'é', '🙂', '\\', '"', '\n', '\u0000', '\ud800']);
  return unit.repeat(Math.ceil(n / unit.length));
}

function deep(r: Rng): Raw {
  const d = r.pick([2, 3, 4, 5, 64, 1000, 100_000]);
  if (r.chance(0.5)) return new Raw(`${'['.repeat(d)}1${']'.repeat(d)}`);
  return new Raw(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`);
}

function nasty(r: Rng): Json {
  switch (r.int(10)) {
    case 0:
      return number(r);
    case 1:
      return new Raw(`[${Array.from({ length: r.int(6) }, () => number(r).text).join(',')}]`);
    case 2:
      return [...Array<number>(1 + r.int(30)).fill(r.pick(HUGE)), 0];
    case 3:
      return r.chance(0.7) ? r.pick(DTYPES) : r.pick(ODD_DTYPES);
    case 4:
      return [r.int(4000), r.int(4000)];
    case 5:
      return r.pick<Json>([null, true, false, {}, [], [[1]], { a: { b: 1 } }, '{', '', [0, 0], [-0]]);
    case 6:
      return deep(r);
    case 7:
      return longString(r);
    case 8:
      return Array.from({ length: r.int(6) }, () => r.int(600) - 2);
    default:
      return Array.from({ length: r.int(5) }, () => r.pick([0, 1, 2 ** 26, 2 ** 40, 2 ** 53 - 1]));
  }
}

// ---------------------------------------------------------------------------------------------------
// Mutations. Byte-level ones work on anything; header edits parse the header and, when an earlier
// mutation left it unparsable, fall back to overwriting bytes.

type Mutation = (r: Rng, file: Uint8Array) => Uint8Array;

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const BYTES = [0x00, 0xff, 0x7f, 0x80, 0xc0, 0xed, ...encoder.encode('{}[]"\\,:09-.eE ')];

/** A position, 3 times in 4 inside the length field and the header, where most of the parsing is. */
function position(r: Rng, file: Uint8Array): number {
  const n = file.length < 8 ? 0 : Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const headerEnd = n <= file.length - 8 ? 8 + n : Math.min(file.length, 4096);
  return r.int(Math.max(1, r.chance(0.75) ? headerEnd : file.length));
}

const flipBits: Mutation = (r, file) => {
  const out = file.slice();
  if (out.length === 0) return out;
  for (let n = 1 + r.int(8); n > 0; n--) {
    const p = position(r, out) % out.length;
    out[p] = (out[p] as number) ^ (1 << r.int(8));
  }
  return out;
};

const overwriteBytes: Mutation = (r, file) => {
  const out = file.slice();
  if (out.length === 0) return out;
  for (let n = 1 + r.int(6); n > 0; n--) {
    out[position(r, out) % out.length] = r.chance(0.5) ? r.pick(BYTES) : r.int(256);
  }
  return out;
};

const truncate: Mutation = (r, file) => {
  const at = r.pick([r.int(17), position(r, file), r.int(file.length + 1), file.length - 1 - r.int(8)]);
  return file.slice(0, Math.max(0, Math.min(file.length, at)));
};

const extend: Mutation = (r, file) => {
  const n = r.pick([1, 2, 3, 4, 7, 8, 64, 1 + r.int(512)]);
  const tail = r.pick([new Uint8Array(n), r.bytes(n), new Uint8Array(n).fill(0x20)]);
  return concat(file, tail);
};

const splice: Mutation = (r, file) => {
  const other = r.pick(seeds);
  const cut = r.int(file.length + 1);
  return concat(file.subarray(0, cut), r.bytes(r.int(24)), other.subarray(r.int(other.length + 1)));
};

const lengthField: Mutation = (r, file) => {
  const out = file.length >= 8 ? file.slice() : concat(file, new Uint8Array(8 - file.length));
  const view = new DataView(out.buffer);
  const n = view.getBigUint64(0, true);
  const choices = [
    (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32)),
    BigInt(r.int(4097)),
    n + BigInt(r.int(17)) - 8n,
    2n ** 64n - 1n,
    2n ** 63n,
    2n ** 53n + 1n,
    100_000_000n,
    100_000_001n,
    BigInt(out.length - 8),
  ];
  view.setBigUint64(0, BigInt.asUintN(64, r.pick(choices)), true);
  return out;
};

/** Inserts or deletes bytes inside the header, leaving the length field as it was. */
const shiftHeader: Mutation = (r, file) => {
  const at = Math.min(file.length, 8 + r.int(Math.max(1, position(r, file) - 7)));
  if (r.chance(0.5)) return concat(file.subarray(0, at), file.subarray(at + 1 + r.int(16)));
  return concat(file.subarray(0, at), r.bytes(1 + r.int(16)), file.subarray(at));
};

/** Invalid or surprising UTF-8 in the header: lone bytes, overlong forms, surrogates, a BOM, NUL. */
const unicode: Mutation = (r, file) => {
  const parts = split(file);
  if (!parts) return overwriteBytes(r, file);
  const json = encoder.encode(toJson(parts.header));
  const bad = r.pick<number[]>([
    [0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xef, 0xbb, 0xbf],
    [0],
    [0xe2, 0x82],
    [0xf4, 0x90, 0x80, 0x80],
  ]);
  const at = r.int(json.length + 1);
  return rebuild(r, concat(json.subarray(0, at), bad, json.subarray(at)), parts.data);
};

/** Header edits: parse, change, write back with the length right (mostly). */
function headerEdit(edit: (r: Rng, parts: Split) => string | undefined): Mutation {
  return (r, file) => {
    const parts = split(file);
    if (!parts) return overwriteBytes(r, file);
    const text = edit(r, parts) ?? toJson(parts.header);
    return rebuild(r, text, parts.data);
  };
}

/** A tensor entry to edit: an existing one, or a new valid one appended at the end of the data. */
function entryOf(r: Rng, parts: Split): Obj {
  const keys = tensorKeys(parts.header).filter((k) => isObj(parts.header[k]));
  if (keys.length > 0 && r.chance(0.9)) return parts.header[r.pick(keys)] as Obj;
  const end = parts.data.length;
  const entry: Obj = { dtype: 'F32', shape: [1], data_offsets: [end, end + 4] };
  setOwn(parts.header, r.chance(0.5) ? 'added' : r.pick(ODD_NAMES), entry);
  parts.data = concat(parts.data, r.bytes(4));
  return entry;
}

/**
 * Gives every tensor the byte range its dtype and shape need, back to back, with fresh data: so that
 * shapes which are odd yet maybe valid (a 0 after huge dimensions, -0, 1e2) reach the loader itself.
 * Counts elements the permissive way (any 0 dimension gives 0), so that the header decides.
 */
function relayout(r: Rng, parts: Split): void {
  const sizes: [Obj, number][] = [];
  for (const key of tensorKeys(parts.header)) {
    const e = parts.header[key];
    if (!isObj(e) || typeof e.dtype !== 'string' || !isDtype(e.dtype) || !Array.isArray(e.shape)) return;
    const dims = e.shape;
    if (!dims.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return;
    const numel = dims.includes(0) ? 0n : dims.reduce<bigint>((n, d) => n * BigInt(d as number), 1n);
    const bits = numel * BigInt(DTYPE_BITS[e.dtype]);
    if (bits % 8n !== 0n || bits > 8n << 20n) return;
    sizes.push([e, Number(bits / 8n)]);
  }
  let offset = 0;
  for (const [e, n] of sizes) {
    e.data_offsets = [offset, offset + n];
    offset += n;
  }
  parts.data = r.bytes(offset);
}

const editField = headerEdit((r, parts) => {
  const field = r.pick(['dtype', 'shape', 'data_offsets', 'data_offsets', 'shape', 'extra', '__proto__']);
  setOwn(entryOf(r, parts), field, nasty(r));
  return undefined;
});

const editShape = headerEdit((r, parts) => {
  const e = entryOf(r, parts);
  const shape = Array.isArray(e.shape) ? [...e.shape] : [];
  const i = r.int(shape.length + 1);
  switch (r.int(10)) {
    // 3 times in 10, huge dimensions, then a 0: ∞ · 0 is NaN in a float product
    case 0:
    case 8:
    case 9:
      e.shape = [
        ...Array<number>(r.pick([1, 2, 3, 20, 21, 25, 40])).fill(r.pick(HUGE)),
        0,
        ...(r.chance(0.3) ? [3] : []),
      ];
      break;
    case 1:
      shape.splice(i, 0, 0);
      e.shape = shape;
      break;
    case 2:
      shape.splice(i, 0, r.pick(HUGE));
      e.shape = shape;
      break;
    case 3:
      e.shape = shape.map((d) => (typeof d === 'number' && r.chance(0.5) ? d * r.pick([0, 2, 3, 1024]) : d));
      break;
    case 4:
      e.shape = r.chance(0.5) ? shape.slice(1) : [1, ...shape, 1];
      break;
    case 5:
      e.shape = Array<number>(r.pick([32, 64, 1000, 100_000])).fill(1);
      break;
    case 6: {
      const texts = shape.map((d) => toJson(d));
      texts.splice(i, r.chance(0.5) ? 1 : 0, number(r).text);
      e.shape = new Raw(`[${texts.join(',')}]`);
      break;
    }
    default:
      e.shape = [0, ...Array<number>(1 + r.int(30)).fill(r.pick(HUGE))];
  }
  if (r.chance(0.8)) relayout(r, parts);
  return undefined;
});

const editOffsets = headerEdit((r, parts) => {
  const e = entryOf(r, parts);
  const [b = 0, end = 0] = Array.isArray(e.data_offsets) ? (e.data_offsets as number[]) : [];
  const k = r.pick([1, 2, 4, 8, 1024]);
  const others = tensorKeys(parts.header).map((key) => parts.header[key]);
  const other = r.pick(others);
  e.data_offsets = r.pick<Json>([
    [end, b],
    [b + k, end + k],
    [b - k, end],
    [b, end + k],
    [b, 2 ** 53 - 1],
    [b, 2 ** 53],
    [2 ** 53 - 1, 2 ** 53 - 1],
    [b, end, end],
    [b],
    isObj(other) ? (other.data_offsets ?? null) : null,
    new Raw(`[${number(r).text},${number(r).text}]`),
    new Raw(`[${b}.0,${end}]`),
  ]);
  return undefined;
});

const editDtype = headerEdit((r, parts) => {
  entryOf(r, parts).dtype = r.chance(0.85) ? r.pick(DTYPES) : r.pick(ODD_DTYPES);
  if (r.chance(0.6)) relayout(r, parts);
  return undefined;
});

const editMetadata = headerEdit((r, parts) => {
  const h = parts.header;
  const choice = r.int(6);
  if (choice === 0) {
    delete h.__metadata__;
  } else if (choice === 1) {
    setOwn(h, '__metadata__', r.pick<Json>([null, [], 'pt', 1, { k: 1 }, { k: {} }, { k: null }]));
  } else if (choice === 2) {
    setOwn(h, '__metadata__', deep(r));
  } else {
    const meta: Obj = isObj(h.__metadata__) ? h.__metadata__ : {};
    setOwn(
      meta,
      r.chance(0.7) ? r.pick(['format', 'k', '__proto__', '']) : longString(r),
      r.chance(0.8) ? longString(r) : nasty(r),
    );
    setOwn(h, '__metadata__', meta);
  }
  return undefined;
});

/** Tensors removed, added, renamed or reordered. */
const editEntries = headerEdit((r, parts) => {
  const h = parts.header;
  const keys = tensorKeys(h);
  const key = keys.length > 0 ? r.pick(keys) : undefined;
  switch (r.int(4)) {
    case 0:
      if (key !== undefined) delete h[key];
      break;
    case 1:
      entryOf(r, { header: h, data: parts.data }); // may leave the data one tensor short
      break;
    case 2: {
      if (key === undefined) break;
      const renamed: Obj = {};
      const name = r.chance(0.7) ? r.pick(ODD_NAMES) : longString(r);
      for (const k of Object.keys(h)) setOwn(renamed, k === key ? name : k, h[k] as Json);
      return toJson(renamed);
    }
    default: {
      const reordered: Obj = {};
      for (const k of Object.keys(h).reverse()) setOwn(reordered, k, h[k] as Json);
      return toJson(reordered);
    }
  }
  return undefined;
});

/** The same key twice: a tensor, an escaped spelling of it, a field, a metadata key. */
const duplicate = headerEdit((r, parts) => {
  const text = toJson(parts.header);
  const keys = Object.keys(parts.header);
  if (keys.length === 0) return `{"a":1,"a":1}`;
  const a = r.pick(keys);
  const entry = parts.header[a] as Json;
  switch (r.int(5)) {
    case 0:
      return text.replace(JSON.stringify(a), JSON.stringify(r.pick(keys)));
    case 1:
      return `${text.slice(0, -1)},${JSON.stringify(a)}:${toJson(entry)}}`;
    case 2: {
      // the same name spelled with \u escapes, which JSON.parse reads as the same key
      const units = Array.from({ length: a.length }, (_, i) => a.charCodeAt(i));
      const escaped = units.map((u) => `\\u${u.toString(16).padStart(4, '0')}`).join('');
      return `${text.slice(0, -1)},"${escaped}":${toJson(entry)}}`;
    }
    case 3:
      return text.replace(
        `"${r.pick(['dtype', 'shape', 'data_offsets'])}":`,
        (m) => `${m}${r.pick(['"F32"', '[1]', '[0,4]'])},${m}`,
      );
    default:
      return text.replace('"__metadata__":{', '"__metadata__":{"k":"1","k":"2",');
  }
});

/** Deep nesting in place of a value, or opening brackets spliced into the text. */
const nest = headerEdit((r, parts) => {
  if (r.chance(0.3)) {
    const text = toJson(parts.header);
    const at = r.int(text.length + 1);
    return text.slice(0, at) + r.pick(['[', '{"a":']).repeat(r.pick([4, 100, 100_000])) + text.slice(at);
  }
  const e = entryOf(r, parts);
  setOwn(e, r.pick(['shape', 'data_offsets', 'dtype', 'extra']), deep(r));
  return undefined;
});

const longStrings = headerEdit((r, parts) => {
  const e = entryOf(r, parts);
  if (r.chance(0.5)) e.dtype = longString(r);
  else setOwn(e, longString(r), 1);
  return undefined;
});

const PUNCTUATION = [...'{}[]",:\\ \t\n\u0000\uFEFF', '🙂', '"a":'];

const punctuation = headerEdit((r, parts) => {
  let text = toJson(parts.header);
  for (let n = 1 + r.int(4); n > 0; n--) {
    const at = r.int(text.length + 1);
    text = text.slice(0, at) + r.pick(PUNCTUATION) + text.slice(at);
  }
  return text;
});

/** Whitespace around the JSON: trailing padding is valid (the reference pads with spaces), leading is not. */
const whitespace = headerEdit((r, parts) => {
  const pad = r.pick([' ', '\t', '\n', '\r\n', '\u00a0']).repeat(1 + r.int(9));
  return r.chance(0.7) ? toJson(parts.header) + pad : pad + toJson(parts.header);
});

const MUTATIONS: Readonly<Record<string, Mutation>> = {
  flipBits,
  overwriteBytes,
  truncate,
  extend,
  splice,
  lengthField,
  shiftHeader,
  unicode,
  editField,
  editShape,
  editOffsets,
  editDtype,
  editMetadata,
  editEntries,
  duplicate,
  nest,
  longStrings,
  punctuation,
  whitespace,
};
const NAMES = Object.keys(MUTATIONS);

/** Mutant `seed`: a valid file and the 1–4 mutations applied to it, in order. */
function mutant(seed: number): { bytes: Uint8Array; steps: string[] } {
  const r = rng(seed);
  let bytes = r.pick(seeds);
  const steps: string[] = [];
  for (let n = r.pick([1, 1, 1, 1, 2, 2, 3, 4]); n > 0; n--) {
    const name = r.pick(NAMES);
    steps.push(name);
    bytes = (MUTATIONS[name] as Mutation)(r, bytes);
  }
  return { bytes, steps };
}

// ---------------------------------------------------------------------------------------------------
// The property.

type Outcome = { loaded: Record<string, Tensor> } | { refused: SafetensorsError };

/**
 * Loads `bytes`; returns what happened and how long `loadSafetensors` took (the checks after it are not
 * timed), or throws an Error describing how that broke the contract.
 */
function loadsOrRefuses(bytes: Uint8Array): Outcome & { ms: number } {
  let header: ReturnType<typeof readSafetensorsHeader> | null = null;
  try {
    header = readSafetensorsHeader(bytes);
  } catch (e) {
    refusal(e, 'readSafetensorsHeader');
  }
  let loaded: Record<string, Tensor>;
  const start = performance.now();
  try {
    loaded = loadSafetensors(bytes);
  } catch (e) {
    const ms = performance.now() - start;
    const error = refusal(e, 'loadSafetensors');
    // a header that reads fine only fails to load for its dtype
    if (header && !/^dtype \w+ cannot be loaded/.test(error.detail)) {
      throw new Error(
        `readSafetensorsHeader accepted the file but loadSafetensors refused it: ${error.message}`,
      );
    }
    return { refused: error, ms };
  }
  const ms = performance.now() - start;
  if (!header) throw new Error('loadSafetensors accepted a file readSafetensorsHeader refused');
  if (Object.getPrototypeOf(loaded) !== Object.prototype)
    throw new Error('the state dict is not a plain object');
  const names = Object.keys(loaded);
  if (names.length !== header.tensors.length) {
    throw new Error(`loaded ${names.length} tensors, the header lists ${header.tensors.length}`);
  }
  for (const info of header.tensors) {
    const t = Object.getOwnPropertyDescriptor(loaded, info.name)?.value as unknown;
    if (!(t instanceof Tensor))
      throw new Error(`tensor ${JSON.stringify(info.name)} is missing or not a Tensor`);
    if (t.shape.join() !== info.shape.join() || t.dataSync().length !== numelOf(t.shape)) {
      throw new Error(
        `tensor ${JSON.stringify(info.name)} has shape [${t.shape}] and ${t.dataSync().length} values`,
      );
    }
  }
  // whatever loads saves and loads back bit for bit (unless a name cannot be written: a lone surrogate)
  const writable = [...names, ...Object.entries(header.metadata).flat()].every(isWellFormed);
  if (writable) {
    const again = loadSafetensors(saveSafetensors(loaded, header.metadata));
    for (const name of names) {
      const a = new Uint32Array((loaded[name] as Tensor).dataSync().buffer);
      const b = new Uint32Array((again[name] as Tensor).dataSync().buffer);
      if (a.length !== b.length || a.some((x, i) => x !== b[i]))
        throw new Error(`tensor ${name} changed on a round trip`);
    }
  }
  return { loaded, ms };
}

function refusal(e: unknown, by: string): SafetensorsError {
  if (!(e instanceof SafetensorsError)) {
    const what = e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : String(e);
    throw new Error(`${by} threw ${what}, not a SafetensorsError`, { cause: e });
  }
  if (!e.message.startsWith('safetensors: ') || e.message.length > 1000) {
    throw new Error(
      `${by} threw a malformed message (${e.message.length} characters): ${e.message.slice(0, 300)}`,
    );
  }
  return e;
}

interface Failure {
  seed: number;
  steps: string[];
  problem: string;
}

interface Report {
  seed: number;
  runs: number;
  loaded: number;
  refused: number;
  ms: number;
  /** The mutant `loadSafetensors` took longest on. */
  slowest: { seed: number; ms: number };
  /** Per mutation: the mutants it was part of, how many of them loaded, their time (built and checked). */
  mutations: Record<string, { runs: number; loaded: number; ms: number }>;
  failures: Failure[];
}

/** Mutants `seed` … `seed + runs − 1`; stops collecting failures after 20. */
function fuzz(seed: number, runs: number): Report {
  const report: Report = {
    seed,
    runs,
    loaded: 0,
    refused: 0,
    ms: 0,
    slowest: { seed, ms: 0 },
    mutations: Object.fromEntries(NAMES.map((n) => [n, { runs: 0, loaded: 0, ms: 0 }])),
    failures: [],
  };
  const start = performance.now();
  for (let i = 0; i < runs && report.failures.length < 20; i++) {
    const s = (seed + i) >>> 0;
    let steps: string[] = [];
    let outcome: Outcome & { ms: number };
    const built = performance.now();
    try {
      const m = mutant(s);
      steps = m.steps;
      outcome = loadsOrRefuses(m.bytes);
    } catch (e) {
      report.failures.push({ seed: s, steps, problem: (e as Error).message });
      continue;
    }
    const { ms } = outcome;
    if (ms > report.slowest.ms) report.slowest = { seed: s, ms };
    if (ms > TIME_LIMIT_MS) {
      report.failures.push({ seed: s, steps, problem: `loadSafetensors took ${ms.toFixed(0)} ms` });
    }
    const loaded = 'loaded' in outcome;
    if (loaded) report.loaded++;
    else report.refused++;
    for (const step of new Set(steps)) {
      const m = report.mutations[step] as { runs: number; loaded: number; ms: number };
      m.runs++;
      m.ms += performance.now() - built;
      if (loaded) m.loaded++;
    }
  }
  report.ms = performance.now() - start;
  return report;
}

const describeFailure = (f: Failure): string =>
  `mutant seed ${f.seed} (${f.steps.join(' → ')}): ${f.problem}\n  replay: pnpm fuzz -- --seed=${f.seed} --runs=1`;

describe('fuzzing loadSafetensors with mutated files', () => {
  it(
    `loads or refuses ${RUNS} mutants of seed ${SEED}, each within ${TIME_LIMIT_MS} ms`,
    async () => {
      const report = fuzz(SEED, RUNS);
      if (REPORT) await writeFile(REPORT, JSON.stringify(report));
      expect(report.failures.map(describeFailure)).toEqual([]);
      if (fromCli) return;
      // a fuzz whose mutants all fail (or all pass) early tests little: keep both kinds frequent
      expect(report.refused).toBeGreaterThan(RUNS / 2);
      expect(report.loaded).toBeGreaterThan(RUNS / 20);
      for (const [name, m] of Object.entries(report.mutations)) {
        expect(m.runs, name).toBeGreaterThan(RUNS / 40);
      }
      console.info(
        `safetensors fuzz: ${RUNS} mutants of seed ${SEED} in ${report.ms.toFixed(0)} ms: ${report.loaded} loaded, ` +
          `${report.refused} refused; slowest ${report.slowest.ms.toFixed(1)} ms (seed ${report.slowest.seed})`,
      );
    },
    Math.max(60_000, RUNS * 20),
  );

  it('replays a mutant from its seed alone', () => {
    const a = mutant(SEED + 17);
    expect(mutant(SEED + 17)).toEqual(a);
    expect(fuzz(SEED + 17, 1).runs).toBe(1);
  });

  it('holds for a shape of ∞ · 0 elements, and fails for an error that is not a SafetensorsError', () => {
    const nanShape = build(
      JSON.stringify({
        w: { dtype: 'F32', shape: [...Array(24).fill(2 ** 53 - 1), 0], data_offsets: [0, 0] },
      }),
      new Uint8Array(0),
    );
    expect(() => loadsOrRefuses(nanShape)).not.toThrow();
    expect(() => refusal(new RangeError('x'), 'loadSafetensors')).toThrow(
      'loadSafetensors threw RangeError: x, not a SafetensorsError',
    );
  });
});

describe('fuzzing loadSafetensorsFile with mutated files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recurrent-safetensors-fuzz-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(fromCli)('reads each mutant from disk as loadSafetensors reads its bytes', async () => {
    const path = join(dir, 'mutant.safetensors');
    for (let i = 0; i < 300; i++) {
      const { bytes, steps } = mutant((SEED + 1_000_000 + i) >>> 0);
      await writeFile(path, bytes);
      const fromFile = await loadSafetensorsFile(path).then(
        (loaded) => ({ loaded }),
        (e: unknown) => ({ error: e }),
      );
      let fromBytes: Outcome;
      try {
        fromBytes = { loaded: loadSafetensors(bytes) };
      } catch (e) {
        fromBytes = { refused: e as SafetensorsError };
      }
      const where = `mutant seed ${(SEED + 1_000_000 + i) >>> 0} (${steps.join(' → ')})`;
      if ('refused' in fromBytes) {
        expect('error' in fromFile ? fromFile.error : fromFile, where).toBeInstanceOf(SafetensorsError);
        expect('error' in fromFile ? (fromFile.error as SafetensorsError).file : null, where).toBe(path);
      } else {
        expect('loaded' in fromFile ? Object.keys(fromFile.loaded) : fromFile, where).toEqual(
          Object.keys(fromBytes.loaded),
        );
      }
    }
  });
});

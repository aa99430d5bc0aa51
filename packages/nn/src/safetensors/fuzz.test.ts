// Thousands of mutated files: loading each either returns well-formed tensors or throws a
// SafetensorsError, never another error, never an out-of-bounds read, never a hang.
import { numelOf, Tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointFixtures, readFixtureBytes } from '../../../../fixtures/load.js';
import { SafetensorsError } from './errors.js';
import { readSafetensorsHeader } from './header.js';
import { loadSafetensors } from './load.js';
import { saveSafetensors } from './save.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Valid files to mutate: PyTorch's (every dtype, with metadata) and small hand-made ones. */
const seeds: Uint8Array[] = [
  ...checkpointFixtures.checkpoints.map((c) => readFixtureBytes(c.file)),
  saveSafetensors({}),
  saveSafetensors(
    {
      s: Tensor.fromArray(new Float32Array([1]), []),
      e: Tensor.fromArray(new Float32Array(0), [0, 2]),
      w: Tensor.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
    },
    { format: 'pt' },
  ),
];

function build(header: string, data: Uint8Array, length?: bigint): Uint8Array {
  const json = encoder.encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function split(file: Uint8Array): { header: string; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: decoder.decode(file.subarray(8, 8 + n)), data: file.subarray(8 + n) };
}

const outcomes = { loaded: 0, refused: 0 };

/** The property every mutated file must satisfy. */
function loadsOrRefuses(file: Uint8Array): void {
  let loaded: Record<string, Tensor>;
  try {
    loaded = loadSafetensors(file);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    expect(e.message.startsWith('safetensors: ')).toBe(true);
    outcomes.refused++;
    return;
  }
  outcomes.loaded++;
  const header = readSafetensorsHeader(file);
  expect(Object.keys(loaded).length).toBe(header.tensors.length);
  for (const t of Object.values(loaded)) {
    expect(t).toBeInstanceOf(Tensor);
    expect(t.dataSync().length).toBe(numelOf(t.shape));
  }
  // whatever loads, saves and loads back the same
  const again = loadSafetensors(saveSafetensors(loaded, header.metadata));
  for (const [k, t] of Object.entries(loaded)) {
    expect(new Uint32Array((again[k] as Tensor).dataSync().buffer)).toEqual(
      new Uint32Array(t.dataSync().buffer),
    );
  }
}

const seed = fc.constantFrom(...seeds);
const byte = fc.integer({ min: 0, max: 255 });

/** JSON values that break a header entry in every way we can think of (and some that do not). */
const nasty = fc.oneof(
  fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'F4', 'F6_E2M3', 'BOOL', 'f32', '', '__metadata__'),
  fc.integer({ min: -5, max: 5000 }),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, -1, 0.5, 1e308, -0),
  fc.array(fc.integer({ min: -2, max: 600 }), { maxLength: 4 }),
  fc.array(fc.constantFrom(0, 1, 2 ** 26, 2 ** 40, 2 ** 53 - 1), { maxLength: 5 }),
  // dimensions that are wrong yet multiply to a plausible size: [-1, -3], [0.5, 6]
  fc.array(fc.constantFrom(-1, -3, 0.5, 1.5, 2, 3, 6, -0), { maxLength: 4 }),
  fc.tuple(fc.nat(4000), fc.nat(4000)),
  fc.constantFrom(null, true, {}, [], [[1]], { a: { b: 1 } }, '{'),
);

describe('fuzzing loadSafetensors with mutated files', () => {
  afterAll(() => {
    // a fuzz whose mutants all fail (or all pass) early would test little; keep both kinds frequent
    expect(outcomes.refused).toBeGreaterThan(1000);
    expect(outcomes.loaded).toBeGreaterThan(100);
    console.info(`safetensors fuzz: ${outcomes.loaded} mutants loaded, ${outcomes.refused} refused`);
  });

  it('survives random byte overwrites, mostly in the header', () => {
    const edits = fc.array(fc.tuple(fc.nat(), byte, fc.boolean()), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(seed, edits, (file, changes) => {
        const out = file.slice();
        const headerEnd = Math.min(out.length, 8 + split(file).header.length);
        for (const [pos, value, inHeader] of changes) out[pos % (inHeader ? headerEnd : out.length)] = value;
        loadsOrRefuses(out);
      }),
      { numRuns: 2000 },
    );
  });

  it('survives truncation, extension and splicing', () => {
    const cut = fc.tuple(seed, seed, fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 24 }));
    fc.assert(
      fc.property(cut, ([a, b, i, j, noise]) => {
        loadsOrRefuses(a.subarray(0, i % (a.length + 1)));
        const joined = new Uint8Array([
          ...a.subarray(0, i % (a.length + 1)),
          ...noise,
          ...b.subarray(j % (b.length + 1)),
        ]);
        loadsOrRefuses(joined);
        loadsOrRefuses(new Uint8Array([...a, ...noise]));
      }),
      { numRuns: 1000 },
    );
  });

  it('survives any header length field', () => {
    const length = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 4096n }));
    fc.assert(
      fc.property(seed, length, (file, n) => {
        const out = file.slice();
        new DataView(out.buffer).setBigUint64(0, n, true);
        loadsOrRefuses(out);
      }),
      { numRuns: 1000 },
    );
  });

  it('survives rewritten header fields, with the length kept right or made wrong', () => {
    const field = fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra');
    const rewrite = fc.tuple(seed, fc.nat(), field, nasty, fc.integer({ min: -3, max: 3 }), fc.nat(16));
    fc.assert(
      fc.property(rewrite, ([file, which, name, value, lengthError, grow]) => {
        const { header, data } = split(file);
        const parsed = JSON.parse(header) as Record<string, Record<string, unknown>>;
        const keys = Object.keys(parsed);
        const key = keys[which % Math.max(1, keys.length)];
        if (key !== undefined) parsed[key] = { ...parsed[key], [name]: value };
        else parsed.w = { dtype: 'F32', shape: [1], data_offsets: [0, 4], [name]: value };
        const text = JSON.stringify(parsed);
        const body = new Uint8Array(data.length + (grow % 2 ? grow : 0));
        body.set(data);
        loadsOrRefuses(build(text, body));
        loadsOrRefuses(build(text, body, BigInt(Math.max(0, encoder.encode(text).length + lengthError))));
      }),
      { numRuns: 1500 },
    );
  });

  it('survives JSON punctuation spliced into the header text, keys duplicated and renamed', () => {
    const punctuation = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      '\\',
      ',',
      ':',
      ' ',
      '\u0000',
      '\uFEFF',
      '🙂',
      '"a":',
    );
    fc.assert(
      fc.property(
        seed,
        fc.array(fc.tuple(fc.nat(), punctuation), { minLength: 1, maxLength: 4 }),
        (file, inserts) => {
          const { header, data } = split(file);
          let text = header.trimEnd();
          for (const [pos, s] of inserts) {
            const at = pos % (text.length + 1);
            text = text.slice(0, at) + s + text.slice(at);
          }
          loadsOrRefuses(build(text, data));
        },
      ),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(seed, fc.nat(), fc.nat(), (file, i, j) => {
        const { header, data } = split(file);
        const keys = Object.keys(JSON.parse(header) as object);
        if (keys.length < 2) return;
        const a = keys[i % keys.length] as string;
        const b = keys[j % keys.length] as string;
        // rename one key to another: a duplicate key, or (a === b) the file unchanged
        loadsOrRefuses(build(header.replace(JSON.stringify(a), JSON.stringify(b)), data));
      }),
      { numRuns: 500 },
    );
  });
});

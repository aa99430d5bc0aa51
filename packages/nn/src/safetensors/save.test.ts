import { CpuStorage, reshape, type Storage, Tensor, tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from './errors.js';
import { readSafetensorsHeader } from './header.js';
import { loadSafetensors } from './load.js';
import { compareCodePoints, saveSafetensors } from './save.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const le32 = (values: number[]): number[] => [...new Uint8Array(new Float32Array(values).buffer)];
const u64 = (n: number): number[] => [n, 0, 0, 0, 0, 0, 0, 0];

describe('saveSafetensors', () => {
  // the byte strings the reference implementation's own tests expect (safetensors/src/tensor.rs)
  it('writes what the reference implementation writes', () => {
    const attn = tensor([0, 1, 2, 3, 4, 5]);
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect([...saveSafetensors({ 'attn.0': reshape(attn, [1, 2, 3]) })]).toEqual([
      ...u64(64),
      ...ascii(header),
      ...le32([0, 1, 2, 3, 4, 5]),
    ]);
    const aligned = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ';
    expect([...saveSafetensors({ attn0: reshape(attn, [1, 1, 2, 3]) })]).toEqual([
      ...u64(72),
      ...ascii(aligned),
      ...le32([0, 1, 2, 3, 4, 5]),
    ]);
    expect([...saveSafetensors({})]).toEqual([...u64(8), ...ascii('{}      ')]);
    expect([...saveSafetensors({}, { framework: 'pt' })]).toEqual([
      ...u64(40),
      ...ascii('{"__metadata__":{"framework":"pt"}}     '),
    ]);
  });

  it('sorts tensors and metadata keys by code point, as Rust sorts strings, whatever the insertion order', () => {
    const t = tensor([1]);
    const names = ['b', 'a.2', '\u{1F600}', 'a.10', '\uFF01', 'B', 'a'];
    const bytes = saveSafetensors(new Map(names.map((n) => [n, t])), {
      z: '1',
      a: '2',
      '\u{1F600}': '3',
      '\uFF01': '4',
    });
    const text = new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    );
    const header = JSON.parse(text);
    expect(Object.keys(header.__metadata__)).toEqual(['a', 'z', '\uFF01', '\u{1F600}']);
    expect(readSafetensorsHeader(bytes).tensors.map((x) => x.name)).toEqual([
      'B',
      'a',
      'a.10',
      'a.2',
      'b',
      '\uFF01',
      '\u{1F600}',
    ]);
    expect(text.startsWith('{"__metadata__":{"a":"2","z":"1","\uFF01":"4","\u{1F600}":"3"},"B":')).toBe(true);
    expect(compareCodePoints('\uFF01', '\u{1F600}')).toBeLessThan(0);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
  });

  it('writes no __metadata__ for empty metadata, and scalars and empty tensors as they are', () => {
    const bytes = saveSafetensors({ s: tensor(3), e: Tensor.fromArray(new Float32Array(0), [2, 0]) }, {});
    const header = readSafetensorsHeader(bytes);
    expect(header.metadata).toEqual({});
    expect(header.tensors).toEqual([
      { name: 'e', dtype: 'F32', shape: [2, 0], dataOffsets: [0, 0] },
      { name: 's', dtype: 'F32', shape: [], dataOffsets: [0, 4] },
    ]);
    expect(loadSafetensors(bytes).s?.item()).toBe(3);
  });

  const names = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => s !== '__metadata__');
  const tensors = fc.dictionary(
    names,
    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((shape) =>
      fc
        .float32Array({
          minLength: shape.reduce((a, b) => a * b, 1),
          maxLength: shape.reduce((a, b) => a * b, 1),
        })
        .map((data) => Tensor.fromArray(data, shape)),
    ),
    { maxKeys: 6 },
  );

  it('round-trips any tensors and metadata bit for bit, with the data 8-byte aligned', () => {
    fc.assert(
      fc.property(
        tensors,
        fc.dictionary(names, fc.string({ unit: 'grapheme' }), { maxKeys: 3 }),
        (dict, metadata) => {
          const bytes = saveSafetensors(dict, metadata);
          const header = readSafetensorsHeader(bytes);
          expect(header.dataStart % 8).toBe(0);
          expect(header.metadata).toEqual(metadata);
          const loaded = loadSafetensors(bytes);
          expect(Object.keys(loaded).sort()).toEqual(Object.keys(dict).sort());
          for (const [name, t] of Object.entries(dict)) {
            const got = loaded[name] as Tensor;
            expect(got.shape).toEqual(t.shape);
            expect(new Uint32Array(got.dataSync().buffer)).toEqual(
              new Uint32Array(t.dataSync().slice().buffer),
            );
          }
          expect(saveSafetensors(loaded, header.metadata)).toEqual(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  class GpuStorage implements Storage {
    readonly device = 'webgpu';
    readonly length = 2;
    read(): Promise<Float32Array> {
      return Promise.resolve(new Float32Array(2));
    }
    readSync(): Float32Array {
      throw new Error('async only');
    }
    dispose(): void {}
  }

  it.each<[string, () => Uint8Array, string]>([
    [
      'a value that is not a tensor',
      () => saveSafetensors({ w: [1, 2] as unknown as Tensor }),
      'tensor "w": expected a Tensor, found an array',
    ],
    [
      'a tensor on the GPU',
      () => saveSafetensors({ w: new Tensor(new GpuStorage(), [2]) }),
      `tensor "w": shape [2] is on 'webgpu': read it back (await t.data()) and pass a CPU tensor`,
    ],
    [
      'a tensor named __metadata__',
      () => saveSafetensors({ __metadata__: tensor([1]) }),
      '"__metadata__" is reserved for the metadata and cannot name a tensor',
    ],
    [
      'a name with a lone surrogate',
      () => saveSafetensors({ 'w\uD800': tensor([1]) }),
      'tensor "w\\ud800": the name holds a lone surrogate, which UTF-8 cannot encode',
    ],
    [
      'a Map key that is not a string',
      () => saveSafetensors(new Map([[1 as unknown as string, tensor([1])]])),
      'tensor names must be strings, found a number',
    ],
    [
      'a metadata value that is not a string',
      () => saveSafetensors({}, { epoch: 3 as unknown as string }),
      'metadata key "epoch" must map to a string, found a number',
    ],
    [
      'metadata with a lone surrogate',
      () => saveSafetensors({}, { k: '\uDC00' }),
      'metadata key "k" holds a lone surrogate, which UTF-8 cannot encode',
    ],
    [
      'metadata that is an array',
      () => saveSafetensors({}, ['pt'] as unknown as Record<string, string>),
      'metadata must be a Record of strings, received an array',
    ],
    [
      'no tensors at all',
      () => saveSafetensors(null as unknown as Record<string, Tensor>),
      'expected a Record or Map of name → Tensor, received null',
    ],
  ])('refuses %s', (_, save, message) => {
    expect(save).toThrow(SafetensorsError);
    expect(save).toThrow(`safetensors: ${message}`);
  });

  it('writes CPU tensors whatever storage subclass holds them', () => {
    class Tracked extends CpuStorage {}
    const bytes = saveSafetensors({ w: new Tensor(new Tracked(new Float32Array([1, 2])), [2]) });
    expect(loadSafetensors(bytes).w?.tolist()).toEqual([1, 2]);
  });
});

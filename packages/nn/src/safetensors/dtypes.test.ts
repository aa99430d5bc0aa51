import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeF32Copy, decodeF32Portable, decodeToFloat32, halfBitsToFloatBits } from './dtypes.js';

/** binary16 by its definition, in arithmetic: the oracle for the bit-level conversion. */
function halfByDefinition(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * (mantissa / 1024) * 2 ** -14;
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const le16 = (values: number[]): Uint8Array => new Uint8Array(new Uint16Array(values).buffer);
const le64 = (values: number[]): Uint8Array => new Uint8Array(new Float64Array(values).buffer);

describe('dtype decoding', () => {
  it('converts all 65 536 F16 values exactly (subnormals, ±0, ±inf and NaN included)', () => {
    const all = Array.from({ length: 65536 }, (_, h) => h);
    const got = decodeToFloat32('F16', le16(all), 0, all.length);
    const wrong = all.filter((h) => {
      const want = halfByDefinition(h);
      return !(Object.is(got[h], want) || (Number.isNaN(got[h]) && Number.isNaN(want)));
    });
    expect(wrong).toEqual([]);
  });

  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x8000, -0],
    [0x7c00, Number.POSITIVE_INFINITY],
    [0xfc00, Number.NEGATIVE_INFINITY],
    [0x3555, 0.333251953125],
  ])('F16 0x%s is %s', (h, want) => {
    expect(Object.is(decodeToFloat32('F16', le16([h]), 0, 1)[0], want)).toBe(true);
  });

  it('keeps NaN payloads and the sign of F16 NaNs', () => {
    expect(halfBitsToFloatBits(0x7e00)).toBe(0x7fc00000);
    expect(halfBitsToFloatBits(0xfc01)).toBe(0xff802000);
  });

  it('converts all 65 536 BF16 values to the float32 with those upper 16 bits', () => {
    const all = Array.from({ length: 65536 }, (_, h) => h);
    const got = new Uint32Array(decodeToFloat32('BF16', le16(all), 0, all.length).buffer);
    expect(all.filter((h) => got[h] !== (h << 16) >>> 0)).toEqual([]);
  });

  it('rounds F64 to the nearest float32, overflowing to infinity', () => {
    const values = [0.1, -1 / 3, 1e300, -1e300, 1e-50, 2 ** -149, 3.4028235677973366e38, Number.NaN, -0];
    const got = decodeToFloat32('F64', le64(values), 0, values.length);
    expect([...got]).toEqual(values.map(Math.fround));
    expect(Object.is(got[8], -0)).toBe(true);
  });

  it('reads little-endian at an offset, element by element, exactly as the byte-copy fast path does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), fc.nat({ max: 7 }), (bytes, offset) => {
        const count = Math.floor((bytes.length - offset) / 4);
        const fast = new Uint32Array(decodeF32Copy(bytes, offset, count).buffer);
        const portable = new Uint32Array(decodeF32Portable(bytes, offset, count).buffer);
        expect([...fast]).toEqual([...portable]);
        for (let i = 0; i < count; i++) {
          const p = offset + 4 * i;
          const le =
            ((bytes[p] as number) |
              ((bytes[p + 1] as number) << 8) |
              ((bytes[p + 2] as number) << 16) |
              ((bytes[p + 3] as number) << 24)) >>>
            0;
          expect(portable[i]).toBe(le);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Every dtype name the safetensors format defines, spelled exactly as in the files. */
export type SafetensorsDtype =
  | 'BOOL'
  | 'F4'
  | 'F6_E2M3'
  | 'F6_E3M2'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'C64'
  | 'F64'
  | 'I64'
  | 'U64';

/** The dtypes `loadSafetensors` reads, all converted to float32. */
export type LoadableDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** Bits per element, in the order of the reference implementation's `Dtype` enum (ascending alignment). */
export const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
});

export function isDtype(s: string): s is SafetensorsDtype {
  return Object.hasOwn(DTYPE_BITS, s);
}

export function isLoadable(dtype: SafetensorsDtype): dtype is LoadableDtype {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64';
}

/** True when typed arrays on this platform are little-endian (every mainstream one is). */
export const LITTLE_ENDIAN_HOST: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `count` little-endian elements of `dtype` starting at `bytes[offset]`, as a new Float32Array.
 * F64 rounds to nearest float32 (as `tensor.float()` does); F16 and BF16 convert exactly.
 * The caller has checked that the range lies inside `bytes`.
 */
export function decodeToFloat32(
  dtype: LoadableDtype,
  bytes: Uint8Array,
  offset: number,
  count: number,
): Float32Array {
  switch (dtype) {
    case 'F32':
      return LITTLE_ENDIAN_HOST
        ? decodeF32Copy(bytes, offset, count)
        : decodeF32Portable(bytes, offset, count);
    case 'F64':
      return decodeF64(bytes, offset, count);
    case 'F16':
      return decodeHalf(bytes, offset, count, halfBitsToFloatBits);
    case 'BF16':
      return decodeHalf(bytes, offset, count, (h) => h << 16);
  }
}

/** F32 on a little-endian host: one byte copy into a fresh, aligned buffer. */
export function decodeF32Copy(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  // not bytes.slice(): a Node Buffer's slice() is a view of the same memory, not a copy
  new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * count));
  return out;
}

/** F32 on any host: each element's bits through a DataView (bit-exact, NaN payloads included). */
export function decodeF32Portable(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4 * count);
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = view.getUint32(4 * i, true);
  return out;
}

function decodeF64(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8 * count);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

/** 16-bit formats: each element's float32 bit pattern is written through a Uint32Array view of the output. */
function decodeHalf(
  bytes: Uint8Array,
  offset: number,
  count: number,
  toFloatBits: (h: number) => number,
): Float32Array {
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0, p = offset; i < count; i++, p += 2) {
    bits[i] = toFloatBits((bytes[p] as number) | ((bytes[p + 1] as number) << 8));
  }
  return out;
}

/**
 * IEEE binary16 bits → binary32 bits, exactly: the exponent is rebiased (15 → 127), subnormal halves
 * become normal floats, and ±infinity and NaN (payload included) keep their meaning.
 */
export function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // subnormal: m·2^-24; shift m up to 1.xxx form, lowering the float32 exponent once per shift
  let e = 113;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

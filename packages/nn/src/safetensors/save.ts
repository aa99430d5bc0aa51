import { cpuData, formatShape, Tensor } from '@recurrent/tensor';
import { LITTLE_ENDIAN_HOST } from './dtypes.js';
import { describe, quote, SafetensorsError } from './errors.js';
import { MAX_HEADER_BYTES } from './header.js';
import { encodeUtf8, isWellFormed } from './utf8.js';

/**
 * Writes tensors as a safetensors file (F32, little-endian), laid out byte for byte as the reference
 * implementation (`safetensors.torch.save_file`) lays out float32 tensors:
 *
 * - the header is compact JSON: `__metadata__` first (if given and non-empty), then the tensors sorted
 *   by name in code-point order (Rust's byte order on UTF-8; the reference sorts by dtype first, and
 *   everything here is F32), each `{"dtype":"F32","shape":[…],"data_offsets":[begin,end]}`;
 * - the header is padded with spaces to a multiple of 8 bytes, so the data starts 8-byte aligned;
 * - the data section holds each tensor's elements, row-major, back to back in header order.
 *
 * The reference keeps metadata in a hash map (unspecified order); the keys are sorted here, so the
 * same input always gives the same bytes.
 *
 * @param tensors  name → CPU tensor (read GPU tensors back first: `await t.data()`).
 * @param metadata free-form string → string map, stored as `__metadata__`.
 * @throws SafetensorsError for a non-tensor value, a tensor not on the CPU, the reserved name
 *   `__metadata__`, a name or metadata string with a lone surrogate, a non-string metadata value.
 */
export function saveSafetensors(
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string> | null,
): Uint8Array {
  const entries = checkTensors(tensors).sort(([a], [b]) => compareCodePoints(a, b));
  const meta = checkMetadata(metadata ?? {}).sort(([a], [b]) => compareCodePoints(a, b));

  const parts: string[] = [];
  if (meta.length) {
    parts.push(
      `"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    );
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + 4 * t.numel();
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = encodeUtf8(`{${parts.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new SafetensorsError(
      `the header would be ${headerLength} bytes, over the format's limit of ${MAX_HEADER_BYTES}`,
    );
  }

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of entries) {
    const data = cpuData(t);
    if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i] as number, true);
    at += data.byteLength;
  }
  return out;
}

function checkTensors(tensors: Record<string, Tensor> | Map<string, Tensor>): [string, Tensor][] {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw new SafetensorsError(`expected a Record or Map of name → Tensor, received ${describe(tensors)}`);
  }
  const entries: [unknown, unknown][] = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  return entries.map(([name, t]) => {
    if (typeof name !== 'string')
      throw new SafetensorsError(`tensor names must be strings, found ${describe(name)}`);
    if (name === '__metadata__') {
      throw new SafetensorsError('"__metadata__" is reserved for the metadata and cannot name a tensor');
    }
    if (!isWellFormed(name))
      throw new SafetensorsError('the name holds a lone surrogate, which UTF-8 cannot encode', {
        tensor: name,
      });
    if (!(t instanceof Tensor))
      throw new SafetensorsError(`expected a Tensor, found ${describe(t)}`, { tensor: name });
    if (t.device !== 'cpu') {
      throw new SafetensorsError(
        `shape ${formatShape(t.shape)} is on '${t.device}': read it back (await t.data()) and pass a CPU tensor`,
        { tensor: name },
      );
    }
    return [name, t];
  });
}

function checkMetadata(metadata: Record<string, string>): [string, string][] {
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new SafetensorsError(`metadata must be a Record of strings, received ${describe(metadata)}`);
  }
  return Object.entries(metadata).map(([k, v]) => {
    if (typeof v !== 'string')
      throw new SafetensorsError(`metadata key ${quote(k)} must map to a string, found ${describe(v)}`);
    if (!isWellFormed(k) || !isWellFormed(v)) {
      throw new SafetensorsError(
        `metadata key ${quote(k)} holds a lone surrogate, which UTF-8 cannot encode`,
      );
    }
    return [k, v];
  });
}

/**
 * Code-point order (the byte order of UTF-8, which Rust's `String` comparison uses). UTF-16 code units
 * sort surrogates (U+10000 and up) below U+E000–U+FFFF; moving each side's unit into code-point
 * order fixes that.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

function fixup(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

// The platform's TextEncoder/TextDecoder (Node and browsers both have them), typed here because the
// package's lib is plain ES2022 with no DOM or Node types.
interface Codecs {
  TextDecoder: new (
    label: string,
    options: { fatal: boolean; ignoreBOM: boolean },
  ) => { decode(bytes: Uint8Array): string };
  TextEncoder: new () => { encode(text: string): Uint8Array };
}

const codecs = globalThis as unknown as Codecs;

/** Strict UTF-8 → string: returns null on any invalid sequence; a BOM is kept, not skipped. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  // decode() refuses views of a SharedArrayBuffer in browsers: copy those first
  const input = Object.prototype.toString.call(bytes.buffer) === '[object ArrayBuffer]' ? bytes : copy(bytes);
  try {
    return new codecs.TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    return null;
  }
}

function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

export function encodeUtf8(text: string): Uint8Array {
  return new codecs.TextEncoder().encode(text);
}

/** True unless `s` holds a lone surrogate (which UTF-8 cannot carry). */
export function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDFFF]/u.test(s);
}

/** Where a problem was found: the file (Node helpers set it) and the tensor, when there is one. */
export interface SafetensorsErrorOptions {
  tensor?: string;
  file?: string;
  cause?: unknown;
}

/**
 * Every problem reading or writing safetensors: a malformed or hostile file, an unsupported dtype,
 * a value `saveSafetensors` cannot write. The message names the tensor and the problem:
 * `safetensors: tensor "weight_ih_l0": data_offsets [0, 48] hold 12 F32 elements but shape [3, 5] needs 15`.
 */
export class SafetensorsError extends Error {
  override readonly name: string = 'SafetensorsError';
  /** The problem alone, without the `safetensors: file: tensor "…": ` prefix. */
  readonly detail: string;
  /** The tensor the problem concerns, if any. */
  readonly tensor: string | undefined;
  /** The file, when the error comes from a path-based helper. */
  readonly file: string | undefined;

  constructor(detail: string, options: SafetensorsErrorOptions = {}) {
    const { tensor, file, cause } = options;
    const where = `${file === undefined ? '' : `${file}: `}${tensor === undefined ? '' : `tensor ${quote(tensor)}: `}`;
    super(`safetensors: ${where}${detail}`, cause === undefined ? undefined : { cause });
    this.detail = detail;
    this.tensor = tensor;
    this.file = file;
  }
}

/** A string as JSON quotes it, cut to ~80 characters so a hostile 100 MB name cannot flood a message. */
export function quote(s: string): string {
  if (s.length <= 80) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, 60))}… (${s.length} characters)`;
}

/** `a string`, `an array`, `null`: what a JSON value is, for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (v === undefined) return 'undefined';
  return `a ${typeof v}`;
}

/** A JSON value in a message, cut to ~60 characters. */
export function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length <= 60 ? s : `${s.slice(0, 57)}...`;
}

/** `[3, 5]`, as `formatShape` writes it; past 10 dimensions cut after 8, so a 10 MB shape cannot flood a message. */
export function previewShape(shape: readonly number[]): string {
  if (shape.length <= 10) return `[${shape.join(', ')}]`;
  return `[${shape.slice(0, 8).join(', ')}, … (${shape.length} dimensions)]`;
}

import { stridesOf } from './shape.js';
import type { DType } from './storage.js';
import type { Tensor } from './tensor.js';

/** PyTorch's print options (`torch.set_printoptions`), camelCased. */
export interface PrintOptions {
  /** Digits after the decimal point (default 4). */
  precision: number;
  /** Element count above which tensors are summarized with `...` (default 1000; may be `Infinity`). */
  threshold: number;
  /** Items shown at each end of a summarized dimension (default 3). */
  edgeitems: number;
  /** Characters per line used for wrapping (default 80). */
  linewidth: number;
  /** Force (`true`) or forbid (`false`) scientific notation; `null` lets the formatter choose. */
  sciMode: boolean | null;
}

export type PrintProfile = 'default' | 'short' | 'full';

/** Arguments of `setPrintOptions`: any subset of the options, optionally starting from a profile. */
export interface PrintOptionsUpdate extends Partial<PrintOptions> {
  profile?: PrintProfile;
}

const PROFILES: Record<PrintProfile, Omit<PrintOptions, 'sciMode'>> = {
  default: { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80 },
  short: { precision: 2, threshold: 1000, edgeitems: 2, linewidth: 80 },
  full: { precision: 4, threshold: Number.POSITIVE_INFINITY, edgeitems: 3, linewidth: 80 },
};

let options: PrintOptions = { ...PROFILES.default, sciMode: null };

/** The current print options (a copy). */
export function getPrintOptions(): PrintOptions {
  return { ...options };
}

/**
 * Sets print options like `torch.set_printoptions`: a `profile` is applied first, then the given fields.
 * As in PyTorch, `sciMode` is always assigned, so leaving it out resets it to `null`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.set_printoptions.html | torch.set_printoptions}
 */
export function setPrintOptions(update: PrintOptionsUpdate): void {
  if (typeof update !== 'object' || update === null) {
    throw new TypeError(`setPrintOptions: options must be an object, received ${show(update)}`);
  }
  const known = ['precision', 'threshold', 'edgeitems', 'linewidth', 'sciMode', 'profile'];
  for (const key of Object.keys(update)) {
    if (!known.includes(key)) {
      throw new TypeError(`setPrintOptions: unknown option '${key}' (expected one of ${known.join(', ')})`);
    }
  }
  const { profile, precision, threshold, edgeitems, linewidth, sciMode } = update;
  if (profile !== undefined && !Object.hasOwn(PROFILES, profile)) {
    throw new RangeError(
      `setPrintOptions: profile must be 'default', 'short' or 'full', received ${show(profile)}`,
    );
  }
  const isInt = (v: unknown, min: number): boolean =>
    typeof v === 'number' && Number.isInteger(v) && v >= min;
  check('precision', precision, isInt(precision, 0), 'a non-negative integer');
  check('edgeitems', edgeitems, isInt(edgeitems, 1), 'a positive integer');
  check('linewidth', linewidth, isInt(linewidth, 1), 'a positive integer');
  const thresholdOk = typeof threshold === 'number' && threshold >= 0;
  check('threshold', threshold, thresholdOk, 'a non-negative number (Infinity allowed)');
  check('sciMode', sciMode, typeof sciMode === 'boolean' || sciMode === null, 'a boolean or null');
  const next: PrintOptions = { ...(profile ? { ...PROFILES[profile], sciMode: null } : options) };
  if (precision !== undefined) next.precision = precision;
  if (threshold !== undefined) next.threshold = threshold;
  if (edgeitems !== undefined) next.edgeitems = edgeitems;
  if (linewidth !== undefined) next.linewidth = linewidth;
  next.sciMode = sciMode ?? null;
  options = next;
}

function check(name: string, value: unknown, ok: boolean, what: string): void {
  if (value !== undefined && !ok) {
    throw new RangeError(`setPrintOptions: ${name} must be ${what}, received ${show(value)}`);
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

// ---- Python's '{:.Nf}' and '{:.Ne}', exactly ----

const bitsView = new DataView(new ArrayBuffer(8));

/** |x| (finite) as m·2^e with integer m: the double's exact binary value. */
function decompose(x: number): [bigint, number] {
  bitsView.setFloat64(0, Math.abs(x));
  const bits = bitsView.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & 0xfffffffffffffn;
  return biased === 0 ? [fraction, -1074] : [fraction | (1n << 52n), biased - 1075];
}

/** m·2^e·10^k rounded half-to-even, with exact rational arithmetic (Python rounds the exact value too). */
function roundScaled(m: bigint, e: number, k: number): bigint {
  let num = e >= 0 ? m << BigInt(e) : m;
  let den = e >= 0 ? 1n : 1n << BigInt(-e);
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  const q = num / den;
  const twiceRem = (num - q * den) * 2n;
  return twiceRem > den || (twiceRem === den && q % 2n === 1n) ? q + 1n : q;
}

function nonFinite(x: number): string {
  return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
}

/** The sign Python prints: negative zero and negatives rounding to zero keep their '-'. */
function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Python's `'{:.{p}f}'.format(x)`. */
function pyFixed(x: number, p: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  const [m, e] = decompose(x);
  const digits = roundScaled(m, e, p)
    .toString()
    .padStart(p + 1, '0');
  return sign(x) + (p === 0 ? digits : `${digits.slice(0, -p)}.${digits.slice(-p)}`);
}

/** Python's `'{:.{p}e}'.format(x)`: p digits after the point, exponent of at least two digits. */
function pyExp(x: number, p: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  let exp = 0;
  let n = 0n;
  if (x !== 0) {
    const [m, e] = decompose(x);
    exp = Math.floor(Math.log10(Math.abs(x)));
    n = roundScaled(m, e, p - exp);
    // log10 can be off by one near powers of ten, and rounding can carry into an extra digit (9.99995 → 10.000)
    while (n < 10n ** BigInt(p)) n = roundScaled(m, e, p - --exp);
    while (n >= 10n ** BigInt(p + 1)) n = roundScaled(m, e, p - ++exp);
  }
  const digits = n.toString().padStart(p + 1, '0');
  const mantissa = p === 0 ? digits : `${digits.slice(0, 1)}.${digits.slice(1)}`;
  return `${sign(x)}${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

// ---- torch/_tensor_str.py ----

/** PyTorch's `_Formatter`: one notation and width for all printed elements. */
function makeFormatter(
  values: readonly number[],
  o: PrintOptions,
): { width: number; fmt: (v: number) => string } {
  const p = o.precision;
  let intMode = true;
  let sciMode = false;
  let width = 1;
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
  // With no nonzero finite value PyTorch returns early, before applying the sciMode option.
  if (finite.length > 0) {
    const min = finite.reduce((a, v) => Math.min(a, Math.abs(v)), Number.POSITIVE_INFINITY);
    const max = finite.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    intMode = finite.every(Number.isInteger);
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of finite) {
      const len = sciMode ? pyExp(v, p).length : intMode ? pyFixed(v, 0).length + 1 : pyFixed(v, p).length;
      width = Math.max(width, len);
    }
    if (o.sciMode !== null) sciMode = o.sciMode;
  }
  const fmt = (v: number): string => {
    if (sciMode) return pyExp(v, p).padStart(width);
    if (intMode) return (pyFixed(v, 0) + (Number.isFinite(v) ? '.' : '')).padStart(width);
    return pyFixed(v, p).padStart(width);
  };
  return { width, fmt };
}

/** PyTorch's `_Formatter` for an integer dtype: `str(v)` right-aligned to the widest printed value. */
function makeIntFormatter(values: readonly number[]): { width: number; fmt: (v: number) => string } {
  const width = values.reduce((w, v) => Math.max(w, String(v).length), 1);
  return { width, fmt: (v) => String(v).padStart(width) };
}

/**
 * PyTorch's `str(tensor)` for a CPU tensor, honoring the print options. An int32 tensor gets the
 * `dtype=torch.int32` suffix (PyTorch's default integer dtype is int64, so it always shows); a tensor made
 * by a recorded op gets `grad_fn=<MulBackward0>`, a leaf that requires grad `requires_grad=True`.
 */
export function format(t: Tensor<DType>): string {
  const o = options;
  const shape = t.shape;
  const data = t.dataSync();
  const indent = 'tensor('.length;
  const suffixes: string[] = [];
  let body = '[]';
  if (data.length === 0) {
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(', ')})`);
  } else {
    const summarize = data.length > o.threshold;
    const strides = stridesOf(shape);
    const edge = o.edgeitems;
    // Indices printed along a dimension of size n; null marks the '...' of a summarized dimension.
    const kept = (n: number): (number | null)[] => {
      if (!summarize || n <= 2 * edge) return Array.from({ length: n }, (_, i) => i);
      const tail = Array.from({ length: edge }, (_, i) => n - edge + i);
      return [...Array.from({ length: edge }, (_, i) => i), null, ...tail];
    };
    const at = (offset: number): number => data[offset] as number;
    // The formatter sees exactly the printed elements (PyTorch's get_summarized_data).
    const shown: number[] = [];
    const collect = (d: number, offset: number): void => {
      if (d === shape.length) {
        shown.push(at(offset));
        return;
      }
      for (const i of kept(shape[d] as number)) {
        if (i !== null) collect(d + 1, offset + i * (strides[d] as number));
      }
    };
    collect(0, 0);
    const { width, fmt } = t.dtype === 'int32' ? makeIntFormatter(shown) : makeFormatter(shown, o);
    const render = (d: number, offset: number, ind: number): string => {
      if (d === shape.length) return fmt(at(offset));
      const stride = strides[d] as number;
      const idx = kept(shape[d] as number);
      if (d === shape.length - 1) {
        const items = idx.map((i) => (i === null ? ' ...' : fmt(at(offset + i * stride))));
        const perLine = Math.max(1, Math.floor((o.linewidth - ind) / (width + 2)));
        const lines: string[] = [];
        for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
        return `[${lines.join(`,\n${' '.repeat(ind + 1)}`)}]`;
      }
      const slices = idx.map((i) => (i === null ? '...' : render(d + 1, offset + i * stride, ind + 1)));
      return `[${slices.join(`,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(ind + 1)}`)}]`;
    };
    body = render(0, 0, indent);
  }
  if (t.dtype === 'int32') suffixes.push('dtype=torch.int32');
  if (t.gradFn !== null) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(`tensor(${body}`, suffixes, indent, o.linewidth);
}

/** PyTorch's `_add_suffixes` (its `last_line_len` is off by two; kept for identical wrapping). */
function addSuffixes(text: string, suffixes: readonly string[], indent: number, linewidth: number): string {
  let out = text;
  let lastLineLen = text.length - text.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > linewidth) {
      out += `,\n${' '.repeat(indent)}${suffix}`;
      lastLineLen = indent + suffix.length;
    } else {
      out += `, ${suffix}`;
      lastLineLen += suffix.length + 2;
    }
  }
  return `${out})`;
}

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { getPrintOptions, type PrintOptionsUpdate, setPrintOptions } from './format.js';
import { mul } from './ops/elementwise.js';
import { Tensor } from './tensor.js';

/** Written by scripts/fixtures/format_cases.py from PyTorch 1.13's `str(tensor)`. */
interface FormatCase {
  name: string;
  shape: number[];
  data: (number | 'nan' | 'inf' | '-inf')[];
  options: PrintOptionsUpdate | null;
  expected: string;
  /** Printed as a leaf that requires grad, or as `leaf * 1` (grad_fn=<MulBackward0>); absent: plain. */
  autograd?: 'requires_grad' | 'grad_fn';
}

const cases: FormatCase[] = JSON.parse(
  readFileSync(new URL('../../../fixtures/format.json', import.meta.url), 'utf8'),
);

const decode = (v: FormatCase['data'][number]): number =>
  v === 'nan'
    ? Number.NaN
    : v === 'inf'
      ? Number.POSITIVE_INFINITY
      : v === '-inf'
        ? Number.NEGATIVE_INFINITY
        : v;

afterEach(() => setPrintOptions({ profile: 'default' }));

describe('format matches PyTorch 1.13 str(tensor)', () => {
  it('has fixture cases', () => {
    expect(cases.length).toBeGreaterThan(100);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.options) setPrintOptions(c.options);
    const t = Tensor.fromArray(new Float32Array(c.data.map(decode)), c.shape);
    if (c.autograd !== undefined) t.requiresGrad_();
    expect(String(c.autograd === 'grad_fn' ? mul(t, 1) : t)).toEqual(c.expected);
  });
});

describe('print options', () => {
  it('defaults to torch.set_printoptions defaults', () => {
    expect(getPrintOptions()).toEqual({
      precision: 4,
      threshold: 1000,
      edgeitems: 3,
      linewidth: 80,
      sciMode: null,
    });
  });

  it('applies a profile, then the given fields, and resets sciMode when it is omitted', () => {
    setPrintOptions({ sciMode: true });
    setPrintOptions({ profile: 'short', linewidth: 60 });
    expect(getPrintOptions()).toEqual({
      precision: 2,
      threshold: 1000,
      edgeitems: 2,
      linewidth: 60,
      sciMode: null,
    });
    setPrintOptions({ profile: 'full' });
    expect(getPrintOptions().threshold).toBe(Number.POSITIVE_INFINITY);
  });

  it('returns a copy', () => {
    const o = getPrintOptions();
    o.precision = 9;
    expect(getPrintOptions().precision).toBe(4);
  });

  it('rejects invalid options without changing the current ones', () => {
    const bad: [unknown, string][] = [
      [{ precision: -1 }, 'setPrintOptions: precision must be a non-negative integer, received -1'],
      [{ precision: 1.5 }, 'setPrintOptions: precision must be a non-negative integer, received 1.5'],
      [{ edgeitems: 0 }, 'setPrintOptions: edgeitems must be a positive integer, received 0'],
      [{ linewidth: '80' }, 'setPrintOptions: linewidth must be a positive integer, received "80"'],
      [
        { threshold: Number.NaN },
        'setPrintOptions: threshold must be a non-negative number (Infinity allowed), received NaN',
      ],
      [{ sciMode: 'yes' }, 'setPrintOptions: sciMode must be a boolean or null, received "yes"'],
      [{ profile: 'long' }, `setPrintOptions: profile must be 'default', 'short' or 'full', received "long"`],
      [{ sci_mode: true }, "setPrintOptions: unknown option 'sci_mode'"],
      [null, 'setPrintOptions: options must be an object, received null'],
    ];
    for (const [options, message] of bad) {
      expect(() => setPrintOptions(options as PrintOptionsUpdate)).toThrow(message);
    }
    expect(() => setPrintOptions({ precision: 2, edgeitems: 0 })).toThrow(/edgeitems/);
    expect(getPrintOptions().precision).toBe(4);
  });
});

// Test-only: autograd.json (scripts/fixtures/autograd_cases.py) and the tolerance its tests use.
import { readFileSync } from 'node:fs';
import type { AutogradFixture } from '../../../../fixtures/load.js';
import type { Tensor } from '../tensor.js';

export const autogradFixture: AutogradFixture = JSON.parse(
  readFileSync(new URL('../../../../fixtures/autograd.json', import.meta.url), 'utf8'),
) as AutogradFixture;

/** Throws unless `|got − want| ≤ 1e-5 + 1e-4·|want|` everywhere (and the shapes match). */
export function expectGradClose(got: Tensor | null, want: Tensor, label: string): void {
  if (got === null) throw new Error(`${label}: no gradient, expected shape [${want.shape}]`);
  if (got.shape.join() !== want.shape.join()) {
    throw new Error(`${label}: shape [${got.shape}] differs from [${want.shape}]`);
  }
  const a = got.dataSync();
  const b = want.dataSync();
  for (let i = 0; i < b.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    const ok = Number.isFinite(y)
      ? Math.abs(x - y) <= 1e-5 + 1e-4 * Math.abs(y)
      : Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
    if (!ok) throw new Error(`${label}: element ${i} is ${x}, expected ${y}`);
  }
}

// Test-only: ops.json (scripts/fixtures/ops_cases.py) decoded into tensors.
import { readFileSync } from 'node:fs';
import type { EncodedIndices, EncodedTensor, OpsFixture } from '../../../../fixtures/load.js';
import { Tensor } from '../tensor.js';

export const ops: OpsFixture = JSON.parse(
  readFileSync(new URL('../../../../fixtures/ops.json', import.meta.url), 'utf8'),
) as OpsFixture;

function value(v: number | string): number {
  if (typeof v === 'number') return v;
  return v === 'nan' ? Number.NaN : v === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

export function floats(t: EncodedTensor): Tensor {
  return Tensor.fromArray(Float32Array.from(t.data, value), t.shape);
}

export function ints(t: EncodedIndices): Tensor<'int32'> {
  return Tensor.fromArray(Int32Array.from(t.data), t.shape);
}

/** Elements as numbers with NaN as the string 'NaN', so `toEqual` compares NaN and -0 plainly. */
export function plain(t: Tensor<'float32' | 'int32'>): (number | string)[] {
  return Array.from(t.dataSync(), (v) => (Number.isNaN(v) ? 'NaN' : v === 0 ? 0 : v));
}

/** Throws unless `got` matches `want` in shape and within `rtol`/`atol` (NaN meets NaN, ±Infinity itself). */
export function expectClose(got: Tensor, want: Tensor, label: string, rtol = 1e-6, atol = 1e-7): void {
  if (got.shape.join() !== want.shape.join()) {
    throw new Error(`${label}: shape [${got.shape}] differs from [${want.shape}]`);
  }
  const a = got.dataSync();
  const b = want.dataSync();
  for (let i = 0; i < b.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    const ok = Number.isFinite(y)
      ? Math.abs(x - y) <= atol + rtol * Math.abs(y)
      : Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
    if (!ok) throw new Error(`${label}: element ${i} is ${x}, expected ${y}`);
  }
}

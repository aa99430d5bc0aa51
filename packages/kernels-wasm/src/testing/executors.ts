import { expect } from 'vitest';
import type { WasmExecutor } from '../runtime/executor.js';
import { initWasm } from '../runtime/init.js';
import { createWasmPool } from '../runtime/pool.js';

/** The executors a job runs on in the tests: one thread (FMA where available), plain SIMD, a two-thread pool. */
export const executors: { name: string; create: () => Promise<WasmExecutor | null> }[] = [
  { name: 'one thread', create: () => initWasm() },
  { name: 'one thread, plain SIMD', create: () => initWasm({ fma: false }) },
  { name: 'two threads', create: () => createWasmPool(2) },
];

/** Fails at the first element outside `|got − want| ≤ atol + rtol·|want|`, naming it. */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  atol: number,
  rtol: number,
): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what}[${i}] = ${g}, want ${w}`);
  }
}

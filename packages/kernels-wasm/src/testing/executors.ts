import { afterAll, beforeAll, expect } from 'vitest';
import type { WasmExecutor } from '../runtime/executor.js';
import { initWasm } from '../runtime/init.js';
import { createWasmPool } from '../runtime/pool.js';

/** The executors a job runs on in the tests: one thread (FMA where available), plain SIMD, a two-thread pool. */
export const executors: { name: string; create: () => Promise<WasmExecutor | null> }[] = [
  { name: 'one thread', create: () => initWasm() },
  { name: 'one thread, plain SIMD', create: () => initWasm({ fma: false }) },
  { name: 'two threads', create: () => createWasmPool(2) },
];

/**
 * The executor `create` makes, made before the enclosing suite's tests and disposed after them: read
 * `suite.ex` inside a test.
 */
export function suiteExecutor(create: () => Promise<WasmExecutor | null>): { readonly ex: WasmExecutor } {
  let made: WasmExecutor | null = null;
  beforeAll(async () => {
    made = await create();
    if (!made) throw new Error('no WebAssembly SIMD (or threads) in this Node');
  });
  afterAll(() => made?.dispose());
  return {
    get ex(): WasmExecutor {
      if (!made) throw new Error('suiteExecutor: read suite.ex inside a test, after beforeAll');
      return made;
    },
  };
}

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

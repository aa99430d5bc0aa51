import { describe, expect, it } from 'vitest';
import { fill, random } from '../../../tensor/src/testing/gemm-case.js';
import { executors, suiteExecutor } from '../testing/executors.js';
import { columnSumsJob } from './colsum.js';

/** The float64 sums, row by row, rounded once: what the kernel must give exactly. */
function reference(a: Float32Array, rows: number, ld: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) acc[j] = (acc[j] as number) + (a[r * ld + j] as number);
  return Float32Array.from(acc);
}

describe.each(executors)('columnSumsJob ($name)', ({ create }) => {
  const suite = suiteExecutor(create);

  const check = (rows: number, cols: number, ld: number, splits: number[]) => {
    const a = fill(rows * ld, random(rows + 7 * cols));
    const got = suite.ex.arena.withScratch((s) => {
      const [src, out] = [s.put(a), s.alloc(cols + 1)];
      out.fill(123);
      const bounds = [0, ...splits, cols];
      const jobs = bounds
        .slice(1)
        .map((to, k) =>
          columnSumsJob({ a: src.at(), rows, ld, out: out.at(), cols: [bounds[k] as number, to] }),
        );
      suite.ex.run(jobs);
      return out.read();
    });
    expect(Array.from(got.subarray(0, cols))).toEqual(Array.from(reference(a, rows, ld, cols)));
    expect(got[cols]).toBe(123); // nothing written past the last column
  };

  it('equals float64 sums rounded once, on whole and partial 16-column blocks', () => {
    for (const rows of [1, 5, 300]) for (const cols of [1, 4, 15, 16, 17, 45]) check(rows, cols, cols, []);
  });

  it('with a leading dimension past the columns, and column ranges split over jobs', () => {
    check(33, 40, 47, [16]);
    check(2048, 1024, 1024, [512]);
    check(9, 37, 37, [5]);
  });
});

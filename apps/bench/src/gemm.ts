import {
  type Block,
  createWasmPool,
  gemmJob,
  gemmPackFloats,
  initWasm,
  type Job,
} from '@recurrent/kernels-wasm';
import { sgemm } from '@recurrent/tensor';
import { FMA_CEILING_ROW, fmaCeiling } from './fma-ceiling.js';
import { summarize } from './stats.js';

/** Times `f` (after one warm-up call) `n` times; the median in ms. */
function median(n: number, f: () => void): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return summarize(times).median;
}

/**
 * GEMM alone, C = A·B at n³: the plain TypeScript `sgemm`, the WASM `sgemm` (copying A, B and C through
 * the kernels' memory, as a caller of `WasmKernels.sgemm` sees it), the WASM kernel on operands already in
 * its memory (one core), and the same split by rows over a two-thread pool; last, the one-thread FMA
 * ceiling (`fmaCeiling`), the most any one-thread kernel can reach. Markdown rows.
 */
export async function gemmSection(n: number, reps: number): Promise<string> {
  const rnd = (len: number): Float32Array => Float32Array.from({ length: len }, () => Math.random() * 2 - 1);
  const A = rnd(n * n);
  const B = rnd(n * n);
  const C = new Float32Array(n * n);
  const flops = 2 * n ** 3;
  const rows: [string, number][] = [];
  rows.push([
    'TypeScript sgemm (1 thread)',
    median(Math.min(reps, 3), () => sgemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n)),
  ]);
  const k = await initWasm();
  if (k) {
    rows.push([
      'WasmKernels.sgemm, copies included (1 thread)',
      median(reps, () => k.sgemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n)),
    ]);
    const s = k.arena.scratch();
    const [a, b, c, pack] = [s.put(A), s.put(B), s.alloc(n * n), s.alloc(gemmPackFloats(n, n))];
    const job = productJob(n, a, b, c, pack, 0, n);
    rows.push(['WASM gemm kernel, operands in memory (1 thread)', median(reps, () => k.run([job]))]);
    s.release();
  }
  const pool = await createWasmPool(2);
  if (pool) {
    const s = pool.arena.scratch();
    const [a, b, c] = [s.put(A), s.put(B), s.alloc(n * n)];
    const half = n >> 1;
    const jobs = [
      productJob(n, a, b, c, s.alloc(gemmPackFloats(n, n)), 0, half),
      productJob(n, a, b, c, s.alloc(gemmPackFloats(n, n)), half, n),
    ];
    rows.push(['WASM gemm kernel, rows split over 2 threads', median(reps, () => pool.run(jobs))]);
    pool.dispose();
  }
  const ceiling = await fmaCeiling(reps, n >= 1024 ? 20_000_000 : 2_000_000);
  const lines = [
    `### GEMM alone: ${n}×${n}×${n}, float32`,
    '',
    '| implementation | median ms | GFLOP/s |',
    '|---|---:|---:|',
  ];
  for (const [name, ms] of rows)
    lines.push(`| ${name} | ${ms.toFixed(1)} | ${(flops / ms / 1e6).toFixed(1)} |`);
  lines.push(
    `| ${FMA_CEILING_ROW} | ${ceiling.ms.toFixed(1)} | ${(ceiling.flops / ceiling.ms / 1e6).toFixed(1)} |`,
    '',
    `The ceiling's multiply-adds are ${ceiling.fma ? 'relaxed_madd (FMA)' : 'a multiply and an add (this engine has no relaxed SIMD)'}, as the kernels' are here.`,
  );
  return `${lines.join('\n')}\n`;
}

/** Rows [r0, r1) of C = A·B (n×n, all in the kernels' memory), B packed into `pack` on the fly. */
function productJob(n: number, a: Block, b: Block, c: Block, pack: Block, r0: number, r1: number): Job {
  return gemmJob({
    ...{ M: r1 - r0, N: n, K: n, a: a.at(r0 * n), sai: n, sak: 1, b: b.at(), sbp: n, sbj: 1 },
    ...{ c: c.at(r0 * n), ldc: n, pack: pack.at() },
  });
}

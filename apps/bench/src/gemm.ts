import { createWasmPool, initWasm, sgemm } from '@recurrent/tensor';
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
 * its memory (one core), and the same split by rows over a two-thread pool. Markdown rows.
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
    k.reset();
    const [a, b, c] = [k.put(A), k.put(B), k.alloc(n * n)];
    const pack = k.alloc(k.exports.packBytes(n, n) / 4);
    rows.push([
      'WASM gemm kernel, operands in memory (1 thread)',
      median(reps, () => k.exports.gemm(n, n, n, 1, a, n, 1, b, n, 1, 0, c, n, 0, pack)),
    ]);
  }
  const pool = await createWasmPool(2);
  if (pool) {
    const p = pool.kernels;
    p.reset();
    const [a, b, c] = [p.put(A), p.put(B), p.alloc(n * n)];
    const packs = [p.alloc(p.exports.packBytes(n, n) / 4), p.alloc(p.exports.packBytes(n, n) / 4)];
    const half = n >> 1;
    const job = (r0: number, r1: number, pack: number) => ({
      fn: 'gemm' as const,
      args: [r1 - r0, n, n, 1, a + r0 * n * 4, n, 1, b, n, 1, 0, c + r0 * n * 4, n, 0, pack],
    });
    rows.push([
      'WASM gemm kernel, rows split over 2 threads',
      median(reps, () => pool.run([job(0, half, packs[0] as number), job(half, n, packs[1] as number)])),
    ]);
    pool.dispose();
  }
  const lines = [
    `### GEMM alone: ${n}×${n}×${n}, float32`,
    '',
    '| implementation | median ms | GFLOP/s |',
    '|---|---:|---:|',
  ];
  for (const [name, ms] of rows)
    lines.push(`| ${name} | ${ms.toFixed(1)} | ${(flops / ms / 1e6).toFixed(1)} |`);
  return `${lines.join('\n')}\n`;
}

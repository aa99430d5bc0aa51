import { initWasm } from '@recurrent/kernels-wasm';
import { type Backend, cpuBackend, Linear, wasmCpuBackend } from '@recurrent/nn';
import { Generator, mul, noGrad, randn, sum, type Tensor } from '@recurrent/tensor';
import { compare, summarize } from './stats.js';

/**
 * Heads as models run them (rows, inFeatures, outFeatures): a generated token's (one row, a char-RNN's
 * vocabulary), a batch's, a char-RNN training batch's (B·T = 32·128 rows), and a wide one.
 */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 128, 65],
  [64, 256, 65],
  [4096, 256, 65],
  [2048, 512, 512],
];

/** A forward without grad, and a forward + backward (the loss Σ y·r, so the gradient of y is r). */
interface Timed {
  forward(): Tensor;
  train(): void;
}

function timedOn(backend: Backend, R: number, K: number, N: number): Timed {
  const linear = new Linear({ inFeatures: K, outFeatures: N, generator: new Generator(2) }).to(backend);
  const g = new Generator(3);
  const [x, r] = [randn([R, K], { generator: g }), randn([R, N], { generator: g })];
  return {
    forward: () => noGrad(() => linear.forward(x)),
    train: () => sum(mul(linear.forward(x), r)).backward(), // the grads accumulate, as alike on both
  };
}

/**
 * A `Linear` head on our two CPU backends, the TypeScript one and the WebAssembly one (one thread): the
 * forward (no grad) and a training forward + backward, interleaved in `rounds` rounds of `budgetMs` each;
 * the outputs compared first. Markdown.
 */
export async function linearSection(rounds: number, budgetMs: number): Promise<string> {
  const kernels = await initWasm();
  if (!kernels) return '### Linear heads\n\nskipped: no WebAssembly SIMD in this Node\n';
  const wasm = wasmCpuBackend(kernels);
  const lines = [
    '### Linear heads: `Linear` on the TypeScript and the WebAssembly backend (one thread)',
    '',
    '| rows × in → out | TS forward ms | WASM forward ms | ratio | TS forward + backward ms | WASM forward + backward ms | ratio |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [R, K, N] of SHAPES) {
    const ts = timedOn(cpuBackend, R, K, N);
    const ours = timedOn(wasm, R, K, N);
    const { ok, maxAbs } = compare(
      ours.forward().dataSync() as Float32Array,
      ts.forward().dataSync() as Float32Array,
    );
    if (!ok)
      throw new Error(`Linear ${R}×${K}→${N}: the WASM forward differs from TypeScript's by ${maxAbs}`);
    const samples = new Map<string, number[]>();
    const runs: [string, () => unknown][] = [
      ['ts forward', ts.forward],
      ['wasm forward', ours.forward],
      ['ts train', ts.train],
      ['wasm train', ours.train],
    ];
    for (let round = 0; round < rounds; round++) {
      for (const [name, f] of runs) {
        const start = performance.now();
        let n = 0;
        while (performance.now() - start < budgetMs / 4) {
          f();
          n++;
        }
        samples.set(name, [...(samples.get(name) ?? []), (performance.now() - start) / n]);
      }
    }
    const m = (name: string): number => summarize(samples.get(name) ?? []).median;
    const ms = (v: number): string => (v < 1 ? v.toFixed(4) : v.toFixed(2));
    lines.push(
      `| ${R} × ${K} → ${N} | ${ms(m('ts forward'))} | ${ms(m('wasm forward'))} | ${(m('wasm forward') / m('ts forward')).toFixed(2)}× | ${ms(m('ts train'))} | ${ms(m('wasm train'))} | ${(m('wasm train') / m('ts train')).toFixed(2)}× |`,
    );
  }
  wasm.dispose();
  lines.push(
    '',
    'Medians of per-call means over the rounds; ratio = WASM ÷ TypeScript. The WASM backend runs the GEMM on its kernels (W packed once per version, the bias fused; the backward dx = g·W, dW = gᵀ·x, db as column sums) above its `minFlops` (16384 FLOPs), TypeScript below.',
  );
  return `${lines.join('\n')}\n`;
}

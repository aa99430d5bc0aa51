// Linear on the WASM CPU backend (cpu-wasm-linear.ts): the forward and its backward on the kernels must
// equal the TypeScript backend's, on one thread and two, with W packed once per parameter version.
import { createWasmPool, initWasm, type WasmExecutor } from '@recurrent/kernels-wasm';
import { Generator, mul, noGrad, randn, sum, type Tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose } from '../../../../fixtures/load.js';
import { Linear } from '../linear.js';
import { mseLoss } from '../loss.js';
import { cpuBackend } from './cpu.js';
import { linearBackward } from './cpu-grad-heads.js';
import { type WasmCpuBackend, wasmCpuBackend } from './cpu-wasm.js';
import type { LinearArgs } from './types.js';

async function kernels(): Promise<WasmExecutor> {
  const k = await initWasm();
  if (!k) throw new Error('this Node has no WebAssembly SIMD');
  return k;
}

/** A linear's arguments: input (…, K), weight (N, K), bias (N) or none. */
function argsOf(lead: number[], K: number, N: number, bias: boolean, seed: number): LinearArgs {
  const g = new Generator(seed);
  return {
    input: randn([...lead, K], { generator: g }),
    weight: randn([N, K], { generator: g }),
    bias: bias ? randn([N], { generator: g }) : null,
  };
}

const cases: [string, number[], number, number, boolean][] = [
  ['one row (a token of a generation)', [1], 64, 65, true],
  ['a batch of sequences (B, T, K)', [3, 7], 33, 20, true],
  ['no bias', [5], 16, 9, false],
  ['one output', [12], 40, 1, true],
  ['one input feature', [6], 1, 30, true],
  ['rows past the thread split', [700], 96, 48, true],
];

describe('wasmCpuBackend linear', () => {
  let one: WasmCpuBackend;
  let two: WasmCpuBackend;
  beforeAll(async () => {
    one = wasmCpuBackend(await kernels(), { minFlops: 0 });
    const pool = await createWasmPool(2);
    if (!pool) throw new Error('this Node has no WebAssembly threads');
    two = wasmCpuBackend(pool, { minFlops: 0 });
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });

  it.each(cases)('forward: %s', async (_, lead, K, N, bias) => {
    const args = argsOf(lead, K, N, bias, 1);
    const got = one.linear(args);
    expect(got.shape).toEqual([...lead, N]);
    await assertClose(got, cpuBackend.linear(args), 'linear');
    // rows split over two threads: each row as one thread computes it
    expect(two.linear(args).dataSync()).toEqual(got.dataSync());
  });

  it.each(cases)('backward: %s', async (_, lead, K, N, bias) => {
    const args = argsOf(lead, K, N, bias, 2);
    // a mean loss's gradient (1/R): dW sums R products, whose float32 rounding then stays below atol
    const R = lead.reduce((p, d) => p * d, 1);
    const grad = mul(randn([...lead, N], { generator: new Generator(3) }), 1 / R);
    const want = linearBackward(args.input, args.weight, bias, grad, [true, true, true]);
    for (const backend of [one, two]) {
      const got = (backend.linearBackward as NonNullable<WasmCpuBackend['linearBackward']>)(args, grad, [
        true,
        true,
        true,
      ]);
      expect(got.map((t) => t?.shape ?? null)).toEqual(want.map((t) => t?.shape ?? null));
      for (const [i, name] of ['dx', 'dW', 'db'].entries()) {
        if (want[i]) await assertClose(got[i] as Tensor, want[i] as Tensor, name);
      }
    }
    // only what is needed
    const some = (one.linearBackward as NonNullable<WasmCpuBackend['linearBackward']>)(args, grad, [
      false,
      true,
      false,
    ]);
    expect(some[0]).toBeNull();
    expect(some[2]).toBeNull();
    await assertClose(some[1] as Tensor, want[1] as Tensor, 'dW alone');
  });

  it('packs W once per parameter version: an in-place update is seen, a repeat allocates nothing', async () => {
    const backend = wasmCpuBackend(await kernels(), { minFlops: 0 });
    const args = argsOf([4], 24, 10, true, 4);
    backend.linear(args);
    const stats = () => (backend.executor as WasmExecutor).arena.stats();
    const { allocations, blocks } = stats();
    await assertClose(backend.linear(args), cpuBackend.linear(args), 'again');
    expect(stats().allocations - allocations).toBe(2); // the call's input and output; W not packed again
    expect(stats().blocks).toBe(blocks);
    noGrad(() => args.weight.copy_(randn([10, 24], { generator: new Generator(5) })));
    await assertClose(backend.linear(args), cpuBackend.linear(args), 'after the weight changed in place');
    backend.dispose();
    expect(() => backend.linear(args)).toThrow(/disposed/);
  });

  it('runs under minFlops, or past the memory limit, on the TypeScript path', async () => {
    const args = argsOf([2], 8, 4, true, 6);
    const small = wasmCpuBackend(await kernels());
    expect(small.linear(args).dataSync()).toEqual(cpuBackend.linear(args).dataSync());
    const tight = wasmCpuBackend(await kernels(), { minFlops: 0, memoryLimit: 1 << 20 });
    const big = argsOf([2000], 200, 8, true, 7); // 1.6 MB of input: more than the memory may hold
    expect(tight.linear(big).dataSync()).toEqual(cpuBackend.linear(big).dataSync());
    const grad = randn([2000, 8], { generator: new Generator(8) });
    const got = (tight.linearBackward as NonNullable<WasmCpuBackend['linearBackward']>)(big, grad, [
      true,
      true,
      true,
    ]);
    const want = linearBackward(big.input, big.weight, true, grad, [true, true, true]);
    for (let i = 0; i < 3; i++) expect((got[i] as Tensor).dataSync()).toEqual((want[i] as Tensor).dataSync());
    small.dispose();
    tight.dispose();
  });

  it('trains a Linear module to the gradients of the TypeScript backend', async () => {
    const make = () => new Linear({ inFeatures: 48, outFeatures: 30, generator: new Generator(9) });
    const x = randn([5, 6, 48], { generator: new Generator(10) });
    const y = randn([5, 6, 30], { generator: new Generator(11) });
    const grads = (linear: Linear): Tensor[] => {
      const xs = x.detach().requiresGrad_();
      sum(mseLoss(linear.forward(xs), y)).backward();
      return [xs.grad as Tensor, ...linear.parameters().map((p) => p.grad as Tensor)];
    };
    const want = grads(make().to(cpuBackend));
    // the module's backward is the backend's
    let backwards = 0;
    const counted: WasmCpuBackend = {
      ...one,
      linearBackward: (args, grad, needs) => {
        backwards++;
        return (one.linearBackward as NonNullable<WasmCpuBackend['linearBackward']>)(args, grad, needs);
      },
    };
    const got = grads(make().to(counted));
    expect(backwards).toBe(1);
    for (const [i, name] of ['input', 'weight', 'bias'].entries()) {
      await assertClose(got[i] as Tensor, want[i] as Tensor, `d ${name}`);
    }
  });
});

import { availableParallelism } from 'node:os';
import { hasWasmRelaxedSimd } from '@recurrent/kernels-wasm';
import { manualSeed, randn } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../../../fixtures/load.js';
import { RNN } from '../rnn.js';
import { cpuBackend } from './cpu.js';
import { createCpuBackend } from './create-cpu.js';

describe('createCpuBackend', () => {
  it('gives the WASM backend on one thread by default, computing what cpuBackend computes', async () => {
    const backend = await createCpuBackend();
    expect(backend.device).toBe('cpu');
    expect(backend.threads).toBe(1);
    expect(backend.rnn).not.toBe(cpuBackend.rnn);
    manualSeed(1);
    const rnn = new RNN({ inputSize: 16, hiddenSize: 40, numLayers: 2, bidirectional: true }).eval();
    const x = randn([12, 9, 16]);
    const [want, wantH] = rnn.forward(x);
    const [got, gotH] = rnn.to(backend).forward(x);
    await assertClose(got, want, 'output');
    await assertClose(gotH, wantH, 'hN');
    backend.dispose();
  });

  it('runs on worker threads with `threads`, and stops them on dispose()', async () => {
    const backend = await createCpuBackend({ threads: 2 });
    expect(backend.threads).toBe(2);
    manualSeed(2);
    const rnn = new RNN({ inputSize: 64, hiddenSize: 96, batchFirst: true }).eval();
    const x = randn([16, 40, 64]); // enough work per layer for both threads
    const [want] = rnn.forward(x);
    const [got] = rnn.to(backend).forward(x);
    await assertClose(got, want, 'output');
    backend.dispose();
  });

  it('is the plain TypeScript backend with wasm: false', async () => {
    const backend = await createCpuBackend({ wasm: false });
    expect(backend.rnn).toBe(cpuBackend.rnn);
    expect(backend.threads).toBe(1);
  });

  it('labels itself by its kernels and threads', async () => {
    const one = await createCpuBackend();
    const build = hasWasmRelaxedSimd() ? 'WebAssembly SIMD + FMA' : 'WebAssembly SIMD';
    expect(one.label).toBe(`cpu (${build}, 1 thread)`);
    const plainSimd = await createCpuBackend({ fma: false });
    expect(plainSimd.label).toBe('cpu (WebAssembly SIMD, 1 thread)');
    plainSimd.dispose();
    one.dispose();
    expect(one.disposed).toBe(true);
    const plain = await createCpuBackend({ wasm: false });
    expect(plain.label).toBe(cpuBackend.label);
  });

  it('refuses more threads than 4× the machine has, naming the limit', async () => {
    const cores = availableParallelism();
    const threads = 4 * cores + 1;
    await expect(createCpuBackend({ threads })).rejects.toThrow(
      `createCpuBackend: threads must be at most ${4 * cores} (4 × the ${cores} hardware threads here), ` +
        `received ${threads}`,
    );
  });

  it('rejects a thread count that is not a positive integer', async () => {
    for (const threads of [0, -1, 1.5, Number.NaN]) {
      await expect(createCpuBackend({ threads })).rejects.toThrow(
        `createCpuBackend: threads must be a positive integer, received ${threads}`,
      );
    }
  });
});

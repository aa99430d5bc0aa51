// WebGPU-specific behaviour: counters, resources, errors, a large case, CPU vs WebGPU on random configs.
// (Every PyTorch fixture runs on WebGPU in conformance.test.ts.)

import { getGpu } from '@recurrent/kernels-webgpu';
import { Generator, manualSeed, randn, tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose, decodeStateDict, rnnFixtures } from '../../../../fixtures/load.js';
import { RNN, type RNNOptions } from '../rnn.js';
import { RNNCell } from '../rnn-cell.js';
import { rnnOptions } from '../testing/arbitraries.js';
import { webgpuUnavailable } from '../testing/backends.js';
import { cpuBackend } from './cpu.js';
import { createWebGPUBackend, type WebGPUBackend } from './webgpu.js';

const suite = webgpuUnavailable ? describe.skip : describe;
if (webgpuUnavailable) it.skip(`webgpu backend tests: skipped, ${webgpuUnavailable}`, () => {});

suite('the WebGPU backend', () => {
  let gpu: WebGPUBackend;
  beforeAll(async () => {
    gpu = await createWebGPUBackend();
  });
  afterAll(() => gpu?.dispose());

  it('runs the acceptance snippet (notebook, bidirectional, batch-first)', async () => {
    const c = rnnFixtures.rnn.find((f) => f.name === 'notebook_cell2_bidirectional');
    if (!c) throw new Error('fixture missing');
    const rnn = new RNN({ inputSize: 4, hiddenSize: 3, bidirectional: true, batchFirst: true });
    rnn.loadStateDict(decodeStateDict(c.stateDict));
    rnn.eval();
    rnn.to(gpu);
    const [output, hN] = rnn.forward(tensor(c.input.data as number[], [1, 2, 4]));
    expect(output.device).toBe('webgpu');
    expect(output.shape).toEqual([1, 2, 6]);
    await assertClose(output, c.output, 'output');
    await assertClose(hN, c.hN, 'hN');
  });

  it('issues exactly one queue submit and no readback per forward; pipelines are created once per variant', async () => {
    manualSeed(1);
    const rnn = new RNN({ inputSize: 5, hiddenSize: 7, numLayers: 3, bidirectional: true, dropout: 0.3 }).to(
      gpu,
    );
    const x = gpu.fromCpu(randn([6, 2, 5]));
    for (const training of [false, true]) {
      rnn.train(training);
      const before = gpu.stats();
      const [out, h] = rnn.forward(x);
      const after = gpu.stats();
      expect(after.submits - before.submits).toBe(1);
      expect(after.readbacks - before.readbacks).toBe(0);
      out.dispose();
      h.dispose();
    }
    const otherShapes = (): void => {
      for (let i = 0; i < 5; i++) {
        const [out, h] = rnn.forward(randn([3 + i, 1 + 2 * i, 5]));
        out.dispose();
        h.dispose();
      }
    };
    otherShapes(); // may compile the tile variant for larger M …
    const compiled = gpu.stats().pipelinesCreated;
    otherShapes(); // … and then nothing more: shapes travel as uniforms
    expect(gpu.stats().pipelinesCreated).toBe(compiled);
    const [out] = rnn.forward(x);
    const before = gpu.stats();
    await out.data();
    expect(gpu.stats().readbacks - before.readbacks).toBe(1);
  });

  it('uses the persistent kernel for small hidden sizes and per-step GEMMs otherwise', async () => {
    const stepwise = await createWebGPUBackend({ persistent: false });
    try {
      for (const backend of [gpu, stepwise]) {
        const [o] = new RNN({ inputSize: 2, hiddenSize: 4 }).to(backend).forward(randn([3, 1, 2]));
        await o.data();
      }
      expect(gpu.runtime.pipelines.keys().some((k) => k.startsWith('rnn-persistent/'))).toBe(true);
      expect(stepwise.runtime.pipelines.keys().some((k) => k.startsWith('rnn-persistent/'))).toBe(false);
    } finally {
      stepwise.dispose();
    }
  });

  it('keeps live buffers and bytes bounded over 1,000 forward calls (and 50 cell steps) with disposal', async () => {
    manualSeed(2);
    const rnn = new RNN({ inputSize: 3, hiddenSize: 8, batchFirst: true }).eval().to(gpu);
    const next = new RNN({ inputSize: 8, hiddenSize: 8, batchFirst: true }).eval().to(gpu);
    const cell = new RNNCell({ inputSize: 3, hiddenSize: 5 }).to(gpu);
    const round = (): void => {
      const [out, h] = rnn.forward(randn([2, 4, 3])); // a CPU input: uploaded, then released
      const [out2, h2] = next.forward(out, h); // GPU tensors in, no round trip
      for (const t of [out, h, out2, h2]) t.dispose();
    };
    round();
    cell.forward(randn([2, 3])).dispose();
    await gpu.runtime.idle();
    const base = gpu.stats();
    for (let i = 0; i < 500; i++) {
      round(); // two forward calls
      if (i % 100 === 99) await gpu.runtime.idle();
    }
    for (let i = 0; i < 50; i++) cell.forward(randn([2, 3])).dispose();
    await gpu.runtime.idle();
    const end = gpu.stats();
    // tensors of earlier tests that were never disposed may be collected meanwhile, hence ≤
    expect(end.buffersInUse).toBeLessThanOrEqual(base.buffersInUse);
    expect(end.bytesInUse).toBeLessThanOrEqual(base.bytesInUse);
    expect(end.liveBuffers).toBeLessThanOrEqual(base.liveBuffers + 8);
    expect(end.liveBytes).toBeLessThanOrEqual(base.liveBytes + 64 * 1024);
    expect(end.buffersCreated - base.buffersCreated).toBeLessThanOrEqual(8);
    expect(end.pipelinesCreated).toBe(base.pipelinesCreated);
    expect(end.submits - base.submits).toBe(1050);
  });

  it('refuses to read a disposed tensor, and dataSync() on a GPU tensor, with clear errors', async () => {
    const t = gpu.fromCpu(tensor([[[1, 2, 3]]]));
    expect(() => t.dataSync()).toThrow(/lives on the GPU .*use await tensor\.data\(\)/);
    expect(String(t)).toBe("Tensor(shape=[1, 1, 3], device='webgpu')");
    expect(await t.data()).toEqual(new Float32Array([1, 2, 3]));
    t.dispose();
    await expect(t.data()).rejects.toThrow(/was disposed.*cannot be read/);
    const rnn = new RNN({ inputSize: 3, hiddenSize: 2 }).to(gpu);
    expect(() => rnn.forward(t)).toThrow(/RNN input .*was disposed/);
  });

  it('names both devices when tensors of two devices meet in one call', async () => {
    const other = await createWebGPUBackend();
    try {
      const rnn = new RNN({ inputSize: 2, hiddenSize: 3 }).to(gpu);
      const x = other.fromCpu(randn([4, 1, 2]));
      expect(() => rnn.forward(x)).toThrow(
        new RegExp(
          `lives on ${escapeRegExp(other.runtime.label)} but this computation runs on ${escapeRegExp(gpu.runtime.label)}`,
        ),
      );
    } finally {
      other.dispose();
    }
  });

  it('throws a clear error, instead of hanging, once the device is lost', async () => {
    const doomed = await createWebGPUBackend();
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 }).to(doomed);
    const [out] = rnn.forward(randn([5, 1, 2]));
    doomed.runtime.device.destroy();
    await expect(out.data()).rejects.toThrow(/was lost/);
    expect(() => rnn.forward(randn([5, 1, 2]))).toThrow(/was lost \(destroyed.*create a new backend/);
    const disposed = await createWebGPUBackend();
    disposed.dispose();
    expect(() => disposed.fromCpu(tensor([1]))).toThrow(/was disposed; create a new backend/);
  });

  it('names maxStorageBufferBindingSize when a layer output is too large for one binding', async () => {
    const adapter = await (await getGpu()).requestAdapter();
    if (!adapter) throw new Error('no adapter');
    const small = await createWebGPUBackend({ device: await adapter.requestDevice() }); // default limits
    try {
      const limit = small.runtime.limits.maxStorageBufferBindingSize;
      const H = 256;
      const T = Math.floor(limit / 4 / H) + 1; // (T, 1, H) floats: one more row than a binding holds
      const rnn = new RNN({ inputSize: 1, hiddenSize: H }).to(small);
      const inUse = small.stats().buffersInUse;
      expect(() => rnn.forward(randn([T, 1, 1]))).toThrow(
        /exceeds this device's maxStorageBufferBindingSize/,
      );
      expect(small.stats().buffersInUse).toBe(inUse + 4); // the parameters; nothing of the failed call
    } finally {
      small.dispose();
      small.runtime.device.destroy();
    }
  });

  it('rejects createWebGPUBackend with how to get WebGPU when there is no adapter', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    const error = await createWebGPUBackend({ gpu: noAdapter }).then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/no GPU adapter/);
    expect(error.message).toMatch(/npm i webgpu/);
    expect(error.message).toMatch(/chrome:\/\/flags|browser/);
    expect(error.message).toMatch(/SwiftShader/);
  });

  it('equals the CPU backend on a large case that exercises tiling (N=64, T=64, Hin=512, H=1024)', async () => {
    const generator = new Generator(5);
    const rnn = new RNN({ inputSize: 512, hiddenSize: 1024, generator }).eval();
    const x = randn([64, 64, 512], { generator });
    const [want, wantH] = rnn.to(cpuBackend).forward(x);
    const [got, gotH] = rnn.to(gpu).forward(x);
    await assertClose(got, want, 'large output');
    await assertClose(gotH, wantH, 'large hN');
    for (const t of [got, gotH]) t.dispose();
    rnn.to(cpuBackend); // releases the GPU copies of the parameters
  }, 180_000);

  it('equals the CPU backend on random configurations (odd sizes, both kernels, dropout in training)', async () => {
    const stepwise = await createWebGPUBackend({ persistent: false });
    const config = fc
      .tuple(rnnOptions({ inputSize: 70, hiddenSize: 100, numLayers: 3 }), fc.constantFrom(0, 0.25, 1))
      .map(([options, dropout]) => ({ ...options, dropout }));
    const run = fc.record({
      config,
      batch: fc.integer({ min: 1, max: 9 }),
      steps: fc.integer({ min: 1, max: 12 }),
      train: fc.boolean(),
      withH0: fc.boolean(),
      useStepwise: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    });
    try {
      await fc.assert(
        fc.asyncProperty(run, async ({ config, batch, steps, train, withH0, useStepwise, seed }) => {
          // two modules from equal generators: equal weights, equal dropout masks
          const make = (): RNN =>
            new RNN({ ...config, generator: new Generator(seed) } as RNNOptions).train(train);
          const [onCpu, onGpu] = [make(), make().to(useStepwise ? stepwise : gpu)];
          const g = new Generator(seed + 1);
          const D = config.bidirectional ? 2 : 1;
          const x = randn(
            config.batchFirst ? [batch, steps, config.inputSize] : [steps, batch, config.inputSize],
            {
              generator: g,
            },
          );
          const h0 = withH0
            ? randn([D * config.numLayers, batch, config.hiddenSize], { generator: g })
            : undefined;
          const [want, wantH] = onCpu.forward(x, h0);
          const [got, gotH] = onGpu.forward(x, h0);
          await assertClose(got, want, 'output');
          await assertClose(gotH, wantH, 'hN');
          for (const t of [got, gotH]) t.dispose();
          onGpu.to(cpuBackend);
        }),
        { numRuns: 40 },
      );
    } finally {
      stepwise.dispose();
    }
  }, 120_000);

  it('carries the state across persistent-kernel dispatches on long sequences (T = 2,500)', async () => {
    const generator = new Generator(9);
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, generator }).eval();
    const x = randn([2500, 2, 3], { generator });
    const [want, wantH] = rnn.to(cpuBackend).forward(x);
    const [got, gotH] = rnn.to(gpu).forward(x);
    await assertClose(got, want, 'output');
    await assertClose(gotH, wantH, 'hN');
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

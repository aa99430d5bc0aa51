// WebGPU-specific behaviour: counters, resources, errors, a large case, CPU vs WebGPU on random configs.
// (Every PyTorch fixture runs on WebGPU in conformance.test.ts.)

import { getGpu } from '@recurrent/kernels-webgpu';
import { Generator, manualSeed, randn, type Tensor, tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose, decodeStateDict, rnnFixtures } from '../../../../fixtures/load.js';
import { cellSpec } from '../cell.js';
import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import type { RecurrentOptions } from '../recurrent.js';
import { RNN } from '../rnn.js';
import { RNNCell } from '../rnn-cell.js';
import { rnnOptions } from '../testing/arbitraries.js';
import { webgpuUnavailable } from '../testing/backends.js';
import { cpuBackend } from './cpu.js';
import { createWebGPUBackend, type WebGPUBackend } from './webgpu.js';

const suite = webgpuUnavailable ? describe.skip : describe;
if (webgpuUnavailable) it.skip(`webgpu backend tests: skipped, ${webgpuUnavailable}`, () => {});

type Kind = 'RNN' | 'LSTM' | 'GRU';
type AnyOptions = RecurrentOptions & { nonlinearity?: 'tanh' | 'relu'; projSize?: number };

/** A module of `kind` (RNN options other cells do not take are dropped). */
function recurrent(kind: Kind, { nonlinearity, projSize, ...options }: AnyOptions): RNN | LSTM | GRU {
  if (kind === 'LSTM') return new LSTM({ ...options, projSize: projSize ?? 0 });
  if (kind === 'GRU') return new GRU(options);
  return new RNN({ ...options, ...(nonlinearity ? { nonlinearity } : {}) });
}

/** `forward` on any cell, flattened to [output, hN, cN | null] (h0/c0 as one state for LSTM). */
function forward(m: RNN | LSTM | GRU, x: Tensor, h0?: Tensor, c0?: Tensor): [Tensor, Tensor, Tensor | null] {
  if (m instanceof LSTM) {
    const [output, [hN, cN]] = m.forward(x, h0 && c0 ? [h0, c0] : null);
    return [output, hN, cN];
  }
  const [output, hN] = m.forward(x, h0);
  return [output, hN, null];
}

const dispose = (ts: readonly (Tensor | null)[]): void => {
  for (const t of ts) t?.dispose();
};

suite('the WebGPU backend', () => {
  let gpu: WebGPUBackend;
  let stepwise: WebGPUBackend;
  beforeAll(async () => {
    gpu = await createWebGPUBackend();
    stepwise = await createWebGPUBackend({ persistent: false });
  });
  afterAll(() => {
    gpu?.dispose();
    stepwise?.dispose();
  });

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

  it.each(['RNN', 'LSTM', 'GRU'] as const)(
    '%s: exactly one queue submit and no readback per forward on both kernels; pipelines created once per variant',
    async (kind) => {
      for (const backend of [gpu, stepwise]) {
        manualSeed(1);
        const m = recurrent(kind, {
          ...{ inputSize: 5, hiddenSize: 7, numLayers: 3, bidirectional: true, dropout: 0.3 },
          projSize: kind === 'LSTM' ? 3 : 0,
        }).to(backend);
        const x = backend.fromCpu(randn([6, 2, 5]));
        for (const training of [false, true]) {
          m.train(training);
          const before = backend.stats();
          const results = forward(m, x);
          const after = backend.stats();
          expect(after.submits - before.submits).toBe(1);
          expect(after.readbacks - before.readbacks).toBe(0);
          expect(results[2]?.shape ?? null).toEqual(kind === 'LSTM' ? [6, 2, 7] : null);
          dispose(results);
        }
        const otherShapes = (): void => {
          for (let i = 0; i < 5; i++) dispose(forward(m, randn([3 + i, 1 + 10 * i, 5])));
        };
        otherShapes(); // may compile the tile variants for larger batches …
        const compiled = backend.stats().pipelinesCreated;
        otherShapes(); // … and then nothing more: shapes travel as uniforms
        expect(backend.stats().pipelinesCreated).toBe(compiled);
        const [out] = forward(m, x);
        const before = backend.stats();
        await out.data();
        expect(backend.stats().readbacks - before.readbacks).toBe(1);
        m.to(cpuBackend);
      }
    },
  );

  it.each([
    ['RNN', 'tanh', 89],
    ['LSTM', 'lstm', 45],
    ['GRU', 'gru', 51],
  ] as const)(
    '%s: the persistent kernel while W_hh fits workgroup memory, the fused step kernel otherwise',
    async (kind, cell, max32k) => {
      const keys = (b: WebGPUBackend, name: string) =>
        b.runtime.pipelines.keys().filter((k) => k.startsWith(`${name}/f32/${cell}.`)).length;
      const small = recurrent(kind, { inputSize: 2, hiddenSize: 4 });
      for (const backend of [gpu, stepwise]) await forward(small.to(backend), randn([3, 1, 2]))[0].data();
      expect(keys(gpu, 'rnn-persistent')).toBeGreaterThan(0);
      expect(keys(stepwise, 'rnn-persistent')).toBe(0);
      expect(keys(stepwise, 'rnn-step')).toBeGreaterThan(0);
      if (gpu.runtime.limits.maxComputeWorkgroupStorageSize === 32768) {
        // one unit more than fits: the persistent backend falls back to the step kernel
        const stepsBefore = keys(gpu, 'rnn-step');
        const persistentBefore = keys(gpu, 'rnn-persistent');
        await forward(
          recurrent(kind, { inputSize: 2, hiddenSize: max32k }).to(gpu),
          randn([2, 1, 2]),
        )[0].data();
        expect(keys(gpu, 'rnn-step')).toBe(stepsBefore);
        await forward(
          recurrent(kind, { inputSize: 2, hiddenSize: max32k + 1 }).to(gpu),
          randn([2, 1, 2]),
        )[0].data();
        expect(keys(gpu, 'rnn-step')).toBeGreaterThan(stepsBefore);
        expect(keys(gpu, 'rnn-persistent')).toBeGreaterThanOrEqual(persistentBefore);
      }
    },
  );

  it('implements the Backend contract: device, label, owns, fromCpu, disposed, idempotent dispose', async () => {
    const b = await createWebGPUBackend();
    const other = await createWebGPUBackend();
    try {
      expect(b.device).toBe('webgpu');
      expect(b.label).toMatch(/^webgpu \(.+\)$/);
      const t = b.fromCpu(tensor([1, 2]));
      expect(t.device).toBe('webgpu');
      expect([b.owns(t), b.owns(tensor([1, 2])), b.owns(other.fromCpu(tensor([1])))]).toEqual([
        true,
        false,
        false,
      ]);
      const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 }).to(b);
      const [, [, cN]] = lstm.forward(randn([2, 1, 2]));
      expect(cN.device).toBe('webgpu');
      expect(b.disposed).toBe(false);
      b.dispose();
      expect(b.disposed).toBe(true);
      b.dispose(); // idempotent
      expect(b.disposed).toBe(true);
      expect(() => b.fromCpu(tensor([1]))).toThrow(/disposed/);
      expect(() => b.rnn({} as Parameters<typeof b.rnn>[0])).toThrow(/disposed/);
      expect(() => lstm.forward(randn([2, 1, 2]))).toThrow(/disposed/);
      expect(() => new GRU({ inputSize: 2, hiddenSize: 3 }).to(b)).toThrow(/disposed/);
    } finally {
      b.dispose();
      other.dispose();
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
      // the module refuses it (not owned by its backend); the backend itself names both devices
      expect(() => rnn.forward(x)).toThrow(
        /input is on another 'webgpu' backend but the module runs on 'webgpu \(/,
      );
      const args = {
        cell: cellSpec('RNN_TANH', 3),
        input: x,
        batchFirst: false,
        batchSizes: null,
        h0: null,
        c0: null,
      };
      expect(() => gpu.rnn({ ...args, layers: [], dropout: null })).toThrow(
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
        new RegExp(
          `WebGPU: the gate pre-activations \\(${T} rows of ${H}\\) of [\\d.]+ MiB exceeds this device's maxStorageBufferBindingSize`,
        ),
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

  it.each(['RNN', 'LSTM', 'GRU'] as const)(
    '%s equals the CPU backend on random configurations (odd sizes, both kernels, dropout in training)',
    async (kind) => {
      const config = fc
        .tuple(
          rnnOptions({ inputSize: 40, hiddenSize: kind === 'RNN' ? 100 : 60, numLayers: 3 }),
          fc.constantFrom(0, 0.25, 1),
          fc.nat({ max: 20 }),
        )
        .map(([options, dropout, proj]) => ({
          ...options,
          dropout,
          projSize: kind === 'LSTM' ? proj % options.hiddenSize : 0,
        }));
      const run = fc.record({
        config,
        batch: fc.integer({ min: 1, max: 40 }),
        steps: fc.integer({ min: 1, max: 9 }),
        train: fc.boolean(),
        withH0: fc.boolean(),
        useStepwise: fc.boolean(),
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
      });
      await fc.assert(
        fc.asyncProperty(run, async ({ config, batch, steps, train, withH0, useStepwise, seed }) => {
          // two modules from equal generators: equal weights, equal dropout masks
          const make = () => recurrent(kind, { ...config, generator: new Generator(seed) }).train(train);
          const [onCpu, onGpu] = [make(), make().to(useStepwise ? stepwise : gpu)];
          const g = new Generator(seed + 1);
          const D = config.bidirectional ? 2 : 1;
          const { inputSize, hiddenSize: H, numLayers: L } = config;
          const x = randn(config.batchFirst ? [batch, steps, inputSize] : [steps, batch, inputSize], {
            generator: g,
          });
          const h0 = withH0 ? randn([D * L, batch, config.projSize || H], { generator: g }) : undefined;
          const c0 = withH0 && kind === 'LSTM' ? randn([D * L, batch, H], { generator: g }) : undefined;
          const want = forward(onCpu, x, h0, c0);
          const got = forward(onGpu, x, h0, c0);
          await assertClose(got[0], want[0], 'output');
          await assertClose(got[1], want[1], 'hN');
          if (kind === 'LSTM') await assertClose(got[2] as Tensor, want[2] as Tensor, 'cN');
          dispose(got);
          onGpu.to(cpuBackend);
        }),
        { numRuns: 25 },
      );
    },
    180_000,
  );

  it.each(['RNN', 'LSTM', 'GRU'] as const)(
    '%s carries the state across persistent-kernel dispatches on long sequences (T = 2,500)',
    async (kind) => {
      const generator = new Generator(9);
      const m = recurrent(kind, { inputSize: 3, hiddenSize: 4, bidirectional: true, generator }).eval();
      const x = randn([2500, 2, 3], { generator });
      const want = forward(m.to(cpuBackend), x);
      const got = forward(m.to(gpu), x);
      await assertClose(got[0], want[0], 'output');
      await assertClose(got[1], want[1], 'hN');
      if (kind === 'LSTM') await assertClose(got[2] as Tensor, want[2] as Tensor, 'cN');
      dispose(got);
      m.to(cpuBackend);
    },
  );
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

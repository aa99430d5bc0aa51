// WebGPU-specific behaviour: counters, resources, errors, a large case, CPU vs WebGPU on random configs.
// (Every PyTorch fixture runs on WebGPU in conformance.test.ts.)

import { getGpu } from '@recurrent/kernels-webgpu';
import { Generator, manualSeed, randn, type Tensor, tensor, uniform } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose, decodeStateDict, rnnFixtures } from '../../../../fixtures/load.js';
import { cellSpec, type RnnMode } from '../cell.js';
import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import { type PackedSequence, packPaddedSequence, padPackedSequence } from '../packed-sequence.js';
import type { RecurrentOptions } from '../recurrent.js';
import { RNN } from '../rnn.js';
import { RNNCell } from '../rnn-cell.js';
import { rnnOptions } from '../testing/arbitraries.js';
import { webgpuUnavailable } from '../testing/backends.js';
import { argsOn } from '../testing/rnn-args.js';
import { cpuBackend } from './cpu.js';
import type { RnnArgs, RnnDirectionWeights } from './types.js';
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

/** `forward` of a packed batch on any cell, flattened to [output, hN, cN | null]. */
function forwardPacked(
  m: RNN | LSTM | GRU,
  x: PackedSequence,
  h0?: Tensor,
  c0?: Tensor,
): [PackedSequence, Tensor, Tensor | null] {
  if (m instanceof LSTM) {
    const [output, [hN, cN]] = m.forward(x, h0 && c0 ? [h0, c0] : null);
    return [output, hN, cN];
  }
  const [output, hN] = m.forward(x, h0);
  return [output, hN, null];
}

interface PackedConfig {
  mode: RnnMode;
  /** Sorted longest first. */
  lengths: number[];
  inputSize: number;
  H: number;
  proj?: number;
  D: 1 | 2;
  L: number;
  withH0: boolean;
  /** Dropout between layers (training), or 0. */
  dropout: number;
  seed: number;
}

/** The backend arguments of a packed forward, on the CPU: random weights and data, PyTorch's layouts. */
function packedArgs(c: PackedConfig): RnnArgs {
  const g = new Generator(c.seed);
  const cell = cellSpec(c.mode, c.H, c.proj ?? 0);
  const { gates: G, stateSize: P } = cell;
  const T = c.lengths[0] as number;
  const batchSizes = Int32Array.from({ length: T }, (_, t) => c.lengths.filter((l) => l > t).length);
  const rows = c.lengths.reduce((a, b) => a + b, 0);
  const N = c.lengths.length;
  const k = 1 / Math.sqrt(c.H);
  const rand = (shape: number[], scale = k) => uniform(shape, -scale, scale, { generator: g });
  const layers = Array.from({ length: c.L }, (_, layer) =>
    Array.from(
      { length: c.D },
      (): RnnDirectionWeights => ({
        weightIh: rand([G * c.H, layer === 0 ? c.inputSize : c.D * P]),
        weightHh: rand([G * c.H, P]),
        biasIh: rand([G * c.H]),
        biasHh: rand([G * c.H]),
        weightHr: c.proj ? rand([P, c.H]) : null,
      }),
    ),
  );
  return {
    cell,
    input: rand([rows, c.inputSize], 1),
    batchFirst: false,
    batchSizes,
    h0: c.withH0 ? rand([c.D * c.L, N, P], 1) : null,
    c0: c.withH0 && c.mode === 'LSTM' ? rand([c.D * c.L, N, c.H], 1) : null,
    layers,
    dropout: c.dropout ? { p: c.dropout, generator: new Generator(c.seed + 1) } : null,
  };
}

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
          // packed (lengths sorted, no state to reorder): also one submit, no readback
          const packed = packPaddedSequence(randn([6, 3, 5]), [6, 4, 1]);
          const beforePacked = backend.stats();
          const [out, hN, cN] = forwardPacked(m, packed);
          const afterPacked = backend.stats();
          expect(afterPacked.submits - beforePacked.submits).toBe(1);
          expect(afterPacked.readbacks - beforePacked.readbacks).toBe(0);
          expect([out.data.shape, hN.shape]).toEqual([
            [11, 2 * (kind === 'LSTM' ? 3 : 7)],
            [6, 3, kind === 'LSTM' ? 3 : 7],
          ]);
          dispose([out.data, hN, cN]);
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
    ['RNN_TANH', 0],
    ['LSTM', 0],
    ['LSTM', 3],
    ['GRU', 0],
  ] as const)(
    'packed %s (projSize %i): equals cpuBackend.rnn on both kernels (bidirectional, 2 layers, dropout), one submit, no readback',
    async (mode, proj) => {
      const configs: PackedConfig[] = [
        {
          mode,
          proj,
          lengths: [6, 5, 5, 3, 2, 1],
          inputSize: 4,
          H: 7,
          D: 2,
          L: 2,
          withH0: true,
          dropout: 0.4,
          seed: 3,
        },
        {
          mode,
          proj,
          lengths: [4, 4, 1],
          inputSize: 3,
          H: 5,
          D: 2,
          L: 2,
          withH0: false,
          dropout: 0,
          seed: 4,
        },
        { mode, proj, lengths: [3], inputSize: 2, H: 6, D: 1, L: 2, withH0: true, dropout: 1, seed: 5 },
      ];
      const cell = { RNN_TANH: 'tanh', LSTM: 'lstm', GRU: 'gru' }[mode];
      for (const c of configs) {
        const args = packedArgs(c);
        const want = cpuBackend.rnn(args);
        for (const backend of [gpu, stepwise]) {
          const onGpu = argsOn(backend, args, c.seed);
          const before = backend.stats();
          const got = backend.rnn(onGpu);
          const after = backend.stats();
          const what = `${backend === gpu ? 'persistent' : 'stepwise'} ${JSON.stringify(c)}`;
          expect(after.submits - before.submits, what).toBe(1);
          expect(after.readbacks - before.readbacks, what).toBe(0);
          await assertClose(got.output, want.output, `${what} output`);
          await assertClose(got.hN, want.hN, `${what} hN`);
          if (want.cN) await assertClose(got.cN as Tensor, want.cN, `${what} cN`);
          dispose([got.output, got.hN, got.cN]);
        }
      }
      const packedKeys = (b: WebGPUBackend, name: string) =>
        b.runtime.pipelines
          .keys()
          .filter((k) => k.startsWith(`${name}/f32/${cell}.`) && k.endsWith('.packed'));
      expect(packedKeys(gpu, 'rnn-persistent').length).toBeGreaterThan(0);
      expect(packedKeys(stepwise, 'rnn-step').length).toBeGreaterThan(0);
      expect(packedKeys(stepwise, 'rnn-persistent')).toEqual([]);
    },
  );

  it.each(['RNN', 'LSTM', 'GRU'] as const)(
    '%s: packPaddedSequence → forward(packed, h0) → padPackedSequence on WebGPU equals the CPU, with no readback before .data()',
    async (kind) => {
      const make = () =>
        recurrent(kind, {
          ...{ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, batchFirst: true },
          ...{ projSize: kind === 'LSTM' ? 2 : 0, generator: new Generator(11) },
        }).eval();
      const g = new Generator(12);
      const lengths = [5, 2, 4];
      const P = kind === 'LSTM' ? 2 : 5;
      const padded = randn([3, 5, 3], { generator: g });
      const h0 = randn([4, 3, P], { generator: g });
      const c0 = kind === 'LSTM' ? randn([4, 3, 5], { generator: g }) : undefined;
      const run = (m: RNN | LSTM | GRU, backend: WebGPUBackend | null) => {
        const on = (t: Tensor | undefined) => (t && backend ? backend.fromCpu(t) : t);
        const packed = packPaddedSequence(padded, lengths, { batchFirst: true, enforceSorted: false });
        const [out, hN, cN] = forwardPacked(m, packed, on(h0), on(c0));
        const [unpacked, outLengths] = padPackedSequence(out, { batchFirst: true });
        expect(outLengths).toEqual(lengths);
        return [unpacked, hN, cN] as const;
      };
      const want = run(make(), null);
      for (const backend of [gpu, stepwise]) {
        const m = make().to(backend);
        const before = backend.stats();
        const got = run(m, backend);
        expect(backend.stats().readbacks - before.readbacks).toBe(0);
        expect(got[0].device).toBe('webgpu');
        expect(got[0].shape).toEqual([3, 5, 2 * P]);
        await assertClose(got[0], want[0], 'padded output');
        await assertClose(got[1], want[1], 'hN');
        if (kind === 'LSTM') await assertClose(got[2] as Tensor, want[2] as Tensor, 'cN');
        dispose([...got]);
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
      // inference (eval): a train-mode forward would record the graph and run the training kernels
      const small = recurrent(kind, { inputSize: 2, hiddenSize: 4 }).eval();
      for (const backend of [gpu, stepwise]) await forward(small.to(backend), randn([3, 1, 2]))[0].data();
      expect(keys(gpu, 'rnn-persistent')).toBeGreaterThan(0);
      expect(keys(stepwise, 'rnn-persistent')).toBe(0);
      expect(keys(stepwise, 'rnn-step')).toBeGreaterThan(0);
      if (gpu.runtime.limits.maxComputeWorkgroupStorageSize === 32768) {
        // one unit more than fits: the persistent backend falls back to the step kernel
        const stepsBefore = keys(gpu, 'rnn-step');
        const persistentBefore = keys(gpu, 'rnn-persistent');
        await forward(
          recurrent(kind, { inputSize: 2, hiddenSize: max32k }).eval().to(gpu),
          randn([2, 1, 2]),
        )[0].data();
        expect(keys(gpu, 'rnn-step')).toBe(stepsBefore);
        await forward(
          recurrent(kind, { inputSize: 2, hiddenSize: max32k + 1 })
            .eval()
            .to(gpu),
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
    const cell = new RNNCell({ inputSize: 3, hiddenSize: 5 }).eval().to(gpu);
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

  it('refuses a PackedSequence that lives on another backend, naming both', async () => {
    const other = await createWebGPUBackend();
    try {
      const x = other.fromCpu(randn([4, 3, 2]));
      const packed = packPaddedSequence(x, [4, 2, 1], { backend: other });
      expect(packed.backend).toBe(other);
      expect(() => new GRU({ inputSize: 2, hiddenSize: 3 }).to(gpu).forward(packed)).toThrow(
        /GRU: PackedSequence data is on another 'webgpu' backend but the module runs on 'webgpu \(/,
      );
      expect(() => new GRU({ inputSize: 2, hiddenSize: 3 }).to(cpuBackend).forward(packed)).toThrow(
        "GRU: PackedSequence data is on 'webgpu' but the module runs on 'cpu (TypeScript)'; move the module with .to(backend) or pass a CPU tensor",
      );
      // packing a GPU tensor needs its backend, and only that one
      expect(() => packPaddedSequence(x, [4, 2, 1])).toThrow(
        "packPaddedSequence: input lives on 'webgpu'; pass { backend } (the backend that holds it) to pack it there",
      );
      expect(() => packPaddedSequence(x, [4, 2, 1], { backend: gpu })).toThrow(
        /packPaddedSequence: input is on 'webgpu', not on the given backend 'webgpu \(/,
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
      const rnn = new RNN({ inputSize: 1, hiddenSize: H }).eval().to(small);
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

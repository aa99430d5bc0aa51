// One suite, every backend: PyTorch's fixtures, the reference on random configurations, chaining.
import { gruReference, lstmReference, rnnReference } from '@recurrent/reference';
import {
  add,
  argmax,
  cat,
  Generator,
  indexSelect,
  logSoftmax,
  manualSeed,
  matmul,
  narrow,
  randn,
  reshape,
  softmax,
  Tensor,
  tensor,
  transpose,
  uniform,
} from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClose,
  decode,
  decodeStateDict,
  ieeeFixtures,
  lstmGruFixtures,
  packedFixtures,
  type RecurrentFixture,
  type RnnFixture,
  rnnFixtures,
} from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import type { Backend } from './backend/types.js';
import { Dropout } from './dropout.js';
import { Embedding } from './embedding.js';
import { GRU } from './gru.js';
import { GRUCell } from './gru-cell.js';
import { Linear } from './linear.js';
import { LSTM } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import { PackedSequence, packPaddedSequence, padPackedSequence } from './packed-sequence.js';
import { RNN } from './rnn.js';
import { RNNCell } from './rnn-cell.js';
import { rnnOptions } from './testing/arbitraries.js';
import { backendsUnderTest, webgpuUnavailable } from './testing/backends.js';

if (webgpuUnavailable) it.skip(`webgpu backend: skipped, ${webgpuUnavailable}`, () => {});

/** A CPU copy of a tensor of any backend. */
async function toCpu(t: Tensor): Promise<Tensor> {
  return Tensor.fromArray(await t.data(), t.shape);
}

describe.each(backendsUnderTest)('$name backend', ({ name, create }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await create();
  });
  // worst |got − want| per fixture, printed at the end for the GPU backends
  const worst = new Map<string, number>();
  afterAll(() => {
    const lines = [...worst].map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
    if (lines.length && name.startsWith('webgpu'))
      console.log(`worst |got − want| on ${name}:\n${lines.join('\n')}`);
    backend?.dispose();
  });

  describe.each([
    ['nn.RNN', (c: RnnFixture | RecurrentFixture) => new RNN(c.config), rnnFixtures.rnn],
    ['nn.GRU', (c: RnnFixture | RecurrentFixture) => new GRU(c.config), lstmGruFixtures.gru],
  ] as const)('%s equals PyTorch 1.13 on every fixture', (kind, build, fixtures) => {
    it.each(fixtures.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      // replay PyTorch's draws (init, input, h0) so training-mode dropout masks come out the same
      manualSeed(c.seed);
      const rnn = build(c);
      randn(c.input.shape);
      if (c.h0) randn(c.h0.shape);
      rnn.loadStateDict(decodeStateDict(c.stateDict));
      rnn.train(c.train).to(backend);
      const [output, hN] = rnn.forward(decode(c.input), c.h0 ? decode(c.h0) : undefined);
      expect(output.device).toBe(backend.device);
      const errors = [
        await assertClose(output, c.output, `${c.name} output`),
        await assertClose(hN, c.hN, `${c.name} hN`),
      ];
      worst.set(`${kind}/${c.name}`, Math.max(...errors));
      output.dispose();
      hN.dispose();
    });
  });

  describe('nn.RNNCell equals PyTorch 1.13 on every fixture', () => {
    it.each(rnnFixtures.cell.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const cell = new RNNCell(c.config);
      cell.loadStateDict(decodeStateDict(c.stateDict));
      cell.to(backend);
      const h = cell.forward(decode(c.input), c.hx ? decode(c.hx) : undefined);
      worst.set(`cell/${c.name}`, await assertClose(h, c.h, c.name));
      h.dispose();
    });
  });

  describe('nn.LSTM equals PyTorch 1.13 on every fixture', () => {
    it.each(lstmGruFixtures.lstm.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      manualSeed(c.seed); // replay PyTorch's draws: init, input, h0, c0, then the dropout masks
      const lstm = new LSTM(c.config);
      randn(c.input.shape);
      if (c.h0) randn(c.h0.shape);
      if (c.c0) randn(c.c0.shape);
      lstm.loadStateDict(decodeStateDict(c.stateDict));
      lstm.train(c.train).to(backend);
      const state = c.h0 && c.c0 ? ([decode(c.h0), decode(c.c0)] as [Tensor, Tensor]) : undefined;
      const [output, [hN, cN]] = lstm.forward(decode(c.input), state);
      expect([output.device, hN.device, cN.device]).toEqual([backend.device, backend.device, backend.device]);
      const errors = [
        await assertClose(output, c.output, `${c.name} output`),
        await assertClose(hN, c.hN, `${c.name} hN`),
        await assertClose(cN, c.cN as NonNullable<typeof c.cN>, `${c.name} cN`),
      ];
      worst.set(`lstm/${c.name}`, Math.max(...errors));
      for (const t of [output, hN, cN]) t.dispose();
    });
  });

  describe('nn.LSTMCell and nn.GRUCell equal PyTorch 1.13 on every fixture', () => {
    it.each(lstmGruFixtures.lstmCell.map((c) => [c.name, c] as const))('LSTMCell %s', async (_, c) => {
      const cell = new LSTMCell(c.config);
      cell.loadStateDict(decodeStateDict(c.stateDict));
      cell.to(backend);
      const state = c.hx && c.cx ? ([decode(c.hx), decode(c.cx)] as [Tensor, Tensor]) : undefined;
      const [h, cc] = cell.forward(decode(c.input), state);
      const errors = [await assertClose(h, c.h, `${c.name} h`), await assertClose(cc, c.c, `${c.name} c`)];
      worst.set(`lstmCell/${c.name}`, Math.max(...errors));
      h.dispose();
      cc.dispose();
    });
    it.each(lstmGruFixtures.gruCell.map((c) => [c.name, c] as const))('GRUCell %s', async (_, c) => {
      const cell = new GRUCell(c.config);
      cell.loadStateDict(decodeStateDict(c.stateDict));
      cell.to(backend);
      const h = cell.forward(decode(c.input), c.hx ? decode(c.hx) : undefined);
      worst.set(`gruCell/${c.name}`, await assertClose(h, c.h, c.name));
      h.dispose();
    });
  });

  it('equals the hand-written reference on random configurations', async () => {
    const config = rnnOptions({ inputSize: 13, hiddenSize: 13, numLayers: 3 });
    const run = fc.record({
      config,
      batch: fc.integer({ min: 1, max: 5 }),
      steps: fc.integer({ min: 1, max: 9 }),
      unbatched: fc.boolean(),
      withH0: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ config, batch, steps, unbatched, withH0, seed }) => {
        const generator = new Generator(seed);
        const rnn = new RNN({ ...config, generator }).eval();
        const D = config.bidirectional ? 2 : 1;
        const inputShape = unbatched
          ? [steps, config.inputSize]
          : config.batchFirst
            ? [batch, steps, config.inputSize]
            : [steps, batch, config.inputSize];
        const input = randn(inputShape, { generator });
        const h0 = withH0
          ? randn(
              unbatched
                ? [D * config.numLayers, config.hiddenSize]
                : [D * config.numLayers, batch, config.hiddenSize],
              {
                generator,
              },
            )
          : undefined;
        const [wantOut, wantH] = rnnReference(input, rnn.stateDict(), config, h0);
        const [output, hN] = rnn.to(backend).forward(input, h0);
        await assertClose(output, wantOut, 'output');
        await assertClose(hN, wantH, 'hN');
      }),
      { numRuns: 60 },
    );
  });

  it.each(['LSTM', 'GRU'] as const)(
    '%s equals the hand-written reference on random configurations',
    async (kind) => {
      const run = fc.record({
        config: rnnOptions({ inputSize: 11, hiddenSize: 11, numLayers: 3 }),
        proj: fc.nat({ max: 10 }),
        batch: fc.integer({ min: 1, max: 9 }),
        steps: fc.integer({ min: 1, max: 7 }),
        unbatched: fc.boolean(),
        withState: fc.boolean(),
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
      });
      await fc.assert(
        fc.asyncProperty(
          run,
          async ({
            config: { nonlinearity: _, ...config },
            proj,
            batch,
            steps,
            unbatched,
            withState,
            seed,
          }) => {
            const generator = new Generator(seed);
            // projSize in [0, hiddenSize), drawn for LSTM only
            const projSize = kind === 'LSTM' ? proj % config.hiddenSize : 0;
            const D = config.bidirectional ? 2 : 1;
            const inputShape = unbatched
              ? [steps, config.inputSize]
              : config.batchFirst
                ? [batch, steps, config.inputSize]
                : [steps, batch, config.inputSize];
            const stateShape = (n: number) =>
              unbatched ? [D * config.numLayers, n] : [D * config.numLayers, batch, n];
            if (kind === 'LSTM') {
              const lstm = new LSTM({ ...config, projSize, generator }).eval();
              const input = randn(inputShape, { generator });
              const state = withState
                ? ([
                    randn(stateShape(projSize || config.hiddenSize), { generator }),
                    randn(stateShape(config.hiddenSize), { generator }),
                  ] as [Tensor, Tensor])
                : undefined;
              const [wantOut, [wantH, wantC]] = lstmReference(
                input,
                lstm.stateDict(),
                { ...config, projSize },
                state,
              );
              const [output, [hN, cN]] = lstm.to(backend).forward(input, state);
              await assertClose(output, wantOut, 'output');
              await assertClose(hN, wantH, 'hN');
              await assertClose(cN, wantC, 'cN');
            } else {
              const gru = new GRU({ ...config, generator }).eval();
              const input = randn(inputShape, { generator });
              const h0 = withState ? randn(stateShape(config.hiddenSize), { generator }) : undefined;
              const [wantOut, wantH] = gruReference(input, gru.stateDict(), config, h0);
              const [output, hN] = gru.to(backend).forward(input, h0);
              await assertClose(output, wantOut, 'output');
              await assertClose(hN, wantH, 'hN');
            }
          },
        ),
        { numRuns: 40 },
      );
    },
  );

  describe("PyTorch's order of operations where it decides an IEEE result", () => {
    it.each(ieeeFixtures.recurrent.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      manualSeed(c.seed);
      const m =
        c.module === 'LSTM' ? new LSTM(c.config) : c.module === 'GRU' ? new GRU(c.config) : new RNN(c.config);
      randn(c.input.shape); // the dropout masks come after the input draw
      m.loadStateDict(decodeStateDict(c.stateDict));
      m.train(c.train).to(backend);
      const x = decode(c.input);
      const [output, hN, cN] =
        m instanceof LSTM ? (([o, [h, cc]]) => [o, h, cc])(m.forward(x)) : [...m.forward(x), null];
      await assertClose(output, c.output, `${c.name} output`);
      await assertClose(hN, c.hN, `${c.name} hN`);
      if (cN && c.cN) await assertClose(cN, c.cN, `${c.name} cN`);
    });
    it.each(ieeeFixtures.cell.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const cell =
        c.module === 'LSTMCell'
          ? new LSTMCell(c.config)
          : c.module === 'GRUCell'
            ? new GRUCell(c.config)
            : new RNNCell(c.config);
      cell.loadStateDict(decodeStateDict(c.stateDict));
      cell.to(backend);
      const x = decode(c.input);
      const [h, cc] = cell instanceof LSTMCell ? cell.forward(x) : [cell.forward(x), null];
      await assertClose(h, c.h, `${c.name} h`);
      if (cc && c.c) await assertClose(cc, c.c, `${c.name} c`);
    });
  });

  it('clone() copies a tensor of the backend into storage of its own', async () => {
    const [out] = new GRU({ inputSize: 2, hiddenSize: 3 }).to(backend).forward(randn([4, 2, 2]));
    const want = await out.data();
    const copy = backend.clone(out);
    expect([copy.device, copy.shape, backend.owns(copy)]).toEqual([backend.device, [4, 2, 3], true]);
    if (out.device !== 'cpu') out.dispose();
    expect(await copy.data()).toEqual(want);
  });

  it('cells with hiddenSize 0 return (N, 0) states on the backend, as PyTorch does', async () => {
    const x = randn([3, 5]);
    const h = new GRUCell({ inputSize: 5, hiddenSize: 0 }).to(backend).forward(x);
    const [lh, lc] = new LSTMCell({ inputSize: 5, hiddenSize: 0 }).to(backend).forward(x);
    for (const t of [h, lh, lc]) {
      expect([t.shape, t.device]).toEqual([[3, 0], backend.device]);
      expect((await t.data()).length).toBe(0);
    }
  });

  it('takes its own outputs as inputs without a round trip through the CPU', async () => {
    manualSeed(7);
    const first = new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true }).eval().to(backend);
    const second = new RNN({ inputSize: 8, hiddenSize: 5 }).eval().to(backend);
    const x = randn([6, 2, 3]);
    const [o1] = first.forward(x);
    const [o2, h2] = second.forward(o1);
    expect(o1.device).toBe(backend.device);
    const [ref1] = rnnReference(x, first.stateDict(), { bidirectional: true });
    const [ref2, refH2] = rnnReference(ref1, second.stateDict());
    await assertClose(o2, ref2, 'chained output');
    await assertClose(h2, refH2, 'chained hN');
  });

  it('gives the sequence in chunks the same answer when hN is fed back as h0', async () => {
    manualSeed(11);
    const rnn = new RNN({ inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true }).eval().to(backend);
    const x = randn([3, 10, 4]);
    const [whole, wholeH] = rnn.forward(x);
    const parts: Tensor[] = [];
    let h: Tensor | undefined;
    for (const [start, len] of [
      [0, 4],
      [4, 1],
      [5, 5],
    ] as const) {
      const chunk = narrow(x, 1, start, len);
      const [o, hN] = rnn.forward(chunk, h);
      parts.push(o);
      h = hN;
    }
    await assertClose(cat(await Promise.all(parts.map(toCpu)), 1), whole, 'chunked output');
    await assertClose(h as Tensor, wholeH, 'chunked hN');
  });

  describe('packed sequences equal PyTorch 1.13 on every fixture (packed and unpacked on the backend)', () => {
    it.each(packedFixtures.recurrent.map((c) => [`${c.module} ${c.name}`, c] as const))(
      '%s',
      async (_, c) => {
        manualSeed(c.seed); // replay PyTorch's draws: init, input, h0, c0, then the dropout masks
        const m =
          c.module === 'LSTM'
            ? new LSTM(c.config)
            : c.module === 'GRU'
              ? new GRU(c.config)
              : new RNN(c.config);
        randn(c.padded.shape);
        if (c.h0) randn(c.h0.shape);
        if (c.c0) randn(c.c0.shape);
        m.loadStateDict(decodeStateDict(c.stateDict));
        m.train(c.train).to(backend);
        const padded = backend.fromCpu(decode(c.padded));
        const options = { batchFirst: c.config.batchFirst, enforceSorted: c.enforceSorted, backend };
        const packed = packPaddedSequence(padded, c.lengths, options);
        const [out, hN, cN] = runRecurrent(m, packed, c.h0 ? decode(c.h0) : null, c.c0 ? decode(c.c0) : null);
        expect([out.data.device, hN.device]).toEqual([backend.device, backend.device]);
        const [unpacked, lengths] = padPackedSequence(out, { batchFirst: c.config.batchFirst });
        expect(lengths).toEqual(c.outputLengths);
        const errors = [
          await assertClose(out.data, c.outputData, `${c.name} output data`),
          await assertClose(unpacked, c.output, `${c.name} padded output`),
          await assertClose(hN, c.hN, `${c.name} hN`),
          ...(c.cN && cN ? [await assertClose(cN, c.cN, `${c.name} cN`)] : []),
        ];
        worst.set(`packed ${c.module}/${c.name}`, Math.max(...errors));
        for (const t of [padded, packed.data, out.data, unpacked, hN, cN])
          if (t && t.device !== 'cpu') t.dispose();
      },
      // SwiftShader compiles a packed persistent pipeline with 8192 floats of workgroup memory in 25–60 s
      300_000,
    );
  });

  it.each(['RNN', 'LSTM', 'GRU'] as const)(
    '%s: a packed batch equals running each sequence alone, on random configurations',
    async (kind) => {
      const run = fc.record({
        config: rnnOptions({ inputSize: 7, hiddenSize: 9, numLayers: 2 }),
        proj: fc.nat({ max: 8 }),
        lengths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        withState: fc.boolean(),
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
      });
      await fc.assert(
        fc.asyncProperty(run, async ({ config, proj, lengths, withState, seed }) => {
          const generator = new Generator(seed);
          const { nonlinearity, ...common } = config;
          const projSize = kind === 'LSTM' && proj < config.hiddenSize ? proj : 0;
          const m =
            kind === 'LSTM'
              ? new LSTM({ ...common, projSize, generator })
              : kind === 'GRU'
                ? new GRU({ ...common, generator })
                : new RNN({ ...config, generator });
          m.eval().to(backend);
          const { batchFirst, inputSize, hiddenSize } = config;
          const N = lengths.length;
          const T = Math.max(...lengths);
          const K = (config.bidirectional ? 2 : 1) * config.numLayers;
          const x = randn(batchFirst ? [N, T, inputSize] : [T, N, inputSize], { generator });
          const h0 = withState ? randn([K, N, projSize || hiddenSize], { generator }) : null;
          const c0 = withState && kind === 'LSTM' ? randn([K, N, hiddenSize], { generator }) : null;
          const packed = packPaddedSequence(x, lengths, { batchFirst, enforceSorted: false });
          const [out, hN, cN] = runRecurrent(m, packed, h0, c0);
          const [unpacked] = padPackedSequence(out, { batchFirst });
          const outCpu = await toCpu(unpacked);
          for (let b = 0; b < N; b++) {
            const len = lengths[b] as number;
            const dim = batchFirst ? 0 : 1;
            const xb = narrow(narrow(x, dim, b, 1), 1 - dim, 0, len);
            const [ob, hb, cb] = runRecurrent(m, xb, h0 && narrow(h0, 1, b, 1), c0 && narrow(c0, 1, b, 1));
            await assertClose(
              narrow(narrow(outCpu, dim, b, 1), 1 - dim, 0, len),
              await toCpu(ob),
              `output ${b}`,
            );
            await assertClose(narrow(await toCpu(hN), 1, b, 1), await toCpu(hb), `hN ${b}`);
            if (cN && cb) await assertClose(narrow(await toCpu(cN), 1, b, 1), await toCpu(cb), `cN ${b}`);
          }
        }),
        { numRuns: 25 },
      );
    },
    300_000,
  );
});

/** `m.forward(input, state)` for any of the three modules: `[output, hN, cN]` (cN null but for an LSTM). */
function runRecurrent<I extends Tensor | PackedSequence>(
  m: RNN | LSTM | GRU,
  input: I,
  h0: Tensor | null,
  c0: Tensor | null,
): [I extends PackedSequence ? PackedSequence : Tensor, Tensor, Tensor | null] {
  type Out = I extends PackedSequence ? PackedSequence : Tensor;
  if (m instanceof LSTM) {
    const state = h0 && c0 ? ([h0, c0] as [Tensor, Tensor]) : null;
    const [out, [hN, cN]] =
      input instanceof PackedSequence ? m.forward(input, state) : m.forward(input as Tensor, state);
    return [out as Out, hN, cN];
  }
  const [out, hN] =
    input instanceof PackedSequence
      ? m instanceof GRU
        ? m.forward(input, h0)
        : m.forward(input, h0)
      : m instanceof GRU
        ? m.forward(input as Tensor, h0)
        : m.forward(input as Tensor, h0);
  return [out as Out, hN, null];
}

// A model head's ops (Backend.linear, embedding, argmax, softmax, logSoftmax, dropout) on every backend,
// against @recurrent/tensor's CPU ops on random data with ties, NaN and infinities.
describe.each(backendsUnderTest)("$name backend: a model head's ops", ({ create }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(() => backend?.dispose());

  /** A CPU tensor of the given values, shape and dtype, on the backend. */
  const on = (t: Tensor): Tensor => backend.fromCpu(t);
  const read = async (t: Tensor): Promise<number[]> => {
    expect([t.device, backend.owns(t)]).toEqual([backend.device, true]);
    return [...(await t.data())];
  };
  /** Values drawn from a small set, so rows have ties; with NaN and ±Inf sprinkled in when `special`. */
  const tricky = (n: number, g: Generator, special: boolean): Float32Array => {
    const pool = [-2, -1, -0, 0, 0.5, 1, 3, ...(special ? [Number.NaN, Infinity, -Infinity] : [])];
    const u = uniform([n], 0, 1, { generator: g }).dataSync();
    return Float32Array.from(u, (v) =>
      v < 0.5 ? (pool[Math.floor(v * 2 * pool.length)] as number) : v * 8 - 4,
    );
  };
  const shapes = fc.record({
    lead: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }),
    last: fc.integer({ min: 1, max: 150 }),
    special: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
  });

  it('linear equals x·Wᵀ + b (matmul, add) for any leading dims and sizes, with and without bias', async () => {
    const run = fc.record({
      lead: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 }),
      K: fc.integer({ min: 0, max: 40 }),
      N: fc.integer({ min: 0, max: 40 }),
      bias: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ lead, K, N, bias, seed }) => {
        const generator = new Generator(seed);
        const x = randn([...lead, K], { generator });
        const w = randn([N, K], { generator });
        const b = bias ? randn([N], { generator }) : null;
        const y = backend.linear({ input: on(x), weight: on(w), bias: b ? on(b) : null });
        expect(y.shape).toEqual([...lead, N]);
        const rows = lead.reduce((p, d) => p * d, 1);
        const xw = matmul(reshape(x, [rows, K]), transpose(w, 0, 1));
        const want = reshape(b ? add(xw, b) : xw, [...lead, N]);
        await assertClose(Tensor.fromArray(Float32Array.from(await read(y)), y.shape), want, 'linear');
      }),
      { numRuns: 30 },
    );
  });

  it('embedding equals indexSelect(weight, 0, indices), any index shape', async () => {
    const run = fc.record({
      shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
      n: fc.integer({ min: 1, max: 30 }),
      D: fc.integer({ min: 0, max: 9 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ shape, n, D, seed }) => {
        const generator = new Generator(seed);
        const weight = randn([n, D], { generator });
        const count = shape.reduce((p, d) => p * d, 1);
        const ids = Int32Array.from(uniform([count], 0, n, { generator }).dataSync(), Math.floor);
        const y = backend.embedding({
          indices: on(Tensor.fromArray(ids, shape)) as Tensor<'int32'>,
          weight: on(weight),
          paddingIdx: null,
        });
        expect(y.shape).toEqual([...shape, D]);
        const want = indexSelect(weight, 0, Tensor.fromArray(ids, [count])).dataSync();
        expect(await read(y)).toEqual([...want]);
      }),
      { numRuns: 30 },
    );
  });

  it('embedding: an index out of range is a RangeError on the CPU, a NaN row on WebGPU', async () => {
    const weight = on(randn([5, 3]));
    const indices = on(Tensor.fromArray(Int32Array.of(1, 5, -1, 4), [2, 2])) as Tensor<'int32'>;
    if (backend.device === 'cpu') {
      expect(() => backend.embedding({ indices, weight, paddingIdx: null })).toThrow(
        new RangeError(
          'Embedding: index 5 at position [0, 1] is out of range for numEmbeddings 5 (indices must be in [0, 4])',
        ),
      );
      return;
    }
    const got = await read(backend.embedding({ indices, weight, paddingIdx: null }));
    expect(got.map(Number.isNaN)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0].map(Boolean));
  });

  it("argmax equals argmax(x, -1): ties give the first index, NaN the first NaN's", async () => {
    await fc.assert(
      fc.asyncProperty(shapes, async ({ lead, last, special, seed }) => {
        const shape = [...lead, last];
        const x = Tensor.fromArray(
          tricky(
            shape.reduce((p, d) => p * d, 1),
            new Generator(seed),
            special,
          ),
          shape,
        );
        const got = backend.argmax({ input: on(x), dim: -1 });
        const want = argmax(x, -1);
        expect([got.dtype, got.shape]).toEqual(['int32', want.shape]);
        expect(await read(got)).toEqual([...want.dataSync()]);
      }),
      { numRuns: 40 },
    );
    // all equal, all NaN, a NaN after the max, the max late in a long row (past the threads' first pass)
    const rows = [
      [2, 2, 2, 2],
      [Number.NaN, Number.NaN, 1, Number.NaN],
      [1, 9, Number.NaN, 9],
      [-Infinity, -Infinity, -Infinity, -Infinity],
    ];
    const x = tensor(rows);
    expect(await read(backend.argmax({ input: on(x), dim: -1 }))).toEqual([0, 0, 2, 0]);
    const long = new Float32Array(1000).fill(-1);
    long[777] = 5;
    long[999] = 5;
    expect(await read(backend.argmax({ input: on(Tensor.fromArray(long, [1000])), dim: -1 }))).toEqual([777]);
    expect(() => backend.argmax({ input: on(randn([3, 0])), dim: -1 })).toThrow(
      new RangeError('argmax(): Expected reduction dim 1 to have non-zero size.'),
    );
    expect((await backend.argmax({ input: on(randn([0, 4])), dim: -1 }).data()).length).toBe(0);
  });

  it.each(['softmax', 'logSoftmax'] as const)(
    '%s equals the CPU op over the last dim, NaN and infinities included',
    async (op) => {
      const cpuOp = op === 'softmax' ? softmax : logSoftmax;
      await fc.assert(
        fc.asyncProperty(shapes, async ({ lead, last, special, seed }) => {
          const shape = [...lead, last];
          const g = new Generator(seed);
          // large values too: exp(x) alone would overflow
          const x = Tensor.fromArray(
            tricky(
              shape.reduce((p, d) => p * d, 1),
              g,
              special,
            ).map((v) => v * 30),
            shape,
          );
          const got = await read(backend[op]({ input: on(x), dim: -1 }));
          const want = cpuOp(x, -1).dataSync();
          got.forEach((v, i) => {
            const w = want[i] as number;
            if (!Number.isFinite(w)) expect(v, `element ${i}`).toBe(w);
            else
              expect(Math.abs(v - w), `element ${i}: ${v} vs ${w}`).toBeLessThanOrEqual(
                2e-5 + 2e-5 * Math.abs(w),
              );
          });
        }),
        { numRuns: 40 },
      );
    },
  );

  it("dropout equals the CPU's bit for bit from the same generator, and multiplies by 0 for p = 1", async () => {
    for (const [p, seed] of [
      [0.3, 1],
      [0.5, 2],
      [0.9, 3],
    ] as const) {
      const x = tensor([
        [1, -2, Number.POSITIVE_INFINITY, 0.25],
        [3, Number.NaN, -0, 7],
      ]);
      const got = backend.dropout({ input: on(x), p, generator: new Generator(seed) });
      const want = cpuBackend.dropout({ input: x, p, generator: new Generator(seed) });
      expect(await read(got)).toEqual([...want.dataSync()]);
    }
    const x = tensor([1, Number.POSITIVE_INFINITY, -2]);
    expect(await read(backend.dropout({ input: on(x), p: 1, generator: new Generator(0) }))).toEqual([
      0,
      Number.NaN,
      -0,
    ]);
  });

  it('Linear, Embedding and Dropout modules compute on the backend', async () => {
    manualSeed(5);
    const embed = new Embedding({ numEmbeddings: 11, embeddingDim: 4 }).to(backend);
    const drop = new Dropout({ p: 0.25, generator: new Generator(9) }).to(backend);
    const head = new Linear({ inFeatures: 4, outFeatures: 3 }).to(backend);
    const ids = Tensor.fromArray(Int32Array.of(3, 0, 10, 7), [2, 2]);
    const y = head.forward(drop.forward(embed.forward(ids)));
    expect([y.device, y.shape]).toEqual([backend.device, [2, 2, 3]]);
    const cpu = (m: Linear | Embedding | Dropout) => m.to(cpuBackend);
    const drop2 = new Dropout({ p: 0.25, generator: new Generator(9) });
    const want = cpu(head).forward(cpu(drop2).forward(cpu(embed).forward(ids)));
    await assertClose(Tensor.fromArray(Float32Array.from(await read(y)), y.shape), want, 'head');
  });
});

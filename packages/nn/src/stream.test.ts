// Streaming on every backend: chunks with the state carried over equal one forward over the whole sequence.
import { add, cat, Generator, manualSeed, narrow, randn, sum, Tensor, zeros } from '@recurrent/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertClose, checkpointFixtures, decode, readFixtureBytes } from '../../../fixtures/load.js';
import type { Backend } from './backend/types.js';
import { GRU } from './gru.js';
import { LSTM, type LSTMOptions, type LSTMState } from './lstm.js';
import { RNN, type RNNOptions } from './rnn.js';
import { loadSafetensors } from './safetensors/load.js';
import { RNNStream } from './stream.js';
import { backendsUnderTest } from './testing/backends.js';

/** A copy on the CPU (reads GPU tensors back), so results can be concatenated and compared. */
async function toCpu(t: Tensor): Promise<Tensor> {
  return t.device === 'cpu' ? t : Tensor.fromArray((await t.data()).slice(), t.shape);
}

/** The dimension of time in a chunk. */
const timeDim = (rnn: RNN, batch: number | null): number => (batch !== null && rnn.batchFirst ? 1 : 0);

/** `backend`, counting the hN states its forwards return that have not been disposed yet. */
function countingLiveStates(backend: Backend): { backend: Backend; live: () => number } {
  let live = 0;
  return {
    live: () => live,
    backend: {
      ...backend, // the ops not counted here
      device: backend.device,
      label: backend.label,
      disposed: false,
      owns: (t) => backend.owns(t),
      clone: (t) => backend.clone(t),
      dispose: () => {},
      fromCpu: (t) => backend.fromCpu(t),
      // a state given back to the backend (the WebAssembly ones) is released as a disposed one is
      ...(backend.recycle && {
        recycle(t: Tensor) {
          (t.storage as { dispose(): void }).dispose();
          backend.recycle?.(t);
        },
      }),
      rnn(args) {
        const result = backend.rnn(args);
        // patch the storage: unbatched forwards hand out a squeezed view of hN, which shares it
        const storage = result.hN.storage as { dispose(): void };
        const dispose = storage.dispose.bind(storage);
        let disposed = false;
        live++;
        storage.dispose = () => {
          if (!disposed) live--;
          disposed = true;
          dispose();
        };
        return result;
      },
    },
  };
}

/** Hooks of backends that count their work (the WebGPU backend does). */
type Stats = { readbacks: number; buffersInUse: number };
const statsOf = (backend: Backend): Stats | null => (backend as { stats?: () => Stats }).stats?.() ?? null;

describe.each(backendsUnderTest)('$name backend', ({ name, create }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await create();
  });

  async function streamed(
    rnn: RNN,
    x: Tensor,
    batch: number | null,
    lengths: readonly number[],
    h0?: Tensor,
  ): Promise<[Tensor, Tensor]> {
    const stream = new RNNStream(rnn, { batch, h0 });
    const dim = timeDim(rnn, batch);
    const outputs: Tensor[] = [];
    let start = 0;
    for (const length of lengths) {
      const out = stream.step(narrow(x, dim, start, length));
      expect(out.device).toBe(backend.device);
      outputs.push(await toCpu(out));
      if (out.device !== 'cpu') out.dispose();
      start += length;
    }
    expect(stream.steps).toBe(start);
    expect(stream.state?.device).toBe(backend.device);
    return [cat(outputs, dim), await toCpu(stream.state as Tensor)];
  }

  const configs: [string, Omit<RNNOptions, 'inputSize'>, number | null, number[][], boolean][] = [
    // name, options, batch, chunkings of 10 steps, h0?
    [
      '1 layer, tanh',
      { hiddenSize: 5 },
      2,
      [[10], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 4, 3], [7, 1, 2]],
      false,
    ],
    [
      '2 layers, batch first, h0',
      { hiddenSize: 6, numLayers: 2, batchFirst: true },
      3,
      [
        [4, 1, 5],
        [1, 9],
      ],
      true,
    ],
    [
      'relu without bias',
      { hiddenSize: 4, nonlinearity: 'relu', bias: false },
      1,
      [
        [2, 2, 2, 2, 2],
        [9, 1],
      ],
      true,
    ],
    [
      '3 layers, unbatched, h0',
      { hiddenSize: 7, numLayers: 3 },
      null,
      [
        [5, 5],
        [1, 2, 3, 4],
      ],
      true,
    ],
    ['unbatched, batch first ignored', { hiddenSize: 3, batchFirst: true }, null, [[6, 4]], false],
  ];

  it.each(configs)('chunked equals whole: %s', async (_, options, batch, chunkings, withH0) => {
    manualSeed(21);
    const rnn = new RNN({ inputSize: 3, ...options }).eval().to(backend);
    const shape = batch === null ? [10, 3] : rnn.batchFirst ? [batch, 10, 3] : [10, batch, 3];
    const x = randn(shape);
    const layers = rnn.numLayers;
    const h0 = withH0
      ? randn(batch === null ? [layers, rnn.hiddenSize] : [layers, batch, rnn.hiddenSize])
      : undefined;
    const [whole, wholeH] = rnn.forward(x, h0);
    for (const lengths of chunkings) {
      const [output, hN] = await streamed(rnn, x, batch, lengths, h0);
      await assertClose(output, await toCpu(whole), `output, chunks ${lengths}`);
      await assertClose(hN, await toCpu(wholeH), `hN, chunks ${lengths}`);
    }
  });

  it('chunked equals whole for random configurations and chunkings', async () => {
    const run = fc.record({
      hiddenSize: fc.integer({ min: 1, max: 9 }),
      numLayers: fc.integer({ min: 1, max: 3 }),
      nonlinearity: fc.constantFrom<'tanh' | 'relu'>('tanh', 'relu'),
      bias: fc.boolean(),
      batchFirst: fc.boolean(),
      batch: fc.option(fc.integer({ min: 1, max: 4 })),
      lengths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
      seed: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ batch, lengths, seed, ...options }) => {
        const generator = new Generator(seed);
        const rnn = new RNN({ inputSize: 2, ...options, generator }).eval().to(backend);
        const L = lengths.reduce((a, b) => a + b, 0);
        const x = randn(batch === null ? [L, 2] : options.batchFirst ? [batch, L, 2] : [L, batch, 2], {
          generator,
        });
        const [whole, wholeH] = rnn.forward(x);
        const [output, hN] = await streamed(rnn, x, batch, lengths);
        await assertClose(output, await toCpu(whole), 'output');
        await assertClose(hN, await toCpu(wholeH), 'hN');
      }),
      { numRuns: 25 },
    );
  });

  it.each<['LSTM' | 'GRU', Omit<LSTMOptions, 'inputSize'>]>([
    ['LSTM', { hiddenSize: 5, numLayers: 2 }],
    ['LSTM', { hiddenSize: 6, projSize: 2, batchFirst: true }],
    ['GRU', { hiddenSize: 5, numLayers: 2, batchFirst: true }],
    ['GRU', { hiddenSize: 4, bias: false }],
  ])('%s %o: chunked equals whole, the state carried on the backend', async (kind, options) => {
    for (const [batch, withH0] of [
      [2, true],
      [null, false],
    ] as const) {
      manualSeed(5);
      const x = randn(batch === null ? [9, 3] : options.batchFirst ? [batch, 9, 3] : [9, batch, 3]);
      const dim = batch !== null && options.batchFirst ? 1 : 0;
      const chunks = [narrow(x, dim, 0, 4), narrow(x, dim, 4, 1), narrow(x, dim, 5, 4)];
      const layers = options.numLayers ?? 1;
      const dims = (n: number) => (batch === null ? [layers, n] : [layers, batch, n]);
      if (kind === 'LSTM') {
        const lstm = new LSTM({ inputSize: 3, ...options }).eval().to(backend);
        const P = lstm.cell.stateSize;
        const h0 = withH0 ? ([randn(dims(P)), randn(dims(lstm.hiddenSize))] as LSTMState) : undefined;
        const [whole, [wh, wc]] = lstm.forward(x, h0);
        const stream = lstm.stream({ batch, h0 });
        const outs: Tensor[] = [];
        for (const chunk of chunks) outs.push(await toCpu(stream.step(chunk)));
        const [h, c] = stream.state as LSTMState;
        expect([h.device, c.device]).toEqual([backend.device, backend.device]);
        await assertClose(cat(outs, dim), await toCpu(whole), `${kind} output`);
        await assertClose(h, await toCpu(wh), `${kind} hN`);
        await assertClose(c, await toCpu(wc), `${kind} cN`);
      } else {
        const gru = new GRU({ inputSize: 3, ...options }).eval().to(backend);
        const h0 = withH0 ? randn(dims(gru.hiddenSize)) : undefined;
        const [whole, wh] = gru.forward(x, h0);
        const stream = gru.stream({ batch, h0 });
        const outs: Tensor[] = [];
        for (const chunk of chunks) outs.push(await toCpu(stream.step(chunk)));
        await assertClose(cat(outs, dim), await toCpu(whole), `${kind} output`);
        await assertClose(stream.state as Tensor, await toCpu(wh), `${kind} hN`);
      }
    }
  });

  it('streams a PyTorch checkpoint to PyTorch’s numbers', async () => {
    for (const [file, lengths] of [
      ['relu_no_bias', [4, 1, 4]],
      ['two_layers_unbatched', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ] as const) {
      const c = checkpointFixtures.checkpoints.find((x) => x.name === file);
      if (!c) throw new Error(`fixture ${file} missing`);
      const rnn = new RNN(c.config);
      rnn.loadStateDict(loadSafetensors(readFixtureBytes(c.file)));
      rnn.eval().to(backend);
      const batch = c.input.shape.length === 2 ? null : (c.input.shape[rnn.batchFirst ? 0 : 1] as number);
      const [output, hN] = await streamed(
        rnn,
        decode(c.input),
        batch,
        lengths,
        c.h0 ? decode(c.h0) : undefined,
      );
      await assertClose(output, c.output, `${file} output`);
      await assertClose(hN, c.hN, `${file} hN`);
    }
  });

  // 10 000 steps, except on a software GPU (SwiftShader in CI), where each step's queue submit costs
  // milliseconds: 300 there. The CPU compares every step's output; a GPU backend reads back every 50th
  // (and the final state) after the loop, so the loop itself reads nothing back.
  const software = process.env.RECURRENT_WEBGPU_ADAPTER === 'swiftshader';
  const onCpu = name.startsWith('cpu');
  const steps = onCpu || !software ? 10_000 : 300;
  const sampleEvery = onCpu ? 1 : 50;

  it(`takes ${steps} single steps with the result of one forward and flat memory`, async () => {
    manualSeed(5);
    const counting = countingLiveStates(backend);
    const rnn = new RNN({ inputSize: 4, hiddenSize: 16, numLayers: 2 }).eval().to(counting.backend);
    const x = randn([steps, 2, 4]);
    const h0 = randn([2, 2, 16]);
    const [whole, wholeH] = rnn.forward(x, h0);
    const wholeCpu = await toCpu(whole);
    const wholeHCpu = await toCpu(wholeH);
    for (const t of [whole, wholeH]) if (t.device !== 'cpu') t.dispose();

    const stream = new RNNStream(rnn, { batch: 2, h0 });
    const before = statsOf(backend);
    const liveBefore = counting.live();
    const kept: [number, Tensor][] = [];
    for (let t = 0; t < steps; t++) {
      const out = stream.step(narrow(x, 0, t, 1));
      if (t % sampleEvery === 0 || t === steps - 1) kept.push([t, out]);
      else out.dispose();
      // the stream holds one state at a time, whatever the backend
      if (t % 1000 === 0) expect(counting.live() - liveBefore).toBe(1);
    }
    expect(counting.live() - liveBefore).toBe(1);
    expect(stream.state?.shape).toEqual([2, 2, 16]);
    const after = statsOf(backend);
    if (before && after) {
      // on a device: no readback while streaming; in use, only the outputs kept here and one state
      expect(after.readbacks - before.readbacks).toBe(0);
      expect(after.buffersInUse - before.buffersInUse).toBeLessThanOrEqual(kept.length + 1);
    }
    for (const [t, out] of kept) {
      await assertClose(await toCpu(out), narrow(wholeCpu, 0, t, 1), `step ${t} of ${steps}: output`);
      out.dispose();
    }
    await assertClose(await toCpu(stream.state as Tensor), wholeHCpu, `${steps} single steps: hN`);
    stream.reset();
    expect(counting.live() - liveBefore).toBe(0);
  });

  it('reset() starts over from h0, or from a given state, and releases the state it held', async () => {
    manualSeed(8);
    const counting = countingLiveStates(backend);
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 }).eval().to(counting.backend);
    const x = randn([4, 1, 2]);
    const h0 = randn([1, 1, 3]);
    const stream = new RNNStream(rnn, { batch: 1, h0 });
    expect(stream.state).not.toBe(h0); // the stream's own copy
    expect((stream.state as Tensor).dataSync()).toEqual(h0.dataSync());
    const first = await toCpu(stream.step(x));
    expect(stream.steps).toBe(4);
    const hN = await toCpu(stream.state as Tensor);
    stream.reset();
    expect(counting.live()).toBe(0);
    expect((stream.state as Tensor).dataSync()).toEqual(h0.dataSync());
    expect(stream.steps).toBe(0);
    await assertClose(await toCpu(stream.step(x)), first, 'the same output after reset');
    stream.reset(null);
    expect(stream.state).toBeNull();
    const [fromZeros] = rnn.forward(x);
    await assertClose(await toCpu(stream.step(x)), await toCpu(fromZeros), 'zeros after reset(null)');
    stream.reset(hN);
    const [continued] = rnn.forward(x, hN);
    await assertClose(await toCpu(stream.step(x)), await toCpu(continued), 'from the state given to reset');
    expect(hN.numel()).toBe(3); // a state given by the caller is never released by the stream
  });

  it('owns copies of the states it is given: reset(stream.state) continues, and the caller may dispose theirs', async () => {
    manualSeed(9);
    for (const kind of ['GRU', 'LSTM'] as const) {
      const x = randn([6, 2, 3]);
      const whole =
        kind === 'LSTM'
          ? new LSTM({ inputSize: 3, hiddenSize: 4 })
          : new GRU({ inputSize: 3, hiddenSize: 4 });
      whole.eval().to(backend);
      const [want] = whole instanceof LSTM ? whole.forward(x) : whole.forward(x);
      const h0 = backend.fromCpu(zeros([1, 2, 4]));
      const stream =
        whole instanceof LSTM
          ? whole.stream({ batch: 2, h0: [h0, backend.fromCpu(zeros([1, 2, 4]))] })
          : whole.stream({ batch: 2, h0 });
      if (h0.device !== 'cpu') h0.dispose(); // the stream keeps its own copy
      const parts = [await toCpu(stream.step(narrow(x, 0, 0, 2)))];
      stream.reset(stream.state as never); // on WebGPU this once failed: "h0 … was disposed"
      expect(stream.steps).toBe(0);
      parts.push(await toCpu(stream.step(narrow(x, 0, 2, 4))));
      await assertClose(
        cat(parts, 0),
        await toCpu(want),
        `${kind}: reset(stream.state) continues the sequence`,
      );
    }
  });
});

// The WebAssembly backends write a stream's next state over the arrays of a state it released.
describe.each(backendsUnderTest.filter((b) => b.name.startsWith('cpu-wasm')))(
  '$name backend, states given back',
  ({ create }) => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await create();
    });

    /** `backend`, recording the tensors given back to it. */
    function recording(): { backend: Backend; given: Tensor[] } {
      const given: Tensor[] = [];
      const recycle = (t: Tensor): void => {
        given.push(t);
        backend.recycle?.(t);
      };
      return { given, backend: { ...backend, recycle } };
    }

    it('gives back every state it never handed out, and later steps write theirs over them', async () => {
      manualSeed(31);
      const rec = recording();
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 20, numLayers: 2 }).eval().to(rec.backend);
      const x = randn([8, 2, 3]);
      const [want, [wantH, wantC]] = lstm.forward(x);
      const stream = lstm.stream({ batch: 2 });
      const outputs = Array.from({ length: 8 }, (_, t) => stream.step(narrow(x, 0, t, 1)));
      expect(rec.given.length).toBe(2 * 7); // h and c of every state but the last
      const [h, c] = stream.state as LSTMState;
      const givenArrays = new Set(rec.given.map((t) => t.dataSync()));
      expect(givenArrays.has(h.dataSync())).toBe(true);
      expect(givenArrays.has(c.dataSync())).toBe(true);
      await assertClose(cat(outputs, 0), want, 'outputs of 8 steps');
      await assertClose(h, wantH, 'hN');
      await assertClose(c, wantC, 'cN');
    });

    it('keeps a state that `state` handed out: later steps do not write over it', async () => {
      manualSeed(32);
      const rec = recording();
      const gru = new GRU({ inputSize: 3, hiddenSize: 20 }).eval().to(rec.backend);
      const x = randn([7, 1, 3]);
      const [, want] = gru.forward(narrow(x, 0, 0, 3));
      const stream = gru.stream({ batch: 1 });
      stream.step(narrow(x, 0, 0, 3));
      const seen = stream.state as Tensor;
      for (let t = 3; t < 7; t++) stream.step(narrow(x, 0, t, 1));
      expect(rec.given).not.toContain(seen);
      expect(rec.given.length).toBe(3);
      await assertClose(seen, want, 'the state handed out, four steps later');
    });

    it('never gives back a state an autograd graph holds, and trains to the gradients of one forward', async () => {
      manualSeed(33);
      const rec = recording();
      const x = randn([4, 1, 3]);
      // in training mode: a graph per step
      const make = (): LSTM => {
        manualSeed(34);
        return new LSTM({ inputSize: 3, hiddenSize: 20 }).to(rec.backend);
      };
      const whole = make();
      sum(whole.forward(x)[0]).backward();
      const want = whole.parameters().map((p) => p.grad as Tensor);
      const lstm = make();
      const stream = lstm.stream({ batch: 1 });
      let loss = sum(stream.step(narrow(x, 0, 0, 1)));
      for (let t = 1; t < 4; t++) loss = add(loss, sum(stream.step(narrow(x, 0, t, 1))));
      loss.backward();
      for (const [i, p] of lstm.parameters().entries()) {
        await assertClose(p.grad as Tensor, want[i] as Tensor, `gradient of parameter ${i}`);
      }
      // a state made in eval mode, then a training step's h0 (its graph saves it), then released
      lstm.eval();
      stream.reset();
      stream.step(narrow(x, 0, 0, 1));
      lstm.train();
      stream.step(narrow(x, 0, 1, 1));
      stream.step(narrow(x, 0, 2, 1));
      expect(rec.given).toEqual([]);
    });
  },
);

describe('RNNStream errors', () => {
  const rnn = new RNN({ inputSize: 4, hiddenSize: 3, numLayers: 2 });
  const batchFirst = new RNN({ inputSize: 4, hiddenSize: 3, batchFirst: true });

  it('is what rnn.stream() returns', () => {
    const stream = rnn.stream({ batch: 2 });
    expect(stream).toBeInstanceOf(RNNStream);
    expect([stream.rnn, stream.batch, stream.state]).toEqual([rnn, 2, null]);
    expect(() => new RNN({ inputSize: 1, hiddenSize: 1, bidirectional: true }).stream({ batch: 1 })).toThrow(
      'RNNStream: a bidirectional RNN needs the whole sequence',
    );
  });

  it('an LSTM stream takes [h0, c0] and names which one is wrong', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2 });
    expect(() => lstm.stream({ batch: 2, h0: zeros([1, 2, 2]) as never })).toThrow(
      'RNNStream: h0 of an LSTM must be [h0, c0], received a Tensor of shape [1, 2, 2]',
    );
    expect(() => lstm.stream({ batch: 2, h0: [zeros([1, 2, 4]), zeros([1, 2, 4])] })).toThrow(
      'RNNStream: h0[0] (h) must have shape [1, 2, 2] (numLayers, N, projSize), received shape [1, 2, 4]',
    );
    expect(() => lstm.stream({ batch: null, h0: [zeros([1, 2]), zeros([1, 2])] })).toThrow(
      'RNNStream: h0[1] (c) must have shape [1, 4] (numLayers, hiddenSize), received shape [1, 2]',
    );
    expect(() => new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true }).stream({ batch: 1 })).toThrow(
      'RNNStream: a bidirectional GRU needs the whole sequence',
    );
  });

  it('refuses a bidirectional RNN at creation', () => {
    expect(
      () => new RNNStream(new RNN({ inputSize: 4, hiddenSize: 3, bidirectional: true }), { batch: 1 }),
    ).toThrow(
      'RNNStream: a bidirectional RNN needs the whole sequence: its reverse direction starts from the last step; ' +
        'run forward() on the full sequence instead',
    );
  });

  it.each<[string, unknown, string]>([
    ['a batch of 0', { batch: 0 }, 'received 0'],
    ['a fractional batch', { batch: 1.5 }, 'received 1.5'],
    ['a batch as a string', { batch: '2' }, 'received "2"'],
    ['no batch', {}, 'received nothing'],
    ['no options', undefined, 'received nothing'],
  ])('refuses %s', (_, options, received) => {
    expect(() => new RNNStream(rnn, options as { batch: number })).toThrow(
      `RNNStream: batch must be an integer >= 1 (the N of every chunk), or null for unbatched chunks (L, inputSize), ${received}`,
    );
  });

  it('refuses an h0 of the wrong shape, at creation and in reset()', () => {
    expect(() => new RNNStream(rnn, { batch: 2, h0: randn([2, 3, 3]) })).toThrow(
      'RNNStream: h0 must have shape [2, 2, 3] (numLayers, N, hiddenSize), received shape [2, 3, 3]',
    );
    expect(() => new RNNStream(rnn, { batch: null, h0: randn([2, 1, 3]) })).toThrow(
      'RNNStream: h0 must have shape [2, 3] (numLayers, hiddenSize), received shape [2, 1, 3]',
    );
    expect(() => new RNNStream(rnn, { batch: 1 }).reset(randn([3]))).toThrow(
      'RNNStream: reset(state) must have shape [2, 1, 3] (numLayers, N, hiddenSize), received shape [3]',
    );
    expect(() => new RNNStream({} as RNN, { batch: 1 })).toThrow('RNNStream: expected an RNN');
  });

  it.each<[string, RNN, number | null, number[], string]>([
    [
      'another batch size',
      rnn,
      2,
      [5, 3, 4],
      'this stream takes chunks (L, N, inputSize) with N = 2, received shape [5, 3, 4]',
    ],
    [
      'another batch size, batch first',
      batchFirst,
      2,
      [3, 5, 4],
      'this stream takes chunks (N, L, inputSize) with N = 2, received shape [3, 5, 4]',
    ],
    [
      'an unbatched chunk in a batched stream',
      rnn,
      1,
      [5, 4],
      'this stream takes chunks (L, N, inputSize) with N = 1, received shape [5, 4]',
    ],
    [
      'a batched chunk in an unbatched stream',
      rnn,
      null,
      [5, 1, 4],
      'this stream takes unbatched chunks (L, inputSize) (it was created with batch: null), received shape [5, 1, 4]',
    ],
    [
      'a chunk with the wrong feature size',
      rnn,
      1,
      [5, 1, 3],
      "RNN: input's last dimension must equal inputSize (4), received shape [5, 1, 3]",
    ],
  ])('refuses %s and keeps its state', (_, module, batch, shape, message) => {
    const stream = new RNNStream(module, { batch });
    const chunk = randn(batch === null ? [2, 4] : module.batchFirst ? [batch, 2, 4] : [2, batch, 4]);
    stream.step(chunk);
    const state = stream.state;
    expect(() => stream.step(randn(shape))).toThrow(
      message.startsWith('RNN:') ? message : `RNNStream: ${message}`,
    );
    expect(stream.state).toBe(state);
    expect(stream.steps).toBe(2);
  });

  it('refuses a chunk that is not a tensor', () => {
    expect(() => new RNNStream(rnn, { batch: 1 }).step([1, 2] as unknown as Tensor)).toThrow(
      'RNNStream: a chunk must be a Tensor, received object',
    );
  });
});

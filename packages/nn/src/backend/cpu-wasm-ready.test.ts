// The ready forward of the WASM CPU backend (cpu-wasm-ready.ts): repeated inference forwards of one shape
// reuse their buffers and kernel calls; every result must still equal the plain TypeScript backend's, as
// inputs, states, shapes and parameters change between calls.
import { createWasmPool, initWasm } from '@recurrent/kernels-wasm';
import { Generator, noGrad, randn, type Tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../../../fixtures/load.js';
import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import { RNN } from '../rnn.js';
import { cpuBackend } from './cpu.js';
import { wasmCpuBackend } from './cpu-wasm.js';
import { pipelineChunks, readyKey, sameKey } from './cpu-wasm-ready.js';
import type { DirectionBlocks } from './cpu-wasm-rnn.js';
import { seqGeometry } from './geometry.js';
import type { RnnArgs } from './types.js';

async function backend() {
  const kernels = await initWasm();
  if (!kernels) throw new Error('this Node has no WebAssembly SIMD');
  return wasmCpuBackend(kernels, { minFlops: 0 });
}

type Model = RNN | LSTM | GRU;

/** output, hN (and cN) of a forward, as an array. */
function forward(m: Model, x: Tensor, state?: Tensor[]): Tensor[] {
  if (m instanceof LSTM) {
    const [o, [h, c]] = m.forward(x, state ? [state[0] as Tensor, state[1] as Tensor] : null);
    return [o, h, c];
  }
  const [o, h] = m instanceof GRU ? m.forward(x, state?.[0] ?? null) : m.forward(x, state?.[0] ?? null);
  return [o, h];
}

/** The forward on the wasm backend (module moved there) against the same forward on cpuBackend. */
async function expectLikeCpu(
  m: Model,
  wasm: Awaited<ReturnType<typeof backend>>,
  x: Tensor,
  state?: Tensor[],
) {
  const got = forward(m.to(wasm), x, state);
  const want = forward(m.to(cpuBackend), x, state);
  m.to(wasm);
  for (let i = 0; i < want.length; i++) await assertClose(got[i] as Tensor, want[i] as Tensor, `result ${i}`);
  return got;
}

describe('wasmCpuBackend ready forward', () => {
  it.each([
    [
      'LSTM, batch of one',
      () => new LSTM({ inputSize: 12, hiddenSize: 40, batchFirst: true, generator: new Generator(1) }),
      [1, 9, 12],
    ],
    [
      'GRU, batch of one',
      () => new GRU({ inputSize: 12, hiddenSize: 36, batchFirst: true, generator: new Generator(2) }),
      [1, 9, 12],
    ],
    [
      'RNN relu, time-major batch of 3',
      () => new RNN({ inputSize: 7, hiddenSize: 33, nonlinearity: 'relu', generator: new Generator(3) }),
      [5, 3, 7],
    ],
    [
      'LSTM 2 layers bidirectional with projection',
      () =>
        new LSTM({
          inputSize: 6,
          hiddenSize: 20,
          projSize: 7,
          numLayers: 2,
          bidirectional: true,
          generator: new Generator(4),
        }),
      [4, 2, 6],
    ],
    [
      'GRU 3 layers bidirectional, batch first',
      () =>
        new GRU({
          inputSize: 5,
          hiddenSize: 9,
          numLayers: 3,
          bidirectional: true,
          batchFirst: true,
          generator: new Generator(5),
        }),
      [3, 6, 5],
    ],
  ] as const)('%s: repeated forwards with new inputs and states equal cpuBackend', async (_, make, shape) => {
    const wasm = await backend();
    const m = make().eval();
    const g = new Generator(9);
    const first = await expectLikeCpu(m, wasm, randn([...shape], { generator: g }));
    const kept = await Promise.all(first.map((t) => t.data()));
    const layers = m.numLayers * m.directions;
    const N = shape.length === 3 ? (m.batchFirst ? shape[0] : shape[1]) : 1;
    const P = m instanceof LSTM && m.projSize ? m.projSize : m.hiddenSize;
    for (let k = 0; k < 3; k++) {
      const state = [randn([layers, N, P], { generator: g })];
      if (m instanceof LSTM) state.push(randn([layers, N, m.hiddenSize], { generator: g }));
      await expectLikeCpu(m, wasm, randn([...shape], { generator: g }), k === 1 ? undefined : state);
    }
    // earlier results are copies: later forwards never write into them
    for (let i = 0; i < first.length; i++) expect(await first[i]?.data()).toEqual(kept[i]);
    wasm.dispose();
  });

  it('follows changes of shape and of the parameters between forwards', async () => {
    const wasm = await backend();
    const m = new LSTM({
      inputSize: 8,
      hiddenSize: 32,
      batchFirst: true,
      generator: new Generator(6),
    }).eval();
    const g = new Generator(7);
    await expectLikeCpu(m, wasm, randn([1, 10, 8], { generator: g }));
    await expectLikeCpu(m, wasm, randn([1, 4, 8], { generator: g })); // another T
    await expectLikeCpu(m, wasm, randn([2, 4, 8], { generator: g })); // another N
    // a parameter written in place (an optimizer's step) and a parameter replaced
    const weight = new Map(m.namedParameters()).get('weight_hh_l0') as Tensor<'float32'>;
    noGrad(() => weight.copy_(randn(weight.shape as number[], { generator: g })));
    await expectLikeCpu(m, wasm, randn([2, 4, 8], { generator: g }));
    m.loadStateDict({ ...m.stateDict(), bias_ih_l0: randn([128], { generator: g }) });
    await expectLikeCpu(m, wasm, randn([2, 4, 8], { generator: g }));
    wasm.dispose();
  });
});

describe('wasmCpuBackend ready forward on two threads', () => {
  // long enough for pipelined chunks (each ~16 MFLOP of recurrence, at most 16)
  it.each([
    [
      'LSTM, batch of one',
      () => new LSTM({ inputSize: 24, hiddenSize: 128, generator: new Generator(11) }),
      [520, 24],
    ],
    [
      'GRU, batch of one, batch first',
      () => new GRU({ inputSize: 24, hiddenSize: 128, batchFirst: true, generator: new Generator(12) }),
      [1, 700, 24],
    ],
    [
      'RNN (in place), batch of one',
      () => new RNN({ inputSize: 16, hiddenSize: 128, generator: new Generator(13) }),
      [2100, 1, 16],
    ],
    [
      'GRU 3 layers, batch of one (a wavefront)',
      () => new GRU({ inputSize: 24, hiddenSize: 128, numLayers: 3, generator: new Generator(15) }),
      [700, 1, 24],
    ],
    [
      'GRU 2 layers, batch of one (a balanced pair: layer 0 projected first)',
      () => new GRU({ inputSize: 24, hiddenSize: 128, numLayers: 2, generator: new Generator(18) }),
      [700, 1, 24],
    ],
    [
      'LSTM 2 layers, batch of one, input wider than hidden (a balanced pair)',
      () => new LSTM({ inputSize: 160, hiddenSize: 96, numLayers: 2, generator: new Generator(19) }),
      [600, 1, 160],
    ],
    [
      'RNN 2 layers (in place, a wavefront), batch first',
      () =>
        new RNN({
          inputSize: 16,
          hiddenSize: 128,
          numLayers: 2,
          batchFirst: true,
          generator: new Generator(16),
        }),
      [1, 2100, 16],
    ],
    [
      'RNN 3 layers (in place, a wavefront)',
      () => new RNN({ inputSize: 16, hiddenSize: 128, numLayers: 3, generator: new Generator(17) }),
      [2100, 16],
    ],
    [
      'LSTM with projection, 2 layers, time-major batch of 3 (a wavefront)',
      () =>
        new LSTM({ inputSize: 8, hiddenSize: 96, projSize: 32, numLayers: 2, generator: new Generator(14) }),
      [1000, 3, 8],
    ],
  ] as const)(
    '%s: the pipelined forward (projections beside the recurrences) equals one thread to the bit',
    async (_, make, shape) => {
      const one = await backend();
      const pool = await createWasmPool(2);
      if (!pool) throw new Error('this Node has no WebAssembly threads');
      const two = wasmCpuBackend(pool, { minFlops: 0 });
      const m = make().eval();
      const x = randn([...shape], { generator: new Generator(7) });
      const T = shape.length === 2 || !m.batchFirst ? (shape[0] as number) : (shape[1] as number);
      const N = shape.length === 2 ? 1 : m.batchFirst ? (shape[0] as number) : (shape[1] as number);
      const g = { T, N, G: m instanceof LSTM ? 4 : m instanceof GRU ? 3 : 1, H: m.hiddenSize };
      expect(
        pipelineChunks(pool, { ...g, P: m instanceof LSTM && m.projSize ? m.projSize : g.H }),
      ).toBeGreaterThan(1);
      try {
        const want = await Promise.all(forward(m.to(one), x).map((t) => t.data()));
        m.to(two);
        for (let k = 0; k < 2; k++) {
          // the first forward prepares the ready calls, the second replays them
          const got = await Promise.all(forward(m, x).map((t) => t.data()));
          for (let i = 0; i < want.length; i++) expect(got[i]).toEqual(want[i]);
        }
        await expectLikeCpu(m, two, x);
      } finally {
        one.dispose();
        two.dispose(); // its workers stopped even when an expectation fails
      }
    },
  );
});

describe('readyKey', () => {
  it('tells two layers of one direction from one layer of two, whose parameters sit at the same pointers', () => {
    const cell = new RNN({ inputSize: 4, hiddenSize: 4 });
    const w = cell.parameters();
    const dir = { weightIh: w[0], weightHh: w[1], biasIh: w[2], biasHh: w[3], weightHr: null };
    const args = (layers: number, directions: number) =>
      ({
        cell: { mode: 'RNN_TANH', gates: 1, hiddenSize: 4, stateSize: 4, hasCellState: false },
        input: randn([3, 2, 4]),
        batchFirst: false,
        batchSizes: null,
        h0: null,
        c0: null,
        layers: Array.from({ length: layers }, () => Array.from({ length: directions }, () => dir)),
        dropout: null,
      }) as unknown as RnnArgs;
    // the same four pointers for every layer-direction: only the topology differs
    const block = (ptr: number) => ({ ptr });
    const params = (n: number) =>
      Array.from({ length: n }, () => ({
        ih: block(64),
        hh: block(128),
        bih: block(192),
        bhh: block(256),
      })) as unknown as DirectionBlocks[];
    const [a, b] = [args(2, 1), args(1, 2)];
    const keyA = readyKey(a, seqGeometry(a), [params(1), params(1)]);
    const keyB = readyKey(b, seqGeometry(b), [params(2)]);
    expect(sameKey(keyA, keyB)).toBe(false);
    expect(sameKey(keyA, readyKey(a, seqGeometry(a), [params(1), params(1)]))).toBe(true);
  });
});

// Every backend's recurrent gradients equal central finite differences of a float64 forward
// (testing/float64-recurrent.ts), on random small configurations of RNN, LSTM, GRU, packed batches and cells.
import { Generator, randn, type Tensor, tensor } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from './backend/types.js';
import { GRU } from './gru.js';
import { GRUCell } from './gru-cell.js';
import { LSTM } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import type { Module } from './module.js';
import { PackedSequence, packPaddedSequence } from './packed-sequence.js';
import { RNN } from './rnn.js';
import { RNNCell } from './rnn-cell.js';
import { type RnnOptionsArbitrary, rnnOptions } from './testing/arbitraries.js';
import { backendsUnderTest, webgpuUnavailable } from './testing/backends.js';
import { backwardWeighted } from './testing/backward.js';
import {
  type Array64,
  cellForward64,
  type Mode64,
  type Params64,
  recurrentForward64,
} from './testing/float64-recurrent.js';

if (webgpuUnavailable) it.skip(`webgpu backend: skipped, ${webgpuUnavailable}`, () => {});

/** A float64 copy the finite differences perturb in place. */
interface Leaf {
  name: string;
  /** The float32 tensor whose `.grad` is checked. */
  tensor: Tensor;
  /** Its values as exact float64 numbers, read by the oracle. */
  values: Float64Array;
}

/** One forward to check: the library's, and the oracle's on the same (float64) values. */
interface Case {
  /** For messages: the module and its options. */
  label: string;
  /** PyTorch's name of the module (`'LSTM'`, `'GRUCell'`), as the unsupported-backward error says it. */
  owner: string;
  module: Module;
  /** Input, h0, c0 (those given), each requiring grad. */
  leaves: Leaf[];
  /** The library's forward: its float32 outputs (`[output, hN, cN]`, `[h, c]`…). */
  run(): Tensor[];
  /** The oracle: the same outputs in float64, from the leaves' and the parameters' float64 values. */
  oracle(params: Params64, leaves: Record<string, Array64>): Array64[];
}

const f64 = (t: Tensor): Float64Array => Float64Array.from(t.dataSync() as Float32Array);
const leaf = (name: string, t: Tensor): Leaf => ({ name, tensor: t.requiresGrad_(true), values: f64(t) });

/**
 * The analytic gradient comes from float32 forward activations and float32 sums over ≤ 4 steps, ≤ 3
 * rows, ≤ 16 gate rows and two layers of products of O(1) numbers: each term carries ~1e-7 relative
 * error and a gradient sums a few hundred, with cancellation, so the absolute error stays ~1e-6; the worst
 * seen over all runs here is 3% of this bound. The oracle is exact to ~1e-9 (float64, step 1e-6:
 * truncation ~1e-12, rounding ~1e-16·|loss|/1e-6). A wrong term (a sign, a missing W_hn·h in r's gradient,
 * a transposed weight) moves a gradient by O(0.1–1).
 */
const ATOL = 1e-5;
const RTOL = 1e-4;
const STEP = 1e-6;

/** Runs the case on the backend and checks every gradient against the oracle's central differences. */
async function checkGradients(c: Case, backend: Backend, generator: Generator): Promise<void> {
  // the parameters as float64 before the move (a backend may hold them in its own storage)
  const params = c.module.namedParameters().map(([name, p]) => ({ name, values: f64(p) }));
  c.module.train().to(backend);
  const outs = c.run();
  const weights = outs.map((o) => randn(o.shape, { generator }));
  // loss = Σ_k sum(out_k ⊙ R_k)
  backwardWeighted(backend, outs, weights);

  const R = weights.map(f64);
  const shapes = new Map(c.leaves.map((l) => [l.name, l.tensor.shape]));
  const paramShapes = new Map(c.module.namedParameters().map(([name, p]) => [name, p.shape]));
  const lossOf = (): number => {
    const p: Params64 = Object.fromEntries(
      params.map(({ name, values }) => [name, { shape: paramShapes.get(name) ?? [], data: values }]),
    );
    const l = Object.fromEntries(
      c.leaves.map(({ name, values }) => [name, { shape: shapes.get(name) ?? [], data: values }]),
    );
    return c.oracle(p, l).reduce((s, o, k) => {
      const r = R[k] as Float64Array;
      for (let i = 0; i < r.length; i++) s += (o.data[i] as number) * (r[i] as number);
      return s;
    }, 0);
  };
  const grads = new Map(c.module.namedParameters().map(([name, p]) => [name, p.grad]));
  const targets = [
    ...c.leaves.map((l) => ({ name: l.name, values: l.values, grad: l.tensor.grad })),
    ...params.map((p) => ({ ...p, grad: grads.get(p.name) ?? null })),
  ];
  for (const { name, values, grad } of targets) {
    expect(grad, `${c.label}: ${name}.grad`).not.toBeNull();
    const got = (await (grad as Tensor).data()) as Float32Array;
    expect(got.length, `${c.label}: ${name}.grad`).toBe(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      values[i] = v + STEP;
      const up = lossOf();
      values[i] = v - STEP;
      const down = lossOf();
      values[i] = v;
      const want = (up - down) / (2 * STEP);
      const err = Math.abs((got[i] as number) - want);
      if (!(err <= ATOL + RTOL * Math.abs(want))) {
        expect.fail(`${c.label}: ${name}.grad[${i}] = ${got[i]}, finite differences ${want} (|Δ| ${err})`);
      }
    }
  }
}

type Kind = 'RNN' | 'LSTM' | 'GRU';

const moduleRun = fc.record({
  kind: fc.constantFrom<Kind>('RNN', 'LSTM', 'GRU'),
  config: rnnOptions({ inputSize: 4, hiddenSize: 4, numLayers: 2 }),
  proj: fc.nat({ max: 3 }),
  batch: fc.integer({ min: 1, max: 3 }),
  steps: fc.integer({ min: 1, max: 4 }),
  unbatched: fc.boolean(),
  withState: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

const packedRun = fc.record({
  kind: fc.constantFrom<Kind>('RNN', 'LSTM', 'GRU'),
  config: rnnOptions({ inputSize: 4, hiddenSize: 4, numLayers: 2 }),
  proj: fc.nat({ max: 3 }),
  lengths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  withState: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

const cellRun = fc.record({
  kind: fc.constantFrom<Kind>('RNN', 'LSTM', 'GRU'),
  inputSize: fc.integer({ min: 1, max: 4 }),
  hiddenSize: fc.integer({ min: 1, max: 4 }),
  nonlinearity: fc.constantFrom<'tanh' | 'relu'>('tanh', 'relu'),
  bias: fc.boolean(),
  batch: fc.integer({ min: 1, max: 3 }),
  unbatched: fc.boolean(),
  withState: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

/** The module, in the form the oracle reads its options; projSize in [0, hiddenSize) for LSTM only. */
function buildModule(kind: Kind, config: RnnOptionsArbitrary, proj: number, generator: Generator) {
  const { nonlinearity, ...common } = config;
  const projSize = kind === 'LSTM' ? proj % config.hiddenSize : 0;
  const module =
    kind === 'LSTM'
      ? new LSTM({ ...common, projSize, generator })
      : kind === 'GRU'
        ? new GRU({ ...common, generator })
        : new RNN({ ...config, generator });
  const options = { mode: kind as Mode64, ...common, nonlinearity, projSize };
  const label = `${kind} ${JSON.stringify({ ...(kind === 'RNN' ? config : common), projSize })}`;
  return { module, options, label, P: projSize || config.hiddenSize };
}

/** `m.forward(input, state)` for RNN, LSTM or GRU: `[output, hN, cN?]`. */
function forwardModule(
  m: RNN | LSTM | GRU,
  input: Tensor | PackedSequence,
  h0: Tensor | null,
  c0: Tensor | null,
) {
  const data = (o: Tensor | PackedSequence): Tensor => (o instanceof PackedSequence ? o.data : o);
  if (m instanceof LSTM) {
    const [out, [hN, cN]] = m.forward(input as Tensor, h0 && c0 ? [h0, c0] : null);
    return [data(out), hN, cN];
  }
  const [out, hN] = (m as RNN).forward(input as Tensor, h0);
  return [data(out), hN];
}

/** Fewer runs where each one compiles pipelines (SwiftShader). */
const runs = (name: string, cpu: number): number => (name.startsWith('webgpu') ? 4 : cpu);

describe.each(backendsUnderTest)(
  '$name backend: gradients equal finite differences in float64',
  ({ name, create }) => {
    let backend: Backend;
    const check = (c: Case, generator: Generator): Promise<void> => checkGradients(c, backend, generator);
    beforeAll(async () => {
      backend = await create();
    });
    afterAll(() => backend?.dispose());

    it('RNN, LSTM and GRU on random configurations (input, h0, c0 and every parameter)', async () => {
      await fc.assert(
        fc.asyncProperty(
          moduleRun,
          async ({ kind, config, proj, batch, steps, unbatched, withState, seed }) => {
            const generator = new Generator(seed);
            const { module, options, label, P } = buildModule(kind, config, proj, generator);
            const D = (config.bidirectional ? 2 : 1) * config.numLayers;
            const inputShape = unbatched
              ? [steps, config.inputSize]
              : config.batchFirst
                ? [batch, steps, config.inputSize]
                : [steps, batch, config.inputSize];
            const stateShape = (n: number) => (unbatched ? [D, n] : [D, batch, n]);
            const leaves = [leaf('input', randn(inputShape, { generator }))];
            if (withState) leaves.push(leaf('h0', randn(stateShape(P), { generator })));
            if (withState && kind === 'LSTM')
              leaves.push(leaf('c0', randn(stateShape(config.hiddenSize), { generator })));
            const [x, h0, c0] = leaves.map((l) => l.tensor);
            await check(
              {
                label: `${label}, input ${JSON.stringify(inputShape)}${withState ? ', h0' : ''}`,
                owner: kind,
                module,
                leaves,
                run: () => forwardModule(module, x as Tensor, h0 ?? null, c0 ?? null),
                oracle: (p, l) => {
                  const r = recurrentForward64(options, p, l.input as Array64, l.h0 ?? null, l.c0 ?? null);
                  return [r.output, r.hN, ...(r.cN ? [r.cN] : [])];
                },
              },
              generator,
            );
          },
        ),
        { numRuns: runs(name, 60), seed: 1213 },
      );
    });

    it('packed batches (packPaddedSequence, enforceSorted false): the packed data, h0, c0 and every parameter', async () => {
      await fc.assert(
        fc.asyncProperty(packedRun, async ({ kind, config, proj, lengths, withState, seed }) => {
          const generator = new Generator(seed);
          const { module, options, label, P } = buildModule(kind, config, proj, generator);
          const { batchFirst, inputSize } = config;
          const [N, T] = [lengths.length, Math.max(...lengths)];
          const D = (config.bidirectional ? 2 : 1) * config.numLayers;
          const padded = randn(batchFirst ? [N, T, inputSize] : [T, N, inputSize], { generator });
          const packed = packPaddedSequence(padded, lengths, { batchFirst, enforceSorted: false });
          // which padded row each packed row holds: pack the row numbers themselves
          const rowNumbers = tensor(
            Float32Array.from({ length: N * T }, (_, i) => i),
            batchFirst ? [N, T, 1] : [T, N, 1],
          );
          const rowOf = packPaddedSequence(rowNumbers, lengths, {
            batchFirst,
            enforceSorted: false,
          }).data.dataSync();
          // packPaddedSequence records no autograd node yet (docs/guides/variable-length.md): the packed data is the leaf
          const leaves = [leaf('packed.data', packed.data)];
          if (withState) leaves.push(leaf('h0', randn([D, N, P], { generator })));
          if (withState && kind === 'LSTM')
            leaves.push(leaf('c0', randn([D, N, config.hiddenSize], { generator })));
          const [, h0, c0] = leaves.map((l) => l.tensor);
          await check(
            {
              label: `packed ${label}, lengths [${lengths}]${withState ? ', h0' : ''}`,
              owner: kind,
              module,
              leaves,
              run: () => forwardModule(module, packed, h0 ?? null, c0 ?? null),
              oracle: (p, l) => {
                const data = (l['packed.data'] as Array64).data;
                const x = new Float64Array(N * T * inputSize); // padding: never read
                rowOf.forEach((row, j) => {
                  for (let k = 0; k < inputSize; k++)
                    x[row * inputSize + k] = data[j * inputSize + k] as number;
                });
                const input = { shape: padded.shape, data: x };
                const r = recurrentForward64(options, p, input, l.h0 ?? null, l.c0 ?? null, lengths);
                // the output back in packed order
                const F = r.output.shape.at(-1) ?? 0;
                const out = new Float64Array(rowOf.length * F);
                rowOf.forEach((row, j) => {
                  for (let k = 0; k < F; k++) out[j * F + k] = r.output.data[row * F + k] as number;
                });
                return [{ shape: [rowOf.length, F], data: out }, r.hN, ...(r.cN ? [r.cN] : [])];
              },
            },
            generator,
          );
        }),
        { numRuns: runs(name, 30), seed: 1214 },
      );
    });

    it('RNNCell, LSTMCell and GRUCell (input, hx, cx and every parameter)', async () => {
      await fc.assert(
        fc.asyncProperty(cellRun, async ({ kind, batch, unbatched, withState, seed, ...config }) => {
          const generator = new Generator(seed);
          const { inputSize, hiddenSize, bias, nonlinearity } = config;
          const module =
            kind === 'LSTM'
              ? new LSTMCell({ inputSize, hiddenSize, bias, generator })
              : kind === 'GRU'
                ? new GRUCell({ inputSize, hiddenSize, bias, generator })
                : new RNNCell({ inputSize, hiddenSize, bias, nonlinearity, generator });
          const shape = (n: number) => (unbatched ? [n] : [batch, n]);
          const leaves = [leaf('input', randn(shape(inputSize), { generator }))];
          if (withState) leaves.push(leaf('hx', randn(shape(hiddenSize), { generator })));
          if (withState && kind === 'LSTM') leaves.push(leaf('cx', randn(shape(hiddenSize), { generator })));
          const [x, hx, cx] = leaves.map((l) => l.tensor);
          const options = { mode: kind as Mode64, inputSize, hiddenSize, bias, nonlinearity };
          await check(
            {
              label: `${kind}Cell ${JSON.stringify(options)}, input ${JSON.stringify(shape(inputSize))}${withState ? ', hx' : ''}`,
              owner: `${kind}Cell`,
              module,
              leaves,
              run: () => {
                if (module instanceof LSTMCell)
                  return module.forward(x as Tensor, hx && cx ? [hx, cx] : null);
                return [(module as RNNCell).forward(x as Tensor, hx ?? null)];
              },
              oracle: (p, l) => {
                const r = cellForward64(options, p, l.input as Array64, l.hx ?? null, l.cx ?? null);
                return [r.h, ...(r.c ? [r.c] : [])];
              },
            },
            generator,
          );
        }),
        { numRuns: runs(name, 40), seed: 1215 },
      );
    });
  },
);

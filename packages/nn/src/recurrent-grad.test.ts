// Backpropagation through time: PyTorch 1.13's gradients for RNN/LSTM/GRU and the cells on every backend,
// finite differences, the snippet, and the errors of backends that cannot train.
import {
  add,
  manualSeed,
  mean,
  mul,
  narrow,
  noGrad,
  ones,
  randn,
  reshape,
  sum,
  type Tensor,
  tensor,
} from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClose,
  decode,
  decodeStateDict,
  type RnnCellGradFixture,
  type RnnGradFixture,
  rnnGradFixtures,
} from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import { createCpuBackend } from './backend/create-cpu.js';
import type { Backend } from './backend/types.js';
import { Dropout } from './dropout.js';
import { Embedding } from './embedding.js';
import { GRU } from './gru.js';
import { GRUCell } from './gru-cell.js';
import { Linear } from './linear.js';
import { LSTM } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import type { Module } from './module.js';
import { PackedSequence } from './packed-sequence.js';
import { RNN } from './rnn.js';
import { RNNCell } from './rnn-cell.js';
import { backendsUnderTest } from './testing/backends.js';
import { backwardWeighted } from './testing/backward.js';

type AnyRecurrent = Module & { forward(input: unknown, state?: unknown): [unknown, unknown] };

function build(c: RnnGradFixture): AnyRecurrent {
  const options = { ...c.config } as Record<string, unknown>;
  if (c.module === 'LSTM') return new LSTM(options as never) as unknown as AnyRecurrent;
  if (c.module === 'GRU') return new GRU(options as never) as unknown as AnyRecurrent;
  return new RNN(options as never) as unknown as AnyRecurrent;
}

const leaf = (t: Tensor): Tensor => t.requiresGrad_(true);

/** `describe` per backend under test, with the backend created once (and disposed after). */
function eachBackend(title: string, body: (backend: () => Backend) => void): void {
  describe.each(backendsUnderTest)(`${title} on $name`, ({ create }) => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await create();
    });
    afterAll(() => {
      if (backend !== cpuBackend) backend?.dispose();
    });
    body(() => backend);
  });
}

async function checkGrads(
  m: Module,
  want: Record<string, { shape: number[]; data: (number | string)[] }>,
  label: string,
): Promise<void> {
  const params = m.namedParameters();
  expect(params.map(([k]) => k).sort()).toEqual(Object.keys(want).sort());
  for (const [name, p] of params) {
    expect(p.grad, `${label} ${name}`).not.toBeNull();
    await assertClose(p.grad as Tensor, want[name] as never, `${label} ${name}`);
  }
}

eachBackend('recurrent modules: PyTorch 1.13 gradients', (backend) => {
  it.each(rnnGradFixtures.recurrent.map((c) => [`${c.module} ${c.name}`, c] as const))('%s', async (_, c) => {
    manualSeed(c.seed);
    const m = build(c).to(backend());
    m.train(c.train);
    // replay the draws so the dropout masks come from the generator as in PyTorch
    randn(c.paddedShape ?? c.input.shape);
    if (c.h0) randn(c.h0.shape);
    if (c.c0) randn(c.c0.shape);
    m.loadStateDict(decodeStateDict(c.stateDict));
    const x = leaf(decode(c.input));
    const h0 = c.h0 ? leaf(decode(c.h0)) : null;
    const c0 = c.c0 ? leaf(decode(c.c0)) : null;
    const state = c.module === 'LSTM' ? (h0 ? [h0, c0] : null) : h0;
    const input = c.batchSizes
      ? new PackedSequence(x, c.batchSizes, c.sortedIndices ?? null, c.unsortedIndices ?? null)
      : x;
    const [out, st] = m.forward(input, state);
    const output = out instanceof PackedSequence ? out.data : (out as Tensor);
    const [hN, cN] = c.module === 'LSTM' ? (st as [Tensor, Tensor]) : [st as Tensor, null];
    await assertClose(output, c.output, 'output');
    await assertClose(hN, c.hN, 'hN');
    if (c.cN) await assertClose(cN as Tensor, c.cN, 'cN');
    expect(output.gradFn?.name).toBe(c.gradFn.output);
    expect(hN.gradFn?.name).toBe(c.gradFn.hN);
    const outs = [output, hN, ...(cN ? [cN] : [])];
    backwardWeighted(
      backend(),
      outs,
      outs.map((_, i) => decode(c.r[i] as never)),
    );
    await assertClose(x.grad as Tensor, c.grad.input, 'input grad');
    if (c.grad.h0) await assertClose(h0?.grad as Tensor, c.grad.h0, 'h0 grad');
    if (c.grad.c0) await assertClose(c0?.grad as Tensor, c.grad.c0, 'c0 grad');
    await checkGrads(m, c.paramGrad, c.name);
  });
});

function buildCell(c: RnnCellGradFixture): AnyRecurrent {
  const options = { ...c.config } as Record<string, unknown>;
  if (c.module === 'LSTMCell') return new LSTMCell(options as never) as unknown as AnyRecurrent;
  if (c.module === 'GRUCell') return new GRUCell(options as never) as unknown as AnyRecurrent;
  return new RNNCell(options as never) as unknown as AnyRecurrent;
}

eachBackend('recurrent cells: PyTorch 1.13 gradients', (backend) => {
  it.each(rnnGradFixtures.cells.map((c) => [`${c.module} ${c.name}`, c] as const))('%s', async (_, c) => {
    const m = buildCell(c).to(backend());
    m.loadStateDict(decodeStateDict(c.stateDict));
    const x = leaf(decode(c.input));
    const hx = c.hx ? leaf(decode(c.hx)) : null;
    const cx = c.cx ? leaf(decode(c.cx)) : null;
    const lstm = c.module === 'LSTMCell';
    const res = m.forward(x, lstm ? (hx ? [hx, cx] : null) : hx);
    const [h, cc] = lstm ? (res as [Tensor, Tensor]) : [res as unknown as Tensor, null];
    await assertClose(h, c.h, 'h');
    if (c.c) await assertClose(cc as Tensor, c.c, 'c');
    expect(h.gradFn?.name).toBe(c.gradFn);
    const outs = cc ? [h, cc] : [h];
    backwardWeighted(
      backend(),
      outs,
      outs.map((_, i) => decode(c.r[i] as never)),
    );
    await assertClose(x.grad as Tensor, c.grad.input, 'input grad');
    if (c.grad.hx) await assertClose(hx?.grad as Tensor, c.grad.hx, 'hx grad');
    if (c.grad.cx) await assertClose(cx?.grad as Tensor, c.grad.cx, 'cx grad');
    await checkGrads(m, c.paramGrad, c.name);
  });
});

describe('backpropagation through time: finite differences', () => {
  // float32 forward, central differences with eps 1e-2: truncation and rounding make ~1e-4 errors, so the
  // tolerance is 5e-3 + 2e-2·|numeric| (a wrong formula is off by far more); 12 coordinates per tensor.
  const configs = [
    ['RNN', { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, nonlinearity: 'tanh' }],
    ['LSTM', { inputSize: 3, hiddenSize: 5, numLayers: 2, projSize: 2, batchFirst: true }],
    ['GRU', { inputSize: 2, hiddenSize: 3, bidirectional: true, bias: false }],
    ['LSTM', { inputSize: 2, hiddenSize: 3, bidirectional: true }],
  ] as const;
  it.each(configs.map((c, i) => [`${c[0]} ${i}`, c] as const))('%s', (_, [kind, options]) => {
    manualSeed(11);
    const m = (kind === 'LSTM'
      ? new LSTM(options as never)
      : kind === 'GRU'
        ? new GRU(options as never)
        : new RNN(options as never)) as unknown as AnyRecurrent;
    const x = randn(
      'batchFirst' in options && options.batchFirst ? [2, 4, options.inputSize] : [4, 2, options.inputSize],
    );
    x.requiresGrad_(true);
    const outR = randn([4 * 2 * 2 * 5]);
    const lossOf = (): Tensor => {
      const [out, st] = m.forward(x);
      const h = Array.isArray(st) ? (st[0] as Tensor) : (st as Tensor);
      const o = out as Tensor;
      const r = (t: Tensor) => reshape(narrow(outR, 0, 0, t.numel()), t.shape);
      return add(sum(mul(o, r(o))), sum(mul(h, r(h))));
    };
    lossOf().backward();
    const targets: [string, Tensor][] = [['input', x], ...m.namedParameters()];
    for (const [name, t] of targets) {
      const data = t.dataSync() as Float32Array;
      const g = (t.grad as Tensor).dataSync();
      const step = Math.max(1, Math.floor(data.length / 12));
      for (let i = 0; i < data.length; i += step) {
        const v = data[i] as number;
        const eps = 1e-2;
        data[i] = v + eps;
        const up = noGrad(() => lossOf().item());
        data[i] = v - eps;
        const down = noGrad(() => lossOf().item());
        data[i] = v;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs((g[i] as number) - numeric), `${name}[${i}]`).toBeLessThanOrEqual(
          5e-3 + 2e-2 * Math.abs(numeric),
        );
      }
    }
  });
});

describe('training the recurrent modules', () => {
  it("runs the issue's snippet", () => {
    const data = Array.from({ length: 60 }, (_, i) => Math.sin(i));
    const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, batchFirst: true })
      .to(cpuBackend)
      .train();
    const x = tensor(data, [3, 4, 5], { requiresGrad: true });
    const [out, [hN, cN]] = lstm.forward(x);
    expect(out.shape).toEqual([3, 4, 7]);
    expect(hN.shape).toEqual([2, 3, 7]);
    expect(cN.shape).toEqual([2, 3, 7]);
    expect(String(out.gradFn)).toBe('<TransposeBackward0>');
    const loss = mean(mul(out, out));
    loss.backward();
    expect(x.grad?.shape).toEqual([3, 4, 5]);
    const names = lstm.namedParameters().map(([name, p]) => {
      expect(p.requiresGrad).toBe(true);
      expect(p.grad?.shape).toEqual(p.shape);
      return name;
    });
    expect(names.slice(0, 4)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
  });

  it('saves nothing and takes the inference path under noGrad and in eval mode', () => {
    const calls: string[] = [];
    const spy: Backend = {
      ...cpuBackend,
      rnn: (a) => {
        calls.push('rnn');
        return cpuBackend.rnn(a);
      },
      rnnTrain: (a) => {
        calls.push('rnnTrain');
        return (cpuBackend.rnnTrain as NonNullable<Backend['rnnTrain']>)(a);
      },
    };
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 }).to(spy);
    const [o1] = noGrad(() => gru.forward(randn([4, 1, 2])));
    expect(o1.gradFn).toBeNull();
    const [o2] = gru.eval().forward(randn([4, 1, 2]));
    expect(o2.gradFn).toBeNull();
    expect(o2.requiresGrad).toBe(false);
    const [o3] = gru.train().forward(randn([4, 1, 2]));
    expect(o3.gradFn?.name).toBe('StackBackward0');
    // eval mode with an input that requires grad records (the gradient of the input is wanted)
    const [o4] = gru.eval().forward(randn([4, 1, 2]).requiresGrad_(true));
    expect(o4.requiresGrad).toBe(true);
    expect(calls).toEqual(['rnn', 'rnn', 'rnnTrain', 'rnnTrain']);
  });

  it('a second backward through a freed recurrent node throws; retainGraph allows it', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 }).to(cpuBackend);
    const [out] = rnn.forward(randn([3, 2, 2]));
    const loss = sum(out);
    loss.backward(undefined, { retainGraph: true });
    const first = ((rnn.parameters()[0] as Tensor).grad as Tensor).dataSync().slice();
    loss.backward();
    const second = ((rnn.parameters()[0] as Tensor).grad as Tensor).dataSync();
    for (const [i, v] of second.entries()) expect(v).toBeCloseTo(2 * (first[i] as number), 5);
    expect(() => loss.backward()).toThrow('Trying to backward through the graph a second time');
  });

  it('a backend without a training forward: inference works, backward says it is not supported yet', () => {
    const { rnnTrain: _t, rnnBackward: _b, ...rest } = cpuBackend;
    const inferenceOnly: Backend = { ...rest, device: 'webgpu', label: 'webgpu (test double)' };
    for (const m of [
      new LSTM({ inputSize: 2, hiddenSize: 3 }),
      new GRUCell({ inputSize: 2, hiddenSize: 3 }),
    ]) {
      m.to(inferenceOnly);
      const res = (m as unknown as AnyRecurrent).forward(randn(m instanceof LSTM ? [3, 1, 2] : [1, 2]));
      const out = (Array.isArray(res) ? res[0] : res) as Tensor;
      const owner = m instanceof LSTM ? 'LSTM' : 'GRUCell';
      // no loss op runs on the GPU yet: the gradient of the output is given directly
      expect(() => out.backward(ones(out.shape))).toThrow(
        `${owner}: training (backward) is not supported on backend webgpu (test double) yet; train on cpuBackend (module.to(cpuBackend)), or run inference under noGrad()`,
      );
    }
  });
});

eachBackend('Linear, Embedding, Dropout: PyTorch 1.13 gradients', (backend) => {
  it.each(rnnGradFixtures.heads.map((c) => [`${c.module} ${c.name}`, c] as const))('%s', async (_, c) => {
    manualSeed(c.seed);
    const m =
      c.module === 'Linear'
        ? new Linear(c.config as never)
        : c.module === 'Embedding'
          ? new Embedding(c.config as never)
          : new Dropout(c.config as never);
    m.to(backend());
    const x =
      c.module === 'Embedding'
        ? tensor(Int32Array.from(c.input.data as number[]), c.input.shape, { dtype: 'int32' })
        : leaf(randn(c.input.shape)); // the draw the dropout mask follows
    if (c.module !== 'Embedding') await assertClose(x, c.input, 'input');
    m.loadStateDict(decodeStateDict(c.stateDict));
    const y = (m as unknown as { forward(t: Tensor): Tensor }).forward(x);
    await assertClose(y, c.output, 'output');
    expect(y.gradFn?.name).toBe(c.gradFn);
    backwardWeighted(backend(), [y], [decode(c.r[0] as never)]);
    if (c.grad.input) await assertClose(x.grad as Tensor, c.grad.input, 'input grad');
    await checkGrads(m, c.paramGrad, c.name);
  });
});

describe('the default backend', () => {
  it('an Embedding→LSTM→Linear model trains end to end on the default backend', async () => {
    manualSeed(3);
    const emb = new Embedding({ numEmbeddings: 6, embeddingDim: 4 });
    const lstm = new LSTM({ inputSize: 4, hiddenSize: 5, batchFirst: true });
    const head = new Linear({ inFeatures: 5, outFeatures: 6 });
    const ids = tensor(Int32Array.of(1, 2, 3, 4, 0, 5), [2, 3], { dtype: 'int32' });
    const [out] = lstm.forward(emb.forward(ids));
    mean(mul(head.forward(out), head.forward(out))).backward();
    for (const m of [emb, lstm, head])
      for (const [name, p] of m.namedParameters()) expect(p.grad, name).not.toBeNull();
  });
});

describe('training on the WebAssembly backend', () => {
  it("trains through the TypeScript backward (its tensors are CPU tensors), giving cpuBackend's gradients", async () => {
    const wasm = await createCpuBackend({ threads: 1 });
    try {
      const grads = (backend: Backend) => {
        manualSeed(9);
        const gru = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }).to(backend);
        const x = randn([5, 2, 3]).requiresGrad_(true);
        const [out, hN] = gru.forward(x);
        add(sum(mul(out, out)), sum(hN)).backward();
        return [x.grad as Tensor, ...gru.parameters().map((p) => p.grad as Tensor)];
      };
      const want = grads(cpuBackend);
      const got = grads(wasm);
      for (let i = 0; i < want.length; i++)
        await assertClose(got[i] as Tensor, want[i] as Tensor, `grad ${i}`);
    } finally {
      wasm.dispose();
    }
  });
});

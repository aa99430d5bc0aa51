import { clone, manualSeed, noGrad, ones, randn, Tensor, tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decodeStateDict, type ModelFixture, moduleFixtures } from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import { defaultBackend, ready } from './backend/default.js';
import type { Backend } from './backend/types.js';
import { Dropout, Embedding, GRU, Linear, LSTM, Module, Sequential } from './index.js';
import { SGD } from './optim/sgd.js';
import { RNN } from './rnn.js';

describe('Module state dicts', () => {
  it('round-trips through stateDict / loadStateDict', async () => {
    const a = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const b = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const x = randn([5, 2, 3]);
    expect(await b.forward(x)[0].data()).toEqual(await a.forward(x)[0].data());
  });

  it('copies loaded tensors, so later changes to the source do not leak in', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 });
    const w = ones([1, 1]);
    rnn.loadStateDict({ ...rnn.stateDict(), weight_ih_l0: w });
    w.dataSync()[0] = 5;
    expect(rnn.stateDict().weight_ih_l0?.dataSync()[0]).toBe(1);
  });

  it('reports every missing, unexpected and mis-shaped key at once', () => {
    const rnn = new RNN({ inputSize: 4, hiddenSize: 3 });
    const { weight_hh_l0: _dropped, ...rest } = rnn.stateDict();
    const bad = { ...rest, weight_ih_l0: zeros([3, 5]), bias_ih_l0: zeros([4]), weight_ih_l1: zeros([3, 3]) };
    expect(() => rnn.loadStateDict(bad)).toThrow(
      'Error(s) in loading state_dict for RNN:\n' +
        '\tMissing key(s) in state_dict: "weight_hh_l0".\n' +
        '\tUnexpected key(s) in state_dict: "weight_ih_l1".\n' +
        '\tsize mismatch for weight_ih_l0: copying a param with shape [3, 5] from checkpoint, the shape in current model is [3, 4].\n' +
        '\tsize mismatch for bias_ih_l0: copying a param with shape [4] from checkpoint, the shape in current model is [3].',
    );
  });

  it('loads nothing when any key is bad', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 });
    const before = rnn.stateDict().weight_ih_l0?.dataSync()[0];
    expect(() =>
      rnn.loadStateDict({ ...rnn.stateDict(), weight_ih_l0: ones([1, 1]), bias_ih_l0: zeros([2]) }),
    ).toThrow('size mismatch for bias_ih_l0');
    expect(rnn.stateDict().weight_ih_l0?.dataSync()[0]).toBe(before);
  });

  it('with strict: false, loads what matches and returns the rest', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 });
    const result = rnn.loadStateDict({ weight_ih_l0: ones([1, 1]), extra: ones([2]) }, { strict: false });
    expect(result).toEqual({
      missingKeys: ['weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'],
      unexpectedKeys: ['extra'],
    });
    expect(rnn.stateDict().weight_ih_l0?.dataSync()[0]).toBe(1);
    expect(() => rnn.loadStateDict({ weight_ih_l0: zeros([2, 2]) }, { strict: false })).toThrow(
      'size mismatch',
    );
  });

  it('accepts a Map and rejects values that are not tensors', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 });
    rnn.loadStateDict(new Map(Object.entries(rnn.stateDict())));
    expect(() => rnn.loadStateDict({ ...rnn.stateDict(), weight_ih_l0: [[1]] as never })).toThrow(
      'value for weight_ih_l0 must be a Tensor, received object.',
    );
  });
});

describe('Module modes and backends', () => {
  it('train() / eval() set training and chain', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 });
    expect(rnn.eval().training).toBe(false);
    expect(rnn.train().training).toBe(true);
    expect(rnn.train(false).training).toBe(false);
  });

  it('to() switches the backend the forward pass calls', () => {
    const calls: string[] = [];
    const spy: Backend = {
      ...cpuBackend, // the ops not spied on
      device: 'spy',
      label: 'spy',
      disposed: false,
      owns: () => false,
      clone: (t) => t,
      dispose: () => {},
      fromCpu: (t) => {
        calls.push(`fromCpu ${t.shape.join('x')}`);
        return t;
      },
      rnn: (args) => {
        calls.push('rnn');
        return cpuBackend.rnn(args);
      },
    };
    // eval(): a training-mode forward whose parameters require grad goes through rnnTrain instead
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, bias: false }).eval().to(spy);
    expect(rnn.backend).toBe(spy);
    rnn.forward(zeros([4, 2]));
    rnn.forward(zeros([4, 2]));
    // parameters are copied once, inputs on every call
    expect(calls).toEqual(['fromCpu 3x2', 'fromCpu 3x3', 'fromCpu 4x1x2', 'rnn', 'fromCpu 4x1x2', 'rnn']);
  });

  it('to() rejects what is not a backend', () => {
    expect(() => new RNN({ inputSize: 1, hiddenSize: 1 }).to({} as Backend)).toThrow(
      'to(): expected a Backend (cpuBackend, or one from createCpuBackend() or createWebGPUBackend())',
    );
  });

  it('refuses tensors that live on another backend, naming both', () => {
    const gpuLike = new Tensor(
      {
        device: 'webgpu',
        length: 2,
        read: async () => new Float32Array(2),
        readSync: () => {
          throw new Error('no');
        },
        dispose: () => {},
      },
      [1, 1, 2],
    );
    expect(() => new RNN({ inputSize: 2, hiddenSize: 1 }).to(cpuBackend).forward(gpuLike)).toThrow(
      "RNN: input is on 'webgpu' but the module runs on 'cpu (TypeScript)'; move the module with .to(backend) or pass a CPU tensor",
    );
  });
});

describe('the default backend', () => {
  it('is the WebAssembly SIMD backend in Node (compiled synchronously at first use), shared and not disposable', async () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 });
    expect(rnn.backend).toBe(defaultBackend());
    expect(rnn.backend.label).toMatch(/^cpu \(WebAssembly SIMD( \+ FMA)?, 1 thread\), the default$/);
    expect(await ready()).toBe(rnn.backend);
    rnn.backend.dispose(); // a module cannot dispose what every module shares
    expect(rnn.backend.disposed).toBe(false);
    const x = randn([200, 4, 2]);
    const [out] = rnn.forward(x);
    const [want] = rnn.to(cpuBackend).forward(x);
    expect(
      Math.max(...out.dataSync().map((v, i) => Math.abs(v - (want.dataSync()[i] as number)))),
    ).toBeLessThan(1e-6);
  });
});

// The example, as written (a plain `Tensor` takes any dtype; `Tensor<'int32'>` narrows).
class CharModel extends Module {
  embed = this.registerModule('embed', new Embedding({ numEmbeddings: 71, embeddingDim: 32 }));
  rnn = this.registerModule(
    'rnn',
    new LSTM({ inputSize: 32, hiddenSize: 128, numLayers: 2, batchFirst: true }),
  );
  head = this.registerModule('head', new Linear({ inFeatures: 128, outFeatures: 71 }));
  forward(ids: Tensor, state?: [Tensor, Tensor]) {
    const [out, next] = this.rnn.forward(this.embed.forward(ids), state);
    return [this.head.forward(out), next] as const;
  }
}

/** The fixture's model: Embedding → LSTM → Linear (or Sequential(Linear, Dropout, Linear)). */
class FixtureModel extends Module {
  readonly embed: Embedding;
  readonly rnn: LSTM;
  readonly head: Linear | Sequential;
  constructor(c: ModelFixture['config']) {
    super();
    const { vocab, embeddingDim, hiddenSize: H, numLayers } = c;
    this.embed = this.registerModule('embed', new Embedding({ numEmbeddings: vocab, embeddingDim }));
    this.rnn = this.registerModule(
      'rnn',
      new LSTM({ inputSize: embeddingDim, hiddenSize: H, numLayers, batchFirst: true }),
    );
    this.head = this.registerModule(
      'head',
      c.nestedHead
        ? new Sequential(
            new Linear({ inFeatures: H, outFeatures: H }),
            new Dropout({ p: 0.1 }),
            new Linear({ inFeatures: H, outFeatures: vocab }),
          )
        : new Linear({ inFeatures: H, outFeatures: vocab }),
    );
  }
  forward(ids: Tensor<'int32'>) {
    const [out, next] = this.rnn.forward(this.embed.forward(ids));
    return [this.head.forward(out), next] as const;
  }
}

const ids = (t: { shape: number[]; data: number[] }) => Tensor.fromArray(Int32Array.from(t.data), t.shape);

describe('composite modules against PyTorch', () => {
  describe.each(moduleFixtures.models)('$name', (fx) => {
    it('names parameters and modules in PyTorch’s order, and draws PyTorch’s init under manualSeed', () => {
      manualSeed(fx.seed);
      const model = new FixtureModel(fx.config);
      expect(model.namedParameters().map(([n]) => n)).toEqual(fx.namedParameters);
      expect(Object.keys(model.stateDict())).toEqual(Object.keys(fx.stateDict));
      expect(model.namedModules().map(([n]) => n)).toEqual(fx.namedModules);
      const want = decodeStateDict(fx.stateDict);
      for (const [k, v] of Object.entries(model.stateDict()))
        expect(v.dataSync(), k).toEqual(want[k]?.dataSync());
    });

    it('loads PyTorch’s state_dict with no renaming and computes its logits', async () => {
      const model = new FixtureModel(fx.config);
      expect(model.loadStateDict(decodeStateDict(fx.stateDict))).toEqual({
        missingKeys: [],
        unexpectedKeys: [],
      });
      const [logits, [h, c]] = model.eval().forward(ids(fx.ids));
      await assertClose(logits, fx.logits, 'logits');
      await assertClose(h, fx.hN, 'hN');
      await assertClose(c, fx.cN, 'cN');
    });

    it('loads one child from the whole dict with a prefix', async () => {
      const model = new FixtureModel(fx.config);
      const whole = decodeStateDict(fx.stateDict);
      model.rnn.loadStateDict(whole, { prefix: 'rnn.' });
      model.embed.loadStateDict(whole, { prefix: 'embed.' });
      model.head.loadStateDict(new Map(Object.entries(whole)), { prefix: 'head.' });
      await assertClose(model.eval().forward(ids(fx.ids))[0], fx.logits, 'logits');
    });
  });
});

describe('composite modules', () => {
  it('works as written in the docs: field initializers register the children in field order', () => {
    const model = new CharModel();
    expect(model.namedChildren().map(([n, m]) => [n, m.constructor.name])).toEqual([
      ['embed', 'Embedding'],
      ['rnn', 'LSTM'],
      ['head', 'Linear'],
    ]);
    model.loadStateDict(new CharModel().stateDict());
    const [logits, [h]] = model
      .eval()
      .forward(tensor(Int32Array.from([5, 9, 2]), [1, 3], { dtype: 'int32' }));
    expect(logits.shape).toEqual([1, 3, 71]);
    expect(h.shape).toEqual([2, 1, 128]);
    expect(model.children()).toEqual([model.embed, model.rnn, model.head]);
  });

  it('lists a module’s own parameters before its children’s, as state_dict does', () => {
    class WithOwn extends Module {
      first = this.registerModule('first', new Linear({ inFeatures: 1, outFeatures: 1, bias: false }));
      constructor() {
        super();
        this.registerParameter('scale', zeros([2]));
      }
    }
    const m = new WithOwn();
    expect(Object.keys(m.stateDict())).toEqual(['scale', 'first.weight']);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['scale', 'first.weight']);
  });

  it('names a submodule that does not exist, with the children it has', () => {
    const model = new CharModel();
    const dict = { ...model.stateDict(), 'encoder.weight': zeros([1]), 'rnn.cell.weight': zeros([1]) };
    expect(() => model.loadStateDict(dict)).toThrow(
      'Error(s) in loading state_dict for CharModel:\n' +
        '\tUnexpected key(s) in state_dict: "encoder.weight", "rnn.cell.weight".\n' +
        `\t"encoder.weight" is for a submodule 'encoder', but CharModel has no child 'encoder' (its children: 'embed', 'rnn', 'head').\n` +
        `\t"rnn.cell.weight" is for a submodule 'rnn.cell', but rnn (LSTM) has no children.`,
    );
    expect(model.loadStateDict(dict, { strict: false })).toEqual({
      missingKeys: [],
      unexpectedKeys: ['encoder.weight', 'rnn.cell.weight'],
    });
  });

  it('reports every problem of every child at once, with full keys, and loads nothing', () => {
    const model = new CharModel();
    const before = model.stateDict()['head.bias'];
    const { 'rnn.bias_hh_l1': _, ...rest } = model.stateDict();
    expect(() =>
      model.loadStateDict({ ...rest, 'head.bias': zeros([70]), 'embed.weight': zeros([70, 32]) }),
    ).toThrow(
      'Error(s) in loading state_dict for CharModel:\n' +
        '\tMissing key(s) in state_dict: "rnn.bias_hh_l1".\n' +
        '\tsize mismatch for embed.weight: copying a param with shape [70, 32] from checkpoint, the shape in current model is [71, 32].\n' +
        '\tsize mismatch for head.bias: copying a param with shape [70] from checkpoint, the shape in current model is [71].',
    );
    expect(model.stateDict()['head.bias']).toBe(before);
  });

  it('explains per child that its keys are another cell’s', () => {
    const model = new CharModel();
    const gru = new GRU({ inputSize: 32, hiddenSize: 128, numLayers: 2, batchFirst: true });
    const dict = { ...model.stateDict() };
    for (const [k, v] of Object.entries(gru.stateDict())) dict[`rnn.${k}`] = v;
    expect(() => model.loadStateDict(dict)).toThrow(
      'In rnn (LSTM): The keys look like a GRU state dict (weight_hh_l0 has shape [384, 128]: 3·hiddenSize rows ' +
        "for hiddenSize 128), not an LSTM's (4·hiddenSize rows): load it into GRU.",
    );
    // and the same sentence as before for a module loaded on its own
    expect(() => model.rnn.loadStateDict(dict, { prefix: 'rnn.' })).toThrow(
      /size mismatch for rnn\.weight_ih_l0[\s\S]*\nThe keys look like a GRU state dict/,
    );
  });

  it('loads a prefix, ignoring the other keys, and refuses a prefix that matches nothing', () => {
    const a = new CharModel();
    const b = new CharModel();
    expect(b.head.loadStateDict(a.stateDict(), { prefix: 'head.' })).toEqual({
      missingKeys: [],
      unexpectedKeys: [],
    });
    expect(b.head.stateDict().weight?.dataSync()).toEqual(a.head.stateDict().weight?.dataSync());
    expect(() => b.head.loadStateDict(a.stateDict(), { prefix: 'decoder.' })).toThrow(
      `Linear.loadStateDict: no key of the state dict starts with 'decoder.' (the keys start with "embed.", "rnn.", "head.")`,
    );
    expect(() => b.head.loadStateDict(a.stateDict(), { prefix: 'head' })).toThrow(
      "Linear.loadStateDict: prefix must be a string ending in '.' (like 'rnn.'), received 'head'",
    );
    expect(
      b.head.loadStateDict({ 'head.weight': zeros([71, 128]) }, { prefix: 'head.', strict: false }),
    ).toEqual({ missingKeys: ['head.bias'], unexpectedKeys: [] });
  });

  it('moves and switches modes recursively', () => {
    const model = new CharModel().to(cpuBackend);
    expect(model.modules().every((m) => m.backend === cpuBackend)).toBe(true);
    model.eval();
    expect(model.modules().map((m) => m.training)).toEqual([false, false, false, false]);
    model.train();
    expect(model.rnn.training).toBe(true);
  });

  it('lists a module registered twice once, as PyTorch does, but keeps both state-dict keys', () => {
    const shared = new Linear({ inFeatures: 2, outFeatures: 2 });
    const tied = new Sequential(shared, shared);
    expect(tied.namedModules().map(([n]) => n)).toEqual(['', '0']);
    expect(tied.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    expect(Object.keys(tied.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
  });

  it('rejects bad registrations', () => {
    const m = new Sequential();
    const child = new Linear({ inFeatures: 1, outFeatures: 1 });
    expect(() => m.registerModule('a.b', child)).toThrow(
      "Sequential.registerModule: a name must be a non-empty string without '.', received 'a.b'",
    );
    expect(() => m.registerModule('', child)).toThrow(TypeError);
    expect(() => m.registerModule('x', {} as never)).toThrow(
      "Sequential.registerModule('x'): expected a Module, received",
    );
    expect(() => child.registerModule('weight', new Dropout())).toThrow(
      "Linear.registerModule: 'weight' is already a parameter",
    );
    m.registerModule('child', child);
    expect(() => child.registerModule('parent', m)).toThrow(
      "Linear.registerModule('parent'): the module contains this one, which would make a cycle",
    );
    const replaced = new Dropout();
    expect(m.registerModule('child', replaced)).toBe(replaced);
    expect(m.children()).toEqual([replaced]);
  });
});

describe('parameters updated in place', () => {
  it('refresh the backend copies: a forward after opt.step() uses the new weights', async () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 });
    const backend = await ready(); // the WebAssembly SIMD backend in Node: it holds copies of the parameters
    lstm.to(backend);
    const x = randn([5, 2, 3]);
    const [before] = lstm.forward(x);
    for (const p of lstm.parameters()) p.grad = ones(p.shape);
    new SGD(lstm.parameters(), { lr: 0.05 }).step();
    const [after] = lstm.forward(x);
    lstm.eval(); // the inference path reads the same cached copies
    const [afterEval] = noGrad(() => lstm.forward(x));
    const [want] = noGrad(() => lstm.to(cpuBackend).forward(x));
    const diff = (a: Tensor, b: Tensor) =>
      Math.max(...a.dataSync().map((v, i) => Math.abs(v - (b.dataSync()[i] as number))));
    expect(diff(after, before)).toBeGreaterThan(1e-3);
    expect(diff(after, want)).toBeLessThan(1e-6);
    expect(diff(afterEval, want)).toBeLessThan(1e-6);
  });

  it('refresh the copies of a backend that holds its own (checked by version)', () => {
    const copies: Tensor[] = [];
    const copying: Backend = {
      ...cpuBackend,
      device: 'copy',
      label: 'copy',
      owns: (t) => copies.includes(t),
      fromCpu: (t) => {
        const c = noGrad(() => clone(t));
        copies.push(c);
        return c;
      },
    };
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4 }).eval().to(copying);
    const x = randn([5, 2, 3]);
    noGrad(() => lstm.forward(x));
    const copied = copies.length;
    noGrad(() => lstm.forward(x));
    expect(copies.length).toBe(copied + 1); // only the input again: the parameters' copies are reused
    for (const p of lstm.parameters()) p.grad = ones(p.shape);
    new SGD(lstm.parameters(), { lr: 0.05 }).step();
    const [after] = noGrad(() => lstm.forward(x));
    expect(copies.length).toBe(copied + 1 + 4 + 1); // four parameters refreshed, and the input
    const [want] = noGrad(() => lstm.to(cpuBackend).forward(x));
    expect(after.dataSync()).toEqual(want.dataSync());
  });
});

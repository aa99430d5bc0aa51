import { ones, randn, Tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from './backend/cpu.js';
import { defaultBackend, ready } from './backend/default.js';
import type { Backend } from './backend/types.js';
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
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, bias: false }).to(spy);
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
    expect(rnn.backend.label).toBe('cpu (WebAssembly SIMD, 1 thread), the default');
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

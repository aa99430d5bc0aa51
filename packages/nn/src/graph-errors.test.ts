// Issue 12's list of training errors, met the way a user meets them: through the modules, the losses
// and the optimizers (the engine's own messages are tested in @recurrent/tensor's engine.test.ts).
import {
  manualSeed,
  mean,
  mul,
  noGrad,
  randn,
  reshape,
  sum,
  type Tensor,
  Tensor as TensorClass,
  tensor,
} from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from './backend/cpu.js';
import { createCpuBackend } from './backend/create-cpu.js';
import type { Backend } from './backend/types.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';
import { crossEntropyLoss } from './loss.js';
import { LSTM } from './lstm.js';
import { Adam, SGD } from './optim/index.js';

function model(backend: Backend) {
  manualSeed(5);
  const emb = new Embedding({ numEmbeddings: 7, embeddingDim: 3 }).to(backend);
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true }).to(backend);
  const head = new Linear({ inFeatures: 4, outFeatures: 7 }).to(backend);
  return { emb, lstm, head, params: [...emb.parameters(), ...lstm.parameters(), ...head.parameters()] };
}

const ids = () => tensor([1, 2, 3, 4, 0, 6], [2, 3], { dtype: 'int32' });
const targets = () => tensor([2, 3, 4, 0, 6, 1], [6], { dtype: 'int32' });

/** A tensor whose storage is on a GPU (as a WebGPU backend's results are), requiring grad. */
function gpuResident(shape: number[]): Tensor {
  const length = shape.reduce((a, b) => a * b, 1);
  const storage = {
    device: 'webgpu',
    length,
    read: async () => new Float32Array(length),
    readSync: (): Float32Array => {
      throw new Error('no synchronous read');
    },
    dispose: () => {},
  };
  return new TensorClass(storage, shape).requiresGrad_(true);
}

function loss(m: ReturnType<typeof model>): Tensor {
  const [out] = m.lstm.forward(m.emb.forward(ids()));
  return crossEntropyLoss(reshape(m.head.forward(out), [6, 7]), targets());
}

describe('training errors through the modules', () => {
  it('backward() on a recurrent output (not a scalar) without a gradient', () => {
    const { lstm } = model(cpuBackend);
    const [out] = lstm.forward(randn([2, 3, 3]));
    expect(() => out.backward()).toThrow('grad can be implicitly created only for scalar outputs');
  });

  it('a second backward through the freed graph of a whole model', () => {
    const l = loss(model(cpuBackend));
    l.backward();
    expect(() => l.backward()).toThrow(
      'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed)',
    );
  });

  it('an optimizer step between forward and backward: the LSTM saved the weights it changed', () => {
    const m = model(cpuBackend);
    const opt = new SGD(m.params, { lr: 0.1 });
    const first = loss(m);
    first.backward();
    const second = loss(m);
    opt.step();
    expect(() => second.backward()).toThrow(
      'one of the variables needed for gradient computation has been modified by an inplace operation',
    );
  });

  it('an in-place write to a recurrent input saved for backward', () => {
    const { lstm } = model(cpuBackend);
    const x = randn([2, 3, 3]);
    const [out] = lstm.forward(x);
    const l = mean(mul(out, out));
    noGrad(() => x.fill_(0));
    expect(() => l.backward()).toThrow(
      /\[torch\.FloatTensor \[2, 3, 3\]\] is at version 1; expected version 0/,
    );
  });

  it('an optimizer given a module (not its parameters) or an activation', () => {
    const m = model(cpuBackend);
    expect(() => new Adam([m.lstm as never])).toThrow(
      'Adam: optimizer can only optimize Tensors, but one of the params is LSTM; pass module.parameters()',
    );
    const [out] = m.lstm.forward(randn([2, 3, 3]));
    expect(() => new SGD([out], { lr: 0.1 })).toThrow("SGD: can't optimize a non-leaf Tensor");
  });

  it('mixing backends in one graph: a loss over a tensor that lives on the GPU names where it lives', () => {
    const m = model(cpuBackend);
    const onGpu = gpuResident([6, 7]);
    // a device tensor whose storage has no training ops (a backend that cannot train) is named
    expect(() => crossEntropyLoss(onGpu, targets())).toThrow(
      "crossEntropyLoss: this tensor lives on 'webgpu', which has no training ops; read it with `await t.data()`",
    );
    const [out] = m.lstm.forward(m.emb.forward(ids()));
    expect(() => mul(out, gpuResident([2, 3, 4]))).toThrow("this tensor lives on 'webgpu'");
  });

  it('retainGraph on the WebAssembly backend: a second backward accumulates the same gradients again', async () => {
    const wasm = await createCpuBackend({ threads: 1 });
    try {
      const m = model(wasm);
      const l = loss(m);
      l.backward(undefined, { retainGraph: true });
      const first = (m.params[3] as Tensor).grad?.dataSync().slice() as Float32Array;
      l.backward();
      const twice = (m.params[3] as Tensor).grad?.dataSync() as Float32Array;
      for (const [i, v] of first.entries()) expect(twice[i]).toBeCloseTo(2 * v, 5);
      expect(() => l.backward()).toThrow('Trying to backward through the graph a second time');
    } finally {
      wasm.dispose();
    }
  });

  it('mixing two CPU backends in one graph trains as one backend does (same gradients)', async () => {
    const wasm = await createCpuBackend({ threads: 1 });
    try {
      const ref = model(cpuBackend);
      loss(ref).backward();
      const mixed = model(cpuBackend);
      mixed.emb.to(wasm);
      mixed.head.to(wasm);
      const l = loss(mixed);
      expect(l.gradFn?.name).toBe('NllLossBackward0');
      l.backward();
      mixed.params.forEach((p, i) => {
        const want = (ref.params[i] as Tensor).grad?.dataSync() as Float32Array;
        const got = p.grad?.dataSync() as Float32Array;
        expect(got.length).toBe(want.length);
        for (const [j, w] of want.entries())
          expect(Math.abs((got[j] as number) - w)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w));
      });
      expect(sum(mixed.params[0] as Tensor).requiresGrad).toBe(true);
    } finally {
      wasm.dispose();
    }
  });
});

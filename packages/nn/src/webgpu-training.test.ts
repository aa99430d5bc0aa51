// Training on WebGPU through the modules: the parameters move to the GPU, the backward, the losses,
// clipping and the optimizers' steps run there with nothing read back, and the numbers are the CPU's.
import { Generator, manualSeed, randn, reshape, type Tensor, tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClose } from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import { createWebGPUBackend, type WebGPUBackend } from './backend/webgpu.js';
import { clipGradNorm_ } from './clip-grad.js';
import { Dropout } from './dropout.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';
import { crossEntropyLoss, mseLoss } from './loss.js';
import { LSTM } from './lstm.js';
import { Adam } from './optim/adam.js';
import { SGD } from './optim/sgd.js';
import { saveSafetensors } from './safetensors/index.js';
import { webgpuUnavailable } from './testing/backends.js';

/** Two LSTMs with the same parameters, the second on `gpu`. */
function twins(gpu: WebGPUBackend): [LSTM, LSTM] {
  manualSeed(11);
  const options = { inputSize: 3, hiddenSize: 5, numLayers: 2, batchFirst: true };
  const cpu = new LSTM(options);
  const onGpu = new LSTM(options);
  onGpu.loadStateDict(cpu.stateDict());
  return [cpu, onGpu.to(gpu)];
}

describe.skipIf(webgpuUnavailable !== null)('training through the modules on WebGPU', () => {
  let gpu: WebGPUBackend;
  beforeAll(async () => {
    gpu = await createWebGPUBackend();
  });
  afterAll(() => gpu?.dispose());

  it('an LSTM step (MSE, backward, clipping, Adam) equals the CPU, on the GPU, with no readback', async () => {
    const [cpu, lstm] = twins(gpu);
    const x = randn([2, 4, 3]);
    const target = randn([2, 4, 5]);
    const xCpu = x.detach().requiresGrad_(true);
    const xGpu = tensor(x.dataSync().slice(), x.shape).requiresGrad_(true);
    const optCpu = new Adam(cpu.parameters(), { lr: 0.05, amsgrad: true });
    const opt = new Adam(lstm.parameters(), { lr: 0.05, amsgrad: true });

    const lossCpu = mseLoss(cpu.forward(xCpu)[0], target);
    lossCpu.backward();
    const totalCpu = clipGradNorm_(cpu.parameters(), 0.5);
    optCpu.step();

    const before = gpu.stats();
    const [out] = lstm.forward(xGpu);
    const loss = mseLoss(out, target);
    expect(loss.device).toBe('webgpu');
    expect(String(loss.gradFn)).toBe('<MseLossBackward0>');
    loss.backward();
    const total = clipGradNorm_(lstm.parameters(), 0.5);
    opt.step();
    expect(gpu.stats().readbacks).toBe(before.readbacks);

    for (const p of lstm.parameters()) expect(p.device).toBe('webgpu');
    await assertClose(loss, lossCpu, 'loss');
    await assertClose(total, totalCpu, 'total norm');
    await assertClose(xGpu.grad as Tensor, xCpu.grad as Tensor, 'x.grad (on the GPU)');
    expect(xGpu.grad?.device).toBe('webgpu');
    const want = cpu.stateDict();
    for (const [name, p] of Object.entries(lstm.stateDict())) {
      await assertClose(p.grad as Tensor, want[name]?.grad as Tensor, `${name}.grad`);
      await assertClose(p, want[name] as Tensor, `${name} after the step`);
    }
    // in eval mode the GPU parameters serve inference as they are
    const [y] = lstm.eval().forward(x);
    await assertClose(y, cpu.eval().forward(x)[0], 'eval output after the step');
  });

  it('Embedding → Dropout → Linear: the masks are PyTorch draws, kept on the GPU for the backward', async () => {
    const build = (seed: number) => {
      manualSeed(seed);
      const embed = new Embedding({ numEmbeddings: 9, embeddingDim: 6, paddingIdx: 0 });
      const drop = new Dropout({ p: 0.4, generator: new Generator(5) });
      const head = new Linear({ inFeatures: 6, outFeatures: 4 });
      return { embed, drop, head, params: [...embed.parameters(), ...head.parameters()] };
    };
    const cpu = build(3);
    const onGpu = build(3);
    onGpu.embed.to(gpu);
    onGpu.drop.to(gpu);
    onGpu.head.to(gpu);
    const ids = tensor(Int32Array.of(1, 0, 3, 3, 8, 2), [2, 3], { dtype: 'int32' });
    const targets = tensor(Int32Array.of(0, 1, 2, 3, 1, -100), [6], { dtype: 'int32' });
    for (const m of [cpu, onGpu]) {
      const logits = m.head.forward(m.drop.forward(m.embed.forward(ids)));
      crossEntropyLoss(reshape(logits, [6, 4]), targets, { labelSmoothing: 0.1 }).backward();
    }
    for (const [i, p] of onGpu.params.entries()) {
      expect(p.grad?.device).toBe('webgpu');
      await assertClose(p.grad as Tensor, cpu.params[i]?.grad as Tensor, `parameter ${i}'s grad`);
    }
  });

  it("an optimizer's GPU state saves and loads on the GPU (Adam, amsgrad): the next steps agree", async () => {
    const [, a] = twins(gpu);
    const [, b] = twins(gpu);
    const x = randn([2, 4, 3]);
    const target = randn([2, 4, 5]);
    const optA = new Adam(a.parameters(), { lr: 0.05, amsgrad: true });
    const step = (m: LSTM, opt: Adam) => {
      opt.zeroGrad();
      mseLoss(m.forward(x)[0], target).backward();
      opt.step();
    };
    step(a, optA);
    step(a, optA);
    // a step over every parameter is one submit (its state exists already)
    const submits = gpu.stats().submits;
    optA.step();
    expect(gpu.stats().submits - submits).toBe(1);
    // b takes a's parameters (read back) and a's optimizer state (copied on the GPU), then both step
    const state = optA.stateDict();
    expect((state.state[0] as { exp_avg: Tensor }).exp_avg.device).toBe('webgpu');
    const read = async ([k, t]: [string, Tensor]) => [k, tensor(await t.data(), t.shape)] as const;
    b.loadStateDict(Object.fromEntries(await Promise.all(Object.entries(a.stateDict()).map(read))));
    const optB = new Adam(b.parameters(), { lr: 0.05, amsgrad: true });
    optB.loadStateDict(state);
    step(a, optA);
    step(b, optB);
    const want = a.stateDict();
    for (const [k, t] of Object.entries(b.stateDict())) await assertClose(t, want[k] as Tensor, k);
  });

  it('parameters come back with toAsync (to() refuses once a step changed them); state dicts save', async () => {
    const [, lstm] = twins(gpu);
    const opt = new SGD(lstm.parameters(), { lr: 0.1, momentum: 0.9 });
    mseLoss(lstm.forward(randn([2, 4, 3]))[0], randn([2, 4, 5])).backward();
    opt.step();
    expect(() => lstm.to(cpuBackend)).toThrow(
      "LSTM: the parameter 'weight_ih_l0' was trained on 'webgpu' and lives there, but the module runs on 'cpu (TypeScript)'; move the module with `await module.toAsync(backend)`, which reads the parameters back",
    );
    const onGpu = await Promise.all(lstm.parameters().map((p) => p.data()));
    const params = lstm.parameters();
    await lstm.toAsync(cpuBackend);
    expect(lstm.parameters()).toEqual(params); // the same tensors, now on the CPU
    lstm.parameters().forEach((p, i) => {
      expect(p.device).toBe('cpu');
      expect(p.dataSync()).toEqual(onGpu[i]);
    });
    expect(saveSafetensors(lstm.stateDict()).length).toBeGreaterThan(0);
    // their gradients came back too; a new optimizer goes on training them on the CPU
    for (const p of lstm.parameters()) expect(p.grad?.device).toBe('cpu');
    const next = new SGD(lstm.parameters(), { lr: 0.1 });
    next.zeroGrad();
    mseLoss(lstm.train().forward(randn([2, 4, 3]))[0], randn([2, 4, 5])).backward();
    next.step();
    expect(lstm.parameters().every((p) => p.device === 'cpu')).toBe(true);
  });

  it('a train-mode forward without a step moves the parameters; to() brings them back synchronously', async () => {
    const [cpu, lstm] = twins(gpu);
    const [out] = lstm.forward(randn([2, 4, 3]));
    expect(out.requiresGrad).toBe(true);
    expect(lstm.parameters().every((p) => p.device === 'webgpu')).toBe(true);
    lstm.to(cpuBackend);
    lstm.parameters().forEach((p, i) => {
      expect(p.device).toBe('cpu');
      expect(p.dataSync()).toEqual(cpu.parameters()[i]?.dataSync());
    });
  });

  it('errors: gradients of two devices, a CPU gradient for a GPU tensor, loss inputs, clipping', async () => {
    const [, lstm] = twins(gpu);
    const x = randn([2, 4, 3]).requiresGrad_(true);
    mseLoss(x, randn([2, 4, 3])).backward(); // x.grad on the CPU
    const [out] = lstm.forward(x);
    expect(() => out.backward(tensor(new Float32Array(out.numel()), out.shape))).toThrow(
      "backward: the gradient is on 'cpu' but the tensor is on 'webgpu'; pass a gradient on the tensor's device",
    );
    expect(() => mseLoss(out, randn(out.shape)).backward()).toThrow(
      "backward: gradients on 'cpu' and on 'webgpu' meet in one graph; a graph must stay on one backend",
    );
    const head = new Linear({ inFeatures: 5, outFeatures: 7 }).to(gpu);
    const logits = head.forward(lstm.forward(randn([2, 4, 3]))[0]);
    expect(() => crossEntropyLoss(logits, tensor(new Int32Array(2 * 7), [2, 7], { dtype: 'int32' }))).toThrow(
      "crossEntropyLoss: on 'webgpu' the input must be (N, C) or (C), received shape [2, 4, 7]; move the class dimension last and reshape to (N·d1·…, C)",
    );
    const flat = reshape(logits, [8, 7]);
    expect(() => crossEntropyLoss(flat, randn([8, 7]))).toThrow(
      "crossEntropyLoss: on 'webgpu' the target must be int32 class indices, received float32 (class probabilities are computed on the CPU)",
    );
    expect(() =>
      crossEntropyLoss(flat, tensor(Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7), [8], { dtype: 'int32' })),
    ).toThrow('crossEntropyLoss: Target 7 is out of bounds.');
    expect(() => mseLoss(flat, randn([8, 7]).requiresGrad_(true))).toThrow(
      "mseLoss: on 'webgpu' the target cannot require a gradient; pass target.detach()",
    );
    expect(() => mseLoss(flat, randn([7]))).toThrow(
      "mseLoss: on 'webgpu' the target must have the input's shape [8, 7] (no broadcasting), received [7]",
    );
    crossEntropyLoss(
      flat,
      tensor(Int32Array.of(0, 1, 2, 3, 4, 5, 6, -100), [8], { dtype: 'int32' }),
    ).backward();
    expect(() => clipGradNorm_(head.parameters(), 1, 2, { errorIfNonfinite: true })).toThrow(
      "clipGradNorm_: errorIfNonfinite needs the total norm read back, which 'webgpu' cannot do synchronously",
    );
    const w = head.parameters()[0] as Tensor;
    w.grad = tensor(new Float32Array(w.numel()), w.shape);
    expect(() => new SGD([w], { lr: 1 }).step()).toThrow(
      "SGD.step: a parameter on 'webgpu' has its gradient on 'cpu'; a parameter and its gradient must be on one device",
    );
  });
});

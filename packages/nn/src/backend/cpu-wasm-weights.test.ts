// The WebAssembly backend packs each parameter once per version: an optimizer step (an in-place copy_)
// makes the next forward pack again, so evaluating between training steps sees the new weights.
import { initWasm } from '@recurrent/kernels-wasm';
import { add, manualSeed, noGrad, randn, type Tensor } from '@recurrent/tensor';
import { expect, it } from 'vitest';
import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import { SGD } from '../optim/index.js';
import { cpuBackend } from './cpu.js';
import { wasmCpuBackend } from './cpu-wasm.js';

const close = (got: Tensor, want: Tensor) => {
  const g = got.dataSync() as Float32Array;
  for (const [i, w] of (want.dataSync() as Float32Array).entries())
    expect(Math.abs((g[i] as number) - w)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w));
};

it('a weight written in place (copy_) is packed again before the next forward', async () => {
  const kernels = await initWasm();
  if (!kernels) throw new Error('no WebAssembly SIMD');
  const wasm = wasmCpuBackend(kernels, { minFlops: 0 });
  manualSeed(1);
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4 }).eval();
  const x = randn([5, 2, 3]);
  noGrad(() => lstm.to(wasm).forward(x)); // packs the weights
  const w = lstm.stateDict().weight_ih_l0 as Tensor;
  noGrad(() => w.copy_(add(w, 0.5)));
  const [got] = noGrad(() => lstm.forward(x));
  const [want] = noGrad(() => lstm.to(cpuBackend).forward(x));
  close(got, want);
});

it('evaluation between optimizer steps sees the updated weights', async () => {
  const kernels = await initWasm();
  if (!kernels) throw new Error('no WebAssembly SIMD');
  const wasm = wasmCpuBackend(kernels, { minFlops: 0 });
  manualSeed(2);
  const gru = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2 }).to(wasm);
  const x = randn([6, 2, 3]);
  const opt = new SGD(gru.parameters(), { lr: 0.5 });
  for (let step = 0; step < 3; step++) {
    const [before] = noGrad(() => gru.eval().forward(x));
    opt.zeroGrad();
    const [out] = gru.train().forward(x);
    out.backward(randn(out.shape));
    opt.step();
    const [after] = noGrad(() => gru.eval().forward(x));
    const [want] = noGrad(() => gru.to(cpuBackend).forward(x));
    gru.to(wasm);
    close(after, want);
    expect(
      Math.max(
        ...(after.dataSync() as Float32Array).map((v, i) => Math.abs(v - (before.dataSync()[i] as number))),
      ),
    ).toBeGreaterThan(1e-3);
  }
});

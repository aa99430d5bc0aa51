// The same model moved to WebGPU and back: the numbers must not change.
import { cpuBackend, RNN } from '@recurrent/nn';
import { createWebGPUBackend } from '@recurrent/nn/webgpu';
import { manualSeed, maxAbsDiff, randn, tensor } from '@recurrent/tensor';

manualSeed(0);
const rnn = new RNN({
  inputSize: 4,
  hiddenSize: 3,
  batchFirst: true,
  bidirectional: true,
  numLayers: 2,
}).eval();
const x = randn([3, 5, 4]);
const [cpuOut] = rnn.forward(x);
const gpu = await createWebGPUBackend();
const [gpuOut] = rnn.to(gpu).forward(x);
const onGpu = tensor(await gpuOut.data(), gpuOut.shape);
const [backOut] = rnn.to(cpuBackend).forward(x); // and back
console.log(
  JSON.stringify({
    device: gpuOut.device,
    gpuVsCpu: maxAbsDiff(onGpu, cpuOut),
    backVsCpu: maxAbsDiff(backOut, cpuOut),
  }),
);
process.exit(0);

// The notebook's first cell, as a user of the published CPU packages writes it; then the same model on
// the WebAssembly kernels (every forward sent there: minFlops 0).
import { initWasmSync } from '@recurrent/kernels-wasm';
import { RNN, wasmCpuBackend } from '@recurrent/nn';
import { manualSeed, rand } from '@recurrent/tensor';

manualSeed(0);
const rnn = new RNN({ inputSize: 4, hiddenSize: 3, batchFirst: true });
const x = rand([1, 2, 4]); // torch.rand, as the notebook draws it
const [output, hN] = rnn.forward(x);
const shapes: [readonly number[], readonly number[]] = [output.shape, hN.shape];
const kernels = initWasmSync();
if (!kernels) throw new Error('no WebAssembly SIMD in this Node');
const wasm = wasmCpuBackend(kernels, { minFlops: 0 });
const [wasmOutput] = rnn.to(wasm).forward(x);
const want = output.dataSync();
const wasmVsCpu = Math.max(...wasmOutput.dataSync().map((v, i) => Math.abs(v - (want[i] as number))));
wasm.dispose();
console.log(JSON.stringify({ output: String(output), h_n: String(hN), shapes, wasmVsCpu }));

import { initWasm, initWasmSync } from '@recurrent/kernels-wasm';
import { cpuBackend } from './cpu.js';
import { type WasmCpuBackend, wasmCpuBackend } from './cpu-wasm.js';
import type { Backend } from './types.js';

let fast: Backend | null = null;
let triedSync = false;
let pending: Promise<Backend> | null = null;

/** The process-wide default, shared by every module: disposing it through a module does nothing. */
function shared(b: WasmCpuBackend): Backend {
  return Object.freeze({
    device: b.device,
    label: `${b.label}, the default`,
    disposed: false,
    owns: b.owns,
    fromCpu: b.fromCpu,
    clone: b.clone,
    rnn: b.rnn,
    rnnTrain: b.rnnTrain,
    rnnBackward: b.rnnBackward,
    linear: b.linear,
    embedding: b.embedding,
    gatherRows: b.gatherRows,
    argmax: b.argmax,
    softmax: b.softmax,
    logSoftmax: b.logSoftmax,
    dropout: b.dropout,
    dispose(): void {},
  });
}

/**
 * The backend a module computes on until `to()` is called: the fastest CPU backend that needs no `await`.
 * In Node, Deno, Bun and web workers that is the WebAssembly SIMD backend, its kernels compiled
 * synchronously at first use. A browser's main thread refuses synchronous compiles of that size, so there
 * the plain TypeScript `cpuBackend` runs until `await ready()` has compiled the kernels; engines without
 * WebAssembly SIMD keep `cpuBackend`. Both compute the same numbers within float32 rounding.
 */
export function defaultBackend(): Backend {
  if (fast) return fast;
  if (!triedSync) {
    triedSync = true;
    const kernels = initWasmSync();
    if (kernels) fast = shared(wasmCpuBackend(kernels));
  }
  return fast ?? cpuBackend;
}

/**
 * Compiles the WebAssembly SIMD kernels without blocking and makes them the default backend of every
 * module that has not been moved with `to()` (like `tf.ready()`). Call it once at start-up on a browser's
 * main thread; elsewhere the default is already the fast one. Resolves to the default backend.
 *
 * @example
 * import { ready, RNN } from '@recurrent/nn';
 * await ready();                       // the WebAssembly SIMD kernels, compiled off the main thread's budget
 * new RNN({ inputSize: 4, hiddenSize: 3 }).forward(x); // runs on them
 */
export function ready(): Promise<Backend> {
  if (fast) return Promise.resolve(fast);
  pending ??= initWasm().then((kernels) => {
    fast ??= kernels ? shared(wasmCpuBackend(kernels)) : null;
    return fast ?? cpuBackend;
  });
  return pending;
}

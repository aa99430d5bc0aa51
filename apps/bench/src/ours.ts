import { initWasm } from '@recurrent/kernels-wasm';
import { type Backend, cpuBackend, createCpuBackend, wasmCpuBackend } from '@recurrent/nn';
import type { Tensor } from '@recurrent/tensor';
import { createModel, forwardAll, type Model, type Problem } from './problem.js';
import { type Runner, type RunnerFactory, timeCalls } from './runner.js';

/**
 * `@recurrent/nn`'s RNN, LSTM or GRU on a backend (null: never moved, so on `defaultBackend()` as a new user
 * runs it); CPU outputs are read synchronously, GPU outputs awaited.
 */
function oursRunner(name: string, backend: Backend | null, close?: () => void): Runner {
  let model: Model | null = null;
  let input: Tensor | null = null;
  const forward = (): Float32Array | Promise<Float32Array> => {
    if (!model || !input) throw new Error(`${name}: not set up`);
    const { output, states } = forwardAll(model, input);
    if (output.device === 'cpu') return output.dataSync();
    return output.data().then((data) => {
      output.dispose();
      for (const s of states) s.dispose();
      return data;
    });
  };
  return {
    name,
    ours: true,
    async setup(problem: Problem) {
      model = createModel(problem.config);
      model.loadStateDict(problem.stateDict);
      model.eval();
      if (backend) model.to(backend);
      input = model.backend.fromCpu(problem.input);
      return (await forward()).slice();
    },
    time: (n, batch) => timeCalls(n, batch, forward),
    async teardown() {
      model = null;
      input = null;
    },
    ...(close ? { close } : {}),
  };
}

/** The plain-TypeScript CPU backend (`cpuBackend`). */
const oursTs: RunnerFactory = async () => oursRunner('recurrent cpu (TS)', cpuBackend);

/** The WebAssembly SIMD CPU backend, one thread. */
const oursWasm: RunnerFactory = async () => {
  const kernels = await initWasm();
  if (!kernels) return { skipped: 'no WebAssembly SIMD in this Node' };
  return oursRunner('recurrent cpu (wasm, 1 thr)', wasmCpuBackend(kernels));
};

/** The WebAssembly SIMD CPU backend on two threads (worker_threads sharing the kernels' memory). */
const oursWasm2: RunnerFactory = async () => {
  const backend = await createCpuBackend({ threads: 2 });
  if (backend.threads !== 2) return { skipped: 'no WebAssembly threads in this Node' };
  return oursRunner('recurrent cpu (wasm, 2 thr)', backend, () => backend.dispose());
};

/**
 * The WebGPU backend when `@recurrent/nn/webgpu` exists and an adapter is found. Imported by a computed
 * specifier so the bench builds and runs whether or not that subpath is there yet.
 */
const oursWebGpu: RunnerFactory = async () => {
  const specifier = '@recurrent/nn/webgpu';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return { skipped: `${specifier} is not available` };
  }
  const create = mod.createWebGPUBackend;
  if (typeof create !== 'function') return { skipped: `${specifier} has no createWebGPUBackend()` };
  try {
    const backend = (await create()) as Backend & { dispose?: () => void };
    return oursRunner('recurrent webgpu', backend, () => backend.dispose?.());
  } catch (e) {
    return { skipped: `no WebGPU adapter (${e instanceof Error ? e.message : String(e)})` };
  }
};

/** A module never moved with `to()` (`new RNN(…)`, `new LSTM(…)`…): the default backend, WASM SIMD in Node. */
const oursDefault: RunnerFactory = async () => oursRunner('recurrent default backend (no .to())', null);

/** Our implementations, the reference (the TS CPU backend, whose output every other runner must match) first. */
export const ours: readonly RunnerFactory[] = [oursTs, oursWasm, oursDefault, oursWasm2, oursWebGpu];

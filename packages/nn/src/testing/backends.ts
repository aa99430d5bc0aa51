import { createWasmPool, initWasm, type WasmKernels } from '@recurrent/kernels-wasm';
import { cpuBackend } from '../backend/cpu.js';
import { wasmCpuBackend } from '../backend/cpu-wasm.js';
import type { Backend } from '../backend/types.js';
import { createWebGPUBackend, type WebGPUBackendOptions } from '../backend/webgpu.js';

/** A backend under test: the conformance suite runs every case on each entry. */
export interface BackendUnderTest {
  name: string;
  create: () => Promise<Backend>;
}

/**
 * Why WebGPU cannot be tested here (no adapter), or null when it can. Under CI=true there is no skipping:
 * the WebGPU entries stay in the list and their `create` fails with the reason.
 */
export let webgpuUnavailable: string | null = null;

async function probeWebGPU(): Promise<string | null> {
  try {
    (await createWebGPUBackend()).dispose();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function webgpu(name: string, options: WebGPUBackendOptions): BackendUnderTest {
  return {
    name,
    create: async () => {
      try {
        return await createWebGPUBackend(options);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const ci = process.env.CI === 'true' ? ' (CI=true: the WebGPU suite must run, not skip)' : '';
        throw new Error(`no WebGPU backend${ci}: ${reason}`);
      }
    },
  };
}

const gpuReason = await probeWebGPU();
const ci = process.env.CI === 'true';
if (gpuReason && !ci) webgpuUnavailable = gpuReason;

export const backendsUnderTest: BackendUnderTest[] = [
  { name: 'cpu', create: async () => cpuBackend },
  // minFlops 0: every case runs on the WebAssembly SIMD kernels, however small
  { name: 'cpu-wasm', create: async () => wasmCpuBackend(await requireWasm(), { minFlops: 0 }) },
  // projections split by rows over two threads, recurrences by batch rows where the batch reaches 8
  { name: 'cpu-wasm (2 threads)', create: wasmPoolBackend },
  ...(webgpuUnavailable
    ? []
    : [
        // the persistent recurrence kernel for every fixture's hidden size (≤ 65) …
        webgpu('webgpu', {}),
        // … and the per-step GEMM path on the same cases
        webgpu('webgpu (stepwise)', { persistent: false }),
      ]),
];

async function requireWasm(): Promise<WasmKernels> {
  const kernels = await initWasm();
  if (!kernels) throw new Error('this Node has no WebAssembly SIMD');
  return kernels;
}

async function wasmPoolBackend(): Promise<Backend> {
  const pool = await createWasmPool(2);
  if (!pool) throw new Error('this Node has no WebAssembly threads');
  return wasmCpuBackend(pool, { minFlops: 0 }); // its dispose() stops the workers
}

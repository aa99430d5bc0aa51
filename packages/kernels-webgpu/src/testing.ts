// Test-only (not built): a runtime for the kernel tests, or why there is none.
import { expect } from 'vitest';
import { STORAGE_USAGE } from './runtime/buffers.js';
import { createRuntime, type GpuRuntime } from './runtime/device.js';
import { Recorder } from './runtime/recorder.js';

/**
 * The runtime the tests use. Without an adapter, CI=true fails (the suite must run in CI) and a local
 * run gets the reason, to skip visibly.
 */
export async function testRuntime(): Promise<
  { runtime: GpuRuntime; reason: null } | { runtime: null; reason: string }
> {
  try {
    return { runtime: await createRuntime(), reason: null };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') throw new Error(`CI=true and no WebGPU adapter: ${reason}`);
    return { runtime: null, reason: `no WebGPU adapter (${reason.slice(0, 200)})` };
  }
}

/** Per element `|got − want| ≤ atol + 1e-5·|want|` (atol 1e-6); NaN and ±Inf exactly. */
export function checkElements(got: Float32Array, want: Float32Array, what: string, atol = 1e-6): void {
  for (let i = 0; i < want.length; i++) {
    const [v, w] = [got[i] as number, want[i] as number];
    const ok = Number.isFinite(w) ? Math.abs(v - w) <= atol + 1e-5 * Math.abs(w) : Object.is(v, w);
    if (!ok) expect.fail(`${what}[${i}] of ${want.length}: got ${v}, want ${w}`);
  }
}

/** A storage buffer of `gpu` holding `data`. */
export function uploadBuffer(gpu: GpuRuntime, data: Float32Array): GPUBuffer {
  const b = gpu.acquire(Math.max(4, data.byteLength), STORAGE_USAGE);
  gpu.write(b, data);
  return b;
}

/**
 * A recorder whose runtime reports `maxComputeWorkgroupsPerDimension = max`: a kernel's 2-D workgroup grid
 * tested on small data.
 */
export function cappedRecorder(gpu: GpuRuntime, max: number): Recorder {
  const limits = new Proxy(gpu.limits, {
    get: (target, key) => (key === 'maxComputeWorkgroupsPerDimension' ? max : Reflect.get(target, key)),
  });
  const capped = new Proxy(gpu, {
    get: (target, key) => {
      if (key === 'limits') return limits;
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return new Recorder(capped);
}

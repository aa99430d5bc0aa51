// Test-only (not built): a runtime for the kernel tests, or why there is none.
import { createRuntime, type GpuRuntime } from './runtime/device.js';

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

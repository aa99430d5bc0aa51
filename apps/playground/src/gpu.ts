import type { Backend } from '@recurrent/nn';

/** The WebGPU backend, or why there is none (old browser, no adapter, blocked by policy). */
export type GpuState = { backend: Backend; description: string } | { backend: null; reason: string };

/** Tries WebGPU once; the CPU always works, so failure here only switches the GPU buttons off. */
export async function detectWebGPU(): Promise<GpuState> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    return {
      backend: null,
      reason:
        'this browser has no WebGPU (navigator.gpu is missing): use a recent Chrome, Edge or Safari, or enable WebGPU in its flags',
    };
  }
  try {
    const { createWebGPUBackend } = await import('@recurrent/nn/webgpu');
    const backend = await createWebGPUBackend();
    return { backend, description: 'WebGPU is on' };
  } catch (error) {
    return { backend: null, reason: error instanceof Error ? error.message : String(error) };
  }
}

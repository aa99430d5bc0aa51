// createWebGPUBackend says when the adapter is a software fallback (SwiftShader, WARP, …).
import { getGpu } from '@recurrent/kernels-webgpu';
import { describe, expect, it } from 'vitest';
import { webgpuUnavailable } from '../testing/backends.js';
import { createWebGPUBackend } from './webgpu.js';

const suite = webgpuUnavailable ? describe.skip : describe;
if (webgpuUnavailable) it.skip(`webgpu fallback tests: skipped, ${webgpuUnavailable}`, () => {});

const SENTENCE = ' — software fallback: batch-1 models run far slower than on the CPU';

suite('createWebGPUBackend on a fallback adapter', () => {
  it('reports what the adapter reports, in `fallback` and in the label', async () => {
    const adapter = await (await getGpu()).requestAdapter();
    if (!adapter) throw new Error('no adapter');
    const info = adapter.info as Partial<GPUAdapterInfo>;
    const older = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
    const reported = info.isFallbackAdapter === true || older === true;
    const b = await createWebGPUBackend({ adapter });
    try {
      expect(b.fallback).toBe(reported);
      expect(b.runtime.fallback).toBe(reported);
      expect(b.label).toBe(
        `webgpu (${b.runtime.adapterName || 'unknown adapter'}${reported ? SENTENCE : ''})`,
      );
      console.log(
        `adapter ${b.runtime.adapterName}: isFallbackAdapter ${info.isFallbackAdapter}, label '${b.label}'`,
      );
    } finally {
      b.dispose();
    }
  });

  it('reads info.isFallbackAdapter and the older adapter.isFallbackAdapter', async () => {
    const real = await (await getGpu()).requestAdapter();
    if (!real) throw new Error('no adapter');
    const device = await real.requestDevice();
    const fake = (info: object, extra: object = {}) => ({ info, ...extra }) as unknown as GPUAdapter;
    const cases: [GPUAdapter, boolean][] = [
      [fake({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }), true],
      [fake({ vendor: 'google', architecture: 'swiftshader' }, { isFallbackAdapter: true }), true],
      [fake({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: false }), false],
      [fake({ vendor: 'nvidia', architecture: 'hopper' }), false],
    ];
    try {
      for (const [adapter, fallback] of cases) {
        const b = await createWebGPUBackend({ adapter, device });
        expect(b.fallback).toBe(fallback);
        expect(b.label).toBe(`webgpu (${b.runtime.adapterName}${fallback ? SENTENCE : ''})`);
      }
    } finally {
      device.destroy();
    }
  });
});

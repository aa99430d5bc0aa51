import { tensor } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from '../testing.js';
import { createRuntime } from './device.js';
import { loadNodeWebGPU } from './gpu.js';
import { defineKernel } from './pipelines.js';

describe('getting a device', () => {
  it('rejects with how to get WebGPU when the webgpu package cannot be loaded', async () => {
    const failing = () => Promise.reject(new Error("Cannot find package 'webgpu'"));
    await expect(loadNodeWebGPU(failing)).rejects.toThrow(
      /navigator\.gpu is missing and the 'webgpu' package could not be loaded \(Cannot find package 'webgpu'\)\. To get WebGPU: .*browser.*npm i webgpu.*SwiftShader/,
    );
  });

  it('rejects with how to get WebGPU when no adapter is found', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createRuntime({ gpu })).rejects.toThrow(
      /no GPU adapter was found\. To get WebGPU: .*npm i webgpu/,
    );
  });
});

const { runtime, reason } = await testRuntime();

describe.skipIf(!runtime)(`the runtime${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const gpu = runtime as NonNullable<typeof runtime>;
  afterAll(() => gpu.dispose());

  it('uploads, reads back asynchronously, refuses synchronous reads and reads after dispose', async () => {
    const t = gpu.fromCpu(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(t.device).toBe('webgpu');
    expect(await t.data()).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(() => t.dataSync()).toThrow(
      /lives on the GPU \(webgpu device #\d+.*\): use await tensor\.data\(\)/,
    );
    expect(() => t.tolist()).toThrow(/use await tensor\.data\(\)/);
    const before = gpu.stats().buffersInUse;
    t.dispose();
    t.dispose();
    expect(gpu.stats().buffersInUse).toBe(before - 1);
    await expect(t.data()).rejects.toThrow(/this tensor on webgpu device #\d+.* was disposed/);
  });

  it('names the kernel when WGSL does not compile (ahead of time, and on first use)', async () => {
    const broken = defineKernel({
      name: 'broken',
      variant: 'v1',
      uniforms: [],
      bindings: [{ name: 'x', access: 'read_write' }],
      body: '@compute @workgroup_size(1) fn main() { x[0] = undefined_thing; }',
    });
    await expect(gpu.pipelines.compile(broken)).rejects.toThrow(
      /WebGPU kernel 'broken\/f32\/v1' failed to compile/,
    );
    const other = await createRuntime();
    const x = other.acquire(16, 128 | 8 | 4);
    const rec = other.recorder();
    rec.dispatch({ ...broken, key: 'broken/f32/v2' }, [x], {}, [1, 1, 1]);
    rec.submit();
    await expect(other.read(x, 1)).rejects.toThrow(
      /WebGPU kernel 'broken\/f32\/v2' failed to compile:.*undefined_thing/s,
    );
    expect(() => other.recorder()).toThrow(/broken\/f32\/v2/);
    other.dispose();
  });

  it('refuses tensors of another device, naming both', async () => {
    const other = await createRuntime();
    const t = other.fromCpu(tensor([1, 2]));
    expect(() => gpu.bufferOf(t, 'x')).toThrow(
      new RegExp(
        `x lives on ${other.label.replace(/[()#]/g, '\\$&')} but this computation runs on ${gpu.label.replace(/[()#]/g, '\\$&')}`,
      ),
    );
    expect(() => gpu.bufferOf(tensor([1]), 'x')).toThrow(/x is on 'cpu', expected a tensor on webgpu device/);
    other.dispose();
  });

  it('names maxStorageBufferBindingSize when a buffer is too large to bind', () => {
    const limit = gpu.limits.maxStorageBufferBindingSize;
    expect(() => gpu.acquire(limit + 4, 128)).toThrow(/exceeds this device's maxStorageBufferBindingSize/);
  });

  it('throws clear errors after dispose and after the device is lost', async () => {
    const disposed = await createRuntime();
    disposed.dispose();
    expect(() => disposed.fromCpu(tensor([1]))).toThrow(/was disposed; create a new backend/);
    const lost = await createRuntime();
    const t = lost.fromCpu(tensor([1, 2, 3]));
    lost.device.destroy();
    await expect(t.data()).rejects.toThrow(/was lost/);
    expect(() => lost.recorder()).toThrow(/was lost \(destroyed/);
  });
});

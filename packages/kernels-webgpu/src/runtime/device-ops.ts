import type { DeviceOps, Tensor } from '@recurrent/tensor';
import { recordAdd, recordAddInPlace, recordFill } from '../kernels/elementwise.js';
import { STORAGE_USAGE } from './buffers.js';
import type { GpuRuntime } from './device.js';
import type { Recorder } from './recorder.js';
import { type GpuTrainingOps, gpuTrainingOps } from './training-ops.js';

/** A runtime's ops on its tensors: autograd's `DeviceOps` and the training ops (losses, optimizers). */
export type GpuDeviceOps = DeviceOps & GpuTrainingOps;

/**
 * The runtime's ops: what autograd needs to keep gradients on the GPU (seed, sum, accumulate, copy),
 * `fill_`/`zero_`, and the training ops, each one submit, no readback.
 */
export function gpuDeviceOps(runtime: GpuRuntime): GpuDeviceOps {
  /** A new tensor of `shape` whose elements `record` writes, in one submit. */
  const make = (
    shape: readonly number[],
    what: string,
    record: (rec: Recorder, out: GPUBuffer, n: number) => void,
  ) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = runtime.acquire(Math.max(4, n * 4), STORAGE_USAGE, what);
    submit((rec) => record(rec, out, n), out);
    return runtime.tensor(out, shape);
  };
  const submit = (record: (rec: Recorder) => void, out: GPUBuffer | null = null) =>
    runtime.run(record, out ? [out] : []);
  const buf = (t: Tensor, what: string) => runtime.bufferOf(t, what);
  return {
    ...gpuTrainingOps(runtime),
    add: (a, b) =>
      make(a.shape, 'a gradient sum', (rec, out, length) =>
        recordAdd(rec, { a: buf(a, 'a gradient'), b: buf(b, 'a gradient'), out, length }),
      ),
    addInPlace: (acc, x) =>
      submit((rec) =>
        recordAddInPlace(rec, { acc: buf(acc, 'a .grad'), x: buf(x, 'a gradient'), length: acc.numel() }),
      ),
    full: (shape, value) =>
      make(shape, 'a filled tensor', (rec, out, length) => recordFill(rec, { out, length, value })),
    fill: (t, value) => submit((rec) => recordFill(rec, { out: buf(t, 'fill_'), length: t.numel(), value })),
    clone: (t) => make(t.shape, 'a copy', (rec, out, n) => rec.copy(buf(t, 'a gradient'), 0, out, 0, n * 4)),
  };
}

import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { defineKernel } from '../runtime/pipelines.js';
import { testRuntime } from '../testing.js';
import { type Activation, activation, wgslMath } from './math.js';

const { runtime, reason } = await testRuntime();

describe.skipIf(!runtime)(`activations on the GPU${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const gpu = runtime as NonNullable<typeof runtime>;
  afterAll(() => gpu.dispose());

  async function apply(kind: Activation | 'sigmoid', values: number[]): Promise<Float32Array> {
    const act =
      kind === 'sigmoid'
        ? `${wgslMath('sigmoid_safe')}\nfn act(x: f32) -> f32 { return sigmoid_safe(x); }`
        : activation(kind);
    const kernel = defineKernel({
      name: 'test-activation',
      variant: kind,
      uniforms: [{ name: 'n', type: 'u32' }],
      bindings: [
        { name: 'x', access: 'read' },
        { name: 'y', access: 'read_write' },
      ],
      body: `${act}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { y[g.x] = act(x[g.x]); }
}`,
    });
    const data = Float32Array.from(values);
    const x = gpu.acquire(data.byteLength, STORAGE_USAGE);
    const y = gpu.acquire(data.byteLength, STORAGE_USAGE);
    gpu.write(x, data);
    const rec = gpu.recorder();
    rec.dispatch(kernel, [x, y], { n: data.length }, [Math.ceil(data.length / 64), 1, 1]);
    rec.submit();
    const out = await gpu.read(y, data.length);
    gpu.release(x);
    gpu.release(y);
    return out;
  }

  const specials = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0,
    -0,
    1e-30,
    -1e-30,
    3e38,
    -3e38,
  ];
  const range = Array.from({ length: 401 }, (_, i) => (i - 200) / 8); // −25 … 25
  const small = Array.from({ length: 41 }, (_, i) => (i - 20) * 6e-3); // around 0, where 1 − e cancels

  it('tanh: within 2e-7 of Math.tanh, relatively accurate near 0, ±1 for huge and infinite inputs, NaN kept', async () => {
    const inputs = [...specials, ...range, ...small, 88.8, -88.8, 100, -1000];
    const got = await apply('tanh', inputs);
    inputs.forEach((x, i) => {
      const y = got[i] as number;
      const want = Math.tanh(Math.fround(x));
      if (Number.isNaN(x)) expect(y).toBeNaN();
      else expect(Math.abs(y - want), `tanh(${x}) = ${y}`).toBeLessThanOrEqual(2e-7 + 1e-6 * Math.abs(want));
    });
    small.forEach((x, k) => {
      const y = got[specials.length + range.length + k] as number;
      if (x !== 0)
        expect(Math.abs(y / Math.tanh(Math.fround(x)) - 1), `tanh(${x}) = ${y}`).toBeLessThan(1e-6);
    });
  });

  it('relu: max(x, 0) that lets NaN through and keeps infinities', async () => {
    const inputs = [...specials, ...range];
    const got = await apply('relu', inputs);
    inputs.forEach((x, i) => {
      const y = got[i] as number;
      if (Number.isNaN(x)) expect(y).toBeNaN();
      else expect(y).toBe(Math.max(Math.fround(x), 0) || 0);
    });
  });

  it('sigmoid: within 1e-7 of 1/(1 + e^−x), exactly 0 and 1 at ∓Inf, never NaN from overflow, NaN kept', async () => {
    const inputs = [...specials, ...range, 88.8, -88.8, 100, -100, -1000];
    const got = await apply('sigmoid', inputs);
    inputs.forEach((x, i) => {
      const y = got[i] as number;
      const want = 1 / (1 + Math.exp(-Math.fround(x)));
      if (Number.isNaN(x)) expect(y).toBeNaN();
      else expect(Math.abs(y - want), `sigmoid(${x}) = ${y}`).toBeLessThanOrEqual(1e-7 + 1e-6 * want);
    });
    expect([got[1], got[2]]).toEqual([1, 0]);
  });
});

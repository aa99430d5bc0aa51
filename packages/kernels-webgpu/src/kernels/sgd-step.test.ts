import { Generator, randn } from '@recurrent/tensor';
import { afterAll, describe, it } from 'vitest';
import { cappedRecorder, checkElements, testRuntime, uploadBuffer } from '../testing.js';
import { recordSgdStep, type SgdStepArgs } from './sgd-step.js';

const { runtime, reason } = await testRuntime();

type Options = Pick<SgdStepArgs, 'lr' | 'momentum' | 'dampening' | 'weightDecay' | 'nesterov' | 'maximize'>;
const DEFAULTS: Options = {
  lr: 0.1,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
};
const STEPS = 5;

const f32 = Math.fround;
const fma32 = (b: number, alpha: number, a: number) => Math.fround(a + alpha * b);

/** `SGD.updateGroup` of `@recurrent/nn` (PyTorch 1.13's `_single_tensor_sgd`), op by op, in place. */
function cpuStep(x: Float32Array, grad: Float32Array, buf: Float32Array | null, first: boolean, o: Options) {
  const wd = f32(o.weightDecay);
  const m = f32(o.momentum);
  const keep = f32(1 - o.dampening);
  const step = f32(-o.lr);
  let d = o.maximize ? grad.map((v) => -v) : grad;
  if (o.weightDecay !== 0) d = d.map((gi, i) => fma32(x[i] as number, wd, gi));
  if (buf) {
    if (first) buf.set(d);
    else
      for (let i = 0; i < buf.length; i++) buf[i] = fma32(d[i] as number, keep, f32((buf[i] as number) * m));
    d = o.nesterov ? d.map((di, i) => fma32(buf[i] as number, m, di)) : buf;
  }
  for (let i = 0; i < x.length; i++) x[i] = fma32(d[i] as number, step, x[i] as number);
}

describe.skipIf(!runtime)(
  `sgd-step kernel against the CPU SGD${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    const upload = (data: Float32Array) => uploadBuffer(gpu, data);

    /** Runs `grads.length` steps on the GPU and on the CPU from `x0`; compares the parameter, the buffer. */
    async function compare(
      x0: Float32Array,
      grads: Float32Array[],
      o: Options,
      recorder = () => gpu.recorder(),
    ) {
      const n = x0.length;
      const x = Float32Array.from(x0);
      const buf = o.momentum !== 0 ? new Float32Array(n) : null;
      for (const [k, g] of grads.entries()) cpuStep(x, g, buf, k === 0, o);

      const param = upload(x0);
      const grad = upload(new Float32Array(n));
      const momentumBuffer = buf ? upload(new Float32Array(n)) : null;
      grads.forEach((g, k) => {
        gpu.write(grad, g);
        const rec = recorder();
        recordSgdStep(rec, { ...o, param, grad, length: n, momentumBuffer, firstMomentumStep: k === 0 });
        rec.submit();
      });
      checkElements(await gpu.read(param, n), x, 'param');
      if (buf && momentumBuffer) checkElements(await gpu.read(momentumBuffer, n), buf, 'momentum_buffer');
      for (const b of [param, grad, momentumBuffer]) if (b) gpu.release(b);
    }

    const cases: [string, Partial<Options>][] = [
      ['plain', {}],
      ['momentum', { momentum: 0.9 }],
      ['momentum + dampening', { momentum: 0.9, dampening: 0.3 }],
      ['nesterov', { momentum: 0.9, nesterov: true }],
      ['weightDecay', { weightDecay: 0.05 }],
      ['maximize', { maximize: true }],
      ['everything', { momentum: 0.5, weightDecay: 0.05, nesterov: true, maximize: true }],
    ];
    it.each(cases.flatMap(([name, o]) => [1, 7, 1000, 70000].map((n) => [name, n, o] as const)))(
      '%s, %i elements: 5 steps match the CPU',
      async (_, n, o) => {
        const generator = new Generator(n + 1);
        const x0 = randn([n], { generator }).dataSync();
        const grads = Array.from({ length: STEPS }, () => randn([n], { generator }).dataSync());
        await compare(x0, grads, { ...DEFAULTS, ...o });
      },
    );

    it('NaN and ±Inf gradients propagate as on the CPU', async () => {
      const generator = new Generator(3);
      const x0 = randn([7], { generator }).dataSync();
      const grads = Array.from({ length: STEPS }, () => randn([7], { generator }).dataSync());
      grads[1]?.set([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], 2);
      await compare(x0, grads, { ...DEFAULTS, momentum: 0.9, weightDecay: 0.05, nesterov: true });
    });

    it('indexes a 2-D grid (6 workgroups per dimension at most: 6 × 5 for 28)', async () => {
      const generator = new Generator(4);
      const x0 = randn([7001], { generator }).dataSync();
      const grads = Array.from({ length: STEPS }, () => randn([7001], { generator }).dataSync());
      await compare(x0, grads, { ...DEFAULTS, momentum: 0.9 }, () => cappedRecorder(gpu, 6));
    });
  },
);

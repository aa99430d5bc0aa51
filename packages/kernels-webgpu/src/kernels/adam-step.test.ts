import { Generator, randn } from '@recurrent/tensor';
import { afterAll, describe, it } from 'vitest';
import { cappedRecorder, checkElements, testRuntime, uploadBuffer } from '../testing.js';
import { type AdamStepArgs, recordAdamStep } from './adam-step.js';

const { runtime, reason } = await testRuntime();

type Options = Pick<
  AdamStepArgs,
  'lr' | 'beta1' | 'beta2' | 'eps' | 'weightDecay' | 'amsgrad' | 'maximize' | 'decoupled'
>;
const DEFAULTS: Options = {
  ...{ lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  ...{ amsgrad: false, maximize: false, decoupled: false },
};
const STEPS = 5;

const f32 = Math.fround;
const fma32 = (b: number, alpha: number, a: number) => Math.fround(a + alpha * b);

interface State {
  m: Float32Array;
  v: Float32Array;
  mx: Float32Array | null;
}

/** `adamUpdate` of `@recurrent/nn` (PyTorch 1.13's `_single_tensor_adam(w)`), op by op, in place. */
function cpuStep(x: Float32Array, grad: Float32Array, s: State, step: number, o: Options) {
  const n = x.length;
  let g = o.maximize ? grad.map((v) => -v) : grad;
  if (o.decoupled) {
    const k = f32(1 - o.lr * o.weightDecay);
    for (let i = 0; i < n; i++) x[i] = f32((x[i] as number) * k);
  } else if (o.weightDecay !== 0) {
    const wd = f32(o.weightDecay);
    g = g.map((gi, i) => fma32(x[i] as number, wd, gi));
  }
  const [b1, a1, b2, a2] = [f32(o.beta1), f32(1 - o.beta1), f32(o.beta2), f32(1 - o.beta2)];
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    s.m[i] = fma32(gi, a1, f32((s.m[i] as number) * b1));
    s.v[i] = f32(f32((s.v[i] as number) * b2) + f32(f32(a2 * gi) * gi));
  }
  const biasCorrection1 = 1 - o.beta1 ** step;
  const biasCorrection2 = 1 - o.beta2 ** step;
  const stepSize = f32(-(o.lr / biasCorrection1));
  const bc2Sqrt = f32(Math.sqrt(biasCorrection2));
  const eps = f32(o.eps);
  let second = s.v;
  if (s.mx) {
    for (let i = 0; i < n; i++) s.mx[i] = Math.max(s.mx[i] as number, s.v[i] as number);
    second = s.mx;
  }
  for (let i = 0; i < n; i++) {
    const denom = f32(f32(f32(Math.sqrt(second[i] as number)) / bc2Sqrt) + eps);
    x[i] = f32((x[i] as number) + f32(f32(stepSize * (s.m[i] as number)) / denom));
  }
}

describe.skipIf(!runtime)(
  `adam-step kernel against the CPU Adam/AdamW${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    const upload = (data: Float32Array) => uploadBuffer(gpu, data);

    /** Runs `grads.length` steps on the GPU and on the CPU from `x0`; compares the parameter, the state. */
    async function compare(
      x0: Float32Array,
      grads: Float32Array[],
      o: Options,
      recorder = () => gpu.recorder(),
    ) {
      const n = x0.length;
      const x = Float32Array.from(x0);
      const s: State = {
        m: new Float32Array(n),
        v: new Float32Array(n),
        mx: o.amsgrad ? new Float32Array(n) : null,
      };
      for (const [k, g] of grads.entries()) cpuStep(x, g, s, k + 1, o);

      const param = upload(x0);
      const grad = upload(new Float32Array(n));
      const [expAvg, expAvgSq] = [upload(new Float32Array(n)), upload(new Float32Array(n))];
      const maxExpAvgSq = o.amsgrad ? upload(new Float32Array(n)) : null;
      grads.forEach((g, k) => {
        gpu.write(grad, g);
        const rec = recorder();
        recordAdamStep(rec, { ...o, param, grad, expAvg, expAvgSq, maxExpAvgSq, length: n, step: k + 1 });
        rec.submit();
      });
      checkElements(await gpu.read(param, n), x, 'param');
      checkElements(await gpu.read(expAvg, n), s.m, 'exp_avg');
      checkElements(await gpu.read(expAvgSq, n), s.v, 'exp_avg_sq');
      if (s.mx && maxExpAvgSq) checkElements(await gpu.read(maxExpAvgSq, n), s.mx, 'max_exp_avg_sq');
      for (const b of [param, grad, expAvg, expAvgSq, maxExpAvgSq]) if (b) gpu.release(b);
    }

    const cases: [string, Partial<Options>][] = [
      ['plain', {}],
      ['weightDecay', { weightDecay: 0.05 }],
      ['amsgrad', { amsgrad: true }],
      ['maximize', { maximize: true }],
      ['everything', { weightDecay: 0.05, amsgrad: true, maximize: true }],
    ];
    const grid = [false, true].flatMap((decoupled) =>
      cases.flatMap(([name, o]) =>
        [1, 7, 1000, 70000].map((n) => [decoupled ? 'AdamW' : 'Adam', name, n, { ...o, decoupled }] as const),
      ),
    );
    it.each(grid)('%s %s, %i elements: 5 steps match the CPU', async (_, __, n, o) => {
      const generator = new Generator(n + 1);
      const x0 = randn([n], { generator }).dataSync();
      const grads = Array.from({ length: STEPS }, () => randn([n], { generator }).dataSync());
      await compare(x0, grads, { ...DEFAULTS, ...o });
    });

    it.each([false, true])(
      'NaN and ±Inf gradients propagate as on the CPU (amsgrad, decoupled %s)',
      async (decoupled) => {
        const generator = new Generator(3);
        const x0 = randn([7], { generator }).dataSync();
        const grads = Array.from({ length: STEPS }, () => randn([7], { generator }).dataSync());
        grads[1]?.set([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], 2);
        await compare(x0, grads, { ...DEFAULTS, weightDecay: 0.05, amsgrad: true, decoupled });
      },
    );

    it('indexes a 2-D grid (6 workgroups per dimension at most: 6 × 5 for 28)', async () => {
      const generator = new Generator(4);
      const x0 = randn([7001], { generator }).dataSync();
      const grads = Array.from({ length: STEPS }, () => randn([7001], { generator }).dataSync());
      await compare(x0, grads, { ...DEFAULTS, amsgrad: true }, () => cappedRecorder(gpu, 6));
    });
  },
);

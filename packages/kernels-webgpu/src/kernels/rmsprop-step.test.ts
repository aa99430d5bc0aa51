import { Generator, randn } from '@recurrent/tensor';
import { afterAll, describe, it } from 'vitest';
import { cappedRecorder, checkElements, testRuntime, uploadBuffer } from '../testing.js';
import { type RmspropStepArgs, recordRmspropStep } from './rmsprop-step.js';

const { runtime, reason } = await testRuntime();

type Options = Pick<
  RmspropStepArgs,
  'lr' | 'alpha' | 'eps' | 'weightDecay' | 'momentum' | 'centered' | 'maximize'
>;
const DEFAULTS: Options = {
  ...{ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0 },
  ...{ centered: false, maximize: false },
};
const STEPS = 5;

const f32 = Math.fround;
const fma32 = (b: number, alpha: number, a: number) => Math.fround(a + alpha * b);

interface State {
  sq: Float32Array;
  ga: Float32Array | null;
  buf: Float32Array | null;
}

/** `RMSprop.updateGroup` of `@recurrent/nn` (PyTorch 1.13's `_single_tensor_rmsprop`), op by op, in place. */
function cpuStep(x: Float32Array, grad: Float32Array, s: State, o: Options) {
  const n = x.length;
  let g = o.maximize ? grad.map((v) => -v) : grad;
  if (o.weightDecay !== 0) {
    const wd = f32(o.weightDecay);
    g = g.map((gi, i) => fma32(x[i] as number, wd, gi));
  }
  const [a, keep, m, negLr, e] = [f32(o.alpha), f32(1 - o.alpha), f32(o.momentum), f32(-o.lr), f32(o.eps)];
  const { sq, ga, buf } = s;
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    sq[i] = f32(f32((sq[i] as number) * a) + f32(f32(keep * gi) * gi));
    let avg: number;
    if (ga) {
      ga[i] = fma32(gi, keep, f32((ga[i] as number) * a));
      const gai = ga[i] as number;
      avg = f32(Math.sqrt(f32((sq[i] as number) + f32(-gai * gai))));
    } else avg = f32(Math.sqrt(sq[i] as number));
    avg = f32(avg + e);
    if (buf) {
      buf[i] = f32(f32((buf[i] as number) * m) + f32(gi / avg));
      x[i] = fma32(buf[i] as number, negLr, x[i] as number);
    } else x[i] = f32((x[i] as number) + f32(f32(negLr * gi) / avg));
  }
}

describe.skipIf(!runtime)(
  `rmsprop-step kernel against the CPU RMSprop${reason ? ` (skipped: ${reason})` : ''}`,
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
        sq: new Float32Array(n),
        ga: o.centered ? new Float32Array(n) : null,
        buf: o.momentum > 0 ? new Float32Array(n) : null,
      };
      for (const g of grads) cpuStep(x, g, s, o);

      const param = upload(x0);
      const grad = upload(new Float32Array(n));
      const squareAvg = upload(new Float32Array(n));
      const gradAvg = s.ga ? upload(new Float32Array(n)) : null;
      const momentumBuffer = s.buf ? upload(new Float32Array(n)) : null;
      for (const g of grads) {
        gpu.write(grad, g);
        const rec = recorder();
        recordRmspropStep(rec, { ...o, param, grad, squareAvg, gradAvg, momentumBuffer, length: n });
        rec.submit();
      }
      checkElements(await gpu.read(param, n), x, 'param');
      checkElements(await gpu.read(squareAvg, n), s.sq, 'square_avg');
      if (s.ga && gradAvg) checkElements(await gpu.read(gradAvg, n), s.ga, 'grad_avg');
      // buf sums terms g/avg of up to 1/sqrt(1 − alpha) = 10 that cancel: an ulp of one term stays in the
      // sum (SwiftShader's fma is not fused, so weight decay's g is an ulp off): 10× the abs tolerance
      if (s.buf && momentumBuffer)
        checkElements(await gpu.read(momentumBuffer, n), s.buf, 'momentum_buffer', 1e-5);
      for (const b of [param, grad, squareAvg, gradAvg, momentumBuffer]) if (b) gpu.release(b);
    }

    const cases: [string, Partial<Options>][] = [
      ['plain', {}],
      ['centered', { centered: true }],
      ['momentum', { momentum: 0.9 }],
      ['weightDecay', { weightDecay: 0.05 }],
      ['maximize', { maximize: true }],
      ['everything', { centered: true, momentum: 0.9, weightDecay: 0.05, maximize: true }],
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
      await compare(x0, grads, { ...DEFAULTS, centered: true, momentum: 0.9, weightDecay: 0.05 });
    });

    it('alpha = 0, centered: a zero variance gives avg = eps, as on the CPU', async () => {
      const generator = new Generator(5);
      const x0 = randn([1000], { generator }).dataSync();
      const grads = Array.from({ length: STEPS }, () => randn([1000], { generator }).dataSync());
      await compare(x0, grads, { ...DEFAULTS, alpha: 0, centered: true, eps: 1e-3 });
    });

    it('indexes a 2-D grid (6 workgroups per dimension at most: 6 × 5 for 28)', async () => {
      const generator = new Generator(4);
      const x0 = randn([7001], { generator }).dataSync();
      const grads = Array.from({ length: STEPS }, () => randn([7001], { generator }).dataSync());
      await compare(x0, grads, { ...DEFAULTS, centered: true, momentum: 0.9 }, () => cappedRecorder(gpu, 6));
    });
  },
);

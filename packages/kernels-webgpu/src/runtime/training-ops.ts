import type { Tensor } from '@recurrent/tensor';
import { type AdamStepArgs, recordAdamStep } from '../kernels/adam-step.js';
import { recordCrossEntropy, recordCrossEntropyBackward } from '../kernels/cross-entropy.js';
import { recordClipScale, recordNorm } from '../kernels/grad-norm.js';
import { type LossReduction, recordMse, recordMseBackward } from '../kernels/mse.js';
import { type RmspropStepArgs, recordRmspropStep } from '../kernels/rmsprop-step.js';
import { recordSgdStep, type SgdStepArgs } from '../kernels/sgd-step.js';
import { STORAGE_USAGE } from './buffers.js';
import type { GpuRuntime } from './device.js';
import type { Recorder } from './recorder.js';

type F32 = Tensor<'float32'>;
type NoBuffers<A> = Omit<
  A,
  | 'param'
  | 'grad'
  | 'length'
  | 'momentumBuffer'
  | 'expAvg'
  | 'expAvgSq'
  | 'maxExpAvgSq'
  | 'squareAvg'
  | 'gradAvg'
>;

/** Cross-entropy's options on the device (class-index targets, rows × classes logits). */
export interface GpuCrossEntropyOptions {
  /** `(classes)` on the device, or null. */
  weight: Tensor | null;
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: LossReduction;
}

/**
 * The training ops of a runtime on its tensors (losses, their gradients, gradient clipping, optimizer
 * steps): each records its kernels into one submit and reads nothing back. Shapes are the caller's to
 * check; state tensors are updated in place.
 */
export interface GpuTrainingOps {
  /** A copy of a CPU tensor (float32 or int32) on the device. */
  upload<T extends Tensor>(t: T): T;
  /** `(rows, classes)` logits, `(rows)` int32 targets → the loss (`[]`, or `(rows)` for 'none') and the mean's divisor `(1)`. */
  crossEntropy(logits: Tensor, targets: Tensor, o: GpuCrossEntropyOptions): { loss: F32; denom: F32 };
  /** d loss / d logits `(rows, classes)` from the upstream gradient (shaped like the loss). */
  crossEntropyBackward(
    logits: Tensor,
    targets: Tensor,
    denom: Tensor,
    gradOut: Tensor,
    o: GpuCrossEntropyOptions,
  ): F32;
  /** `(input − target)²` reduced (same shapes; `[]`, or the input's shape for 'none'). */
  mse(input: Tensor, target: Tensor, reduction: LossReduction): F32;
  /** d loss / d input. */
  mseBackward(input: Tensor, target: Tensor, gradOut: Tensor, reduction: LossReduction): F32;
  /** `clip_grad_norm_`: scales `grads` in place by min(maxNorm / (total + 1e-6), 1); returns the total `[]`. */
  clipGradNorm(grads: readonly Tensor[], maxNorm: number, normType: number): F32;
  sgdStep(param: Tensor, grad: Tensor, momentumBuffer: Tensor | null, o: NoBuffers<SgdStepArgs>): void;
  adamStep(
    param: Tensor,
    grad: Tensor,
    state: { expAvg: Tensor; expAvgSq: Tensor; maxExpAvgSq: Tensor | null },
    o: NoBuffers<AdamStepArgs>,
  ): void;
  rmspropStep(
    param: Tensor,
    grad: Tensor,
    state: { squareAvg: Tensor; momentumBuffer: Tensor | null; gradAvg: Tensor | null },
    o: NoBuffers<RmspropStepArgs>,
  ): void;
  /** Runs `fn`, recording every optimizer step it makes (`sgdStep`, `adamStep`, `rmspropStep`) into one submit. */
  steps(fn: () => void): void;
}

/** The runtime's `GpuTrainingOps`. */
export function gpuTrainingOps(runtime: GpuRuntime): GpuTrainingOps {
  const buf = (t: Tensor, what: string) => runtime.bufferOf(t, what);
  const alloc = (n: number, what: string) => runtime.acquire(Math.max(4, n * 4), STORAGE_USAGE, what);
  const submit = (record: (rec: Recorder) => void, outs: GPUBuffer[] = []) => runtime.run(record, outs);
  /** The recorder of `steps`, while it runs: the optimizer steps record into it. */
  let batch: Recorder | null = null;
  const step = (record: (rec: Recorder) => void) => (batch ? record(batch) : submit(record));
  const ce = (logits: Tensor, targets: Tensor, o: GpuCrossEntropyOptions) => ({
    logits: buf(logits, 'the cross-entropy input'),
    targets: buf(targets, 'the cross-entropy target'),
    rows: logits.shape[0] as number,
    classes: logits.shape[1] as number,
    weight: o.weight ? buf(o.weight, 'the cross-entropy weight') : null,
    ignoreIndex: o.ignoreIndex,
    labelSmoothing: o.labelSmoothing,
    reduction: o.reduction,
  });
  return {
    upload: (t) => runtime.fromCpu(t) as typeof t,
    crossEntropy(logits, targets, o) {
      const rows = logits.shape[0] as number;
      const n = o.reduction === 'none' ? rows : 1;
      const out = alloc(n, 'the cross-entropy loss');
      const denom = alloc(1, "the cross-entropy mean's divisor");
      submit((rec) => recordCrossEntropy(rec, { ...ce(logits, targets, o), out, denom }), [out, denom]);
      return {
        loss: runtime.tensor(out, o.reduction === 'none' ? [rows] : []),
        denom: runtime.tensor(denom, [1]),
      };
    },
    crossEntropyBackward(logits, targets, denom, gradOut, o) {
      const gradIn = alloc(logits.numel(), 'the cross-entropy gradient');
      submit(
        (rec) =>
          recordCrossEntropyBackward(rec, {
            ...ce(logits, targets, o),
            denom: buf(denom, "the cross-entropy mean's divisor"),
            gradOut: buf(gradOut, 'the upstream gradient'),
            gradIn,
          }),
        [gradIn],
      );
      return runtime.tensor(gradIn, logits.shape);
    },
    mse(input, target, reduction) {
      const length = input.numel();
      const out = alloc(reduction === 'none' ? length : 1, 'the MSE loss');
      submit(
        (rec) =>
          recordMse(rec, {
            input: buf(input, 'the MSE input'),
            target: buf(target, 'the MSE target'),
            length,
            reduction,
            out,
          }),
        [out],
      );
      return runtime.tensor(out, reduction === 'none' ? input.shape : []);
    },
    mseBackward(input, target, gradOut, reduction) {
      const length = input.numel();
      const gradIn = alloc(length, 'the MSE gradient');
      submit(
        (rec) =>
          recordMseBackward(rec, {
            ...{
              input: buf(input, 'the MSE input'),
              target: buf(target, 'the MSE target'),
              length,
              reduction,
            },
            ...{ gradOut: buf(gradOut, 'the upstream gradient'), gradIn },
          }),
        [gradIn],
      );
      return runtime.tensor(gradIn, input.shape);
    },
    clipGradNorm(grads, maxNorm, normType) {
      const total = alloc(1, 'the total gradient norm');
      submit(
        (rec) => {
          const norms = rec.scratch(Math.max(4, grads.length * 4), 'the gradient norms');
          grads.forEach((g, i) => {
            recordNorm(rec, {
              x: buf(g, 'a gradient'),
              length: g.numel(),
              out: norms,
              outIndex: i,
              normType,
            });
          });
          recordNorm(rec, { x: norms, length: grads.length, out: total, outIndex: 0, normType });
          for (const g of grads) {
            recordClipScale(rec, {
              x: buf(g, 'a gradient'),
              length: g.numel(),
              total,
              totalIndex: 0,
              maxNorm,
            });
          }
        },
        [total],
      );
      return runtime.tensor(total, []);
    },
    steps(fn) {
      if (batch) return fn();
      submit((rec) => {
        batch = rec;
        try {
          fn();
        } finally {
          batch = null;
        }
      });
    },
    sgdStep(param, grad, momentumBuffer, o) {
      step((rec) =>
        recordSgdStep(rec, {
          ...o,
          ...{
            param: buf(param, 'a parameter'),
            grad: buf(grad, "a parameter's grad"),
            length: param.numel(),
          },
          momentumBuffer: momentumBuffer ? buf(momentumBuffer, 'momentum_buffer') : null,
        }),
      );
    },
    adamStep(param, grad, s, o) {
      step((rec) =>
        recordAdamStep(rec, {
          ...o,
          ...{
            param: buf(param, 'a parameter'),
            grad: buf(grad, "a parameter's grad"),
            length: param.numel(),
          },
          ...{ expAvg: buf(s.expAvg, 'exp_avg'), expAvgSq: buf(s.expAvgSq, 'exp_avg_sq') },
          maxExpAvgSq: s.maxExpAvgSq ? buf(s.maxExpAvgSq, 'max_exp_avg_sq') : null,
        }),
      );
    },
    rmspropStep(param, grad, s, o) {
      step((rec) =>
        recordRmspropStep(rec, {
          ...o,
          ...{
            param: buf(param, 'a parameter'),
            grad: buf(grad, "a parameter's grad"),
            length: param.numel(),
          },
          squareAvg: buf(s.squareAvg, 'square_avg'),
          momentumBuffer: s.momentumBuffer ? buf(s.momentumBuffer, 'momentum_buffer') : null,
          gradAvg: s.gradAvg ? buf(s.gradAvg, 'grad_avg') : null,
        }),
      );
    },
  };
}

/// <reference types="@webgpu/types" />
/**
 * WGSL kernels and a small WebGPU runtime for `@recurrent/nn`: a device from `navigator.gpu` (browsers)
 * or the `webgpu` package (Node, loaded lazily), a buffer pool, a pipeline cache, one-submit recording,
 * GPU-resident tensors, a tiled GEMM, the recurrences of Elman, LSTM and GRU cells (a persistent kernel
 * per layer, or a fused kernel per step), their training steps (forward saving the activations, and the
 * backward's gate derivatives), dropout, and a model head's ops: an embedding gather, softmax /
 * log-softmax and argmax over the last dimension.
 */
export { type AdamStepArgs, adamStepKernel, recordAdamStep } from './kernels/adam-step.js';
export { type ArgmaxArgs, argmaxKernel, recordArgmax } from './kernels/argmax.js';
export { type ColumnSumArgs, columnSumKernel, recordColumnSum } from './kernels/column-sum.js';
export {
  type CrossEntropyArgs,
  type CrossEntropyBackwardArgs,
  crossEntropyKernel,
  recordCrossEntropy,
  recordCrossEntropyBackward,
} from './kernels/cross-entropy.js';
export { type DropoutArgs, dropoutKernel, recordDropout } from './kernels/dropout.js';
export {
  type AddArgs,
  type AddInPlaceArgs,
  type ElementwiseOp,
  elementwiseKernel,
  type FillArgs,
  recordAdd,
  recordAddInPlace,
  recordFill,
  recordScale,
  type ScaleArgs,
} from './kernels/elementwise.js';
export {
  type EmbeddingBackwardArgs,
  embeddingBackwardKernel,
  recordEmbeddingBackward,
} from './kernels/embedding-backward.js';
export { type GatherRowsArgs, gatherRowsKernel, recordGatherRows } from './kernels/gather-rows.js';
export { type GemmArgs, type GemmTile, type GemmVariant, gemmKernel, recordGemm } from './kernels/gemm.js';
export {
  type ClipScaleArgs,
  clipScaleKernel,
  type NormArgs,
  type NormKind,
  normKernel,
  recordClipScale,
  recordNorm,
} from './kernels/grad-norm.js';
export {
  type LossReduction,
  type MseArgs,
  type MseBackwardArgs,
  mseKernel,
  recordMse,
  recordMseBackward,
} from './kernels/mse.js';
export {
  type PackedSteps,
  type PackedWeights,
  type PersistentPlan,
  packedSteps,
  packWeights,
  persistentMaxHidden,
  persistentPlan,
  type RecurrenceArgs,
} from './kernels/recurrence.js';
export { type RmspropStepArgs, recordRmspropStep, rmspropStepKernel } from './kernels/rmsprop-step.js';
export { type GradProjArgs, gradProjKernel, recordGradProj } from './kernels/rnn-grad-proj.js';
export { type GradStepArgs, gradStepKernel, recordGradStep } from './kernels/rnn-grad-step.js';
export { persistentKernel, recordPersistentRecurrence } from './kernels/rnn-persistent.js';
export { recordStepRecurrence, type StepTile, stepKernel } from './kernels/rnn-step.js';
export { recordTrainStep, type TrainStepArgs, trainStepKernel } from './kernels/rnn-train-step.js';
export { recordSgdStep, type SgdStepArgs, sgdStepKernel } from './kernels/sgd-step.js';
export { recordSoftmax, type SoftmaxArgs, type SoftmaxKind, softmaxKernel } from './kernels/softmax.js';
export { BufferPool, type BufferStats, BufferUsage, STORAGE_USAGE, sizeClass } from './runtime/buffers.js';
export { createRuntime, GpuRuntime, type RuntimeStats, type WebGPUOptions } from './runtime/device.js';
export { type GpuDeviceOps, gpuDeviceOps } from './runtime/device-ops.js';
export { getGpu, loadNodeWebGPU, NO_WEBGPU } from './runtime/gpu.js';
export {
  type CompiledKernel,
  defineKernel,
  type Kernel,
  type KernelDefinition,
  memoizeKernel,
  PipelineCache,
} from './runtime/pipelines.js';
export { Recorder } from './runtime/recorder.js';
export { GpuStorage, gpuTensor, type StorageOwner } from './runtime/storage.js';
export { type GpuCrossEntropyOptions, type GpuTrainingOps, gpuTrainingOps } from './runtime/training-ops.js';
export { f32, flagBits, type StorageBinding, type UniformField, u32, wgslFlags } from './wgsl/bindings.js';
export { CELL_GATES, type CellKind, cellUpdate } from './wgsl/cell.js';
export { type Activation, activation, type MathFunction, wgslMath } from './wgsl/math.js';
export { STEP_ROWS, type StepRows, stepGroups, stepThread } from './wgsl/step-rows.js';

/**
 * Float32 and int32 CPU tensors with PyTorch's semantics: creation, PyTorch's own random streams
 * (`manualSeed(0); randn([2, 3])` gives `torch.manual_seed(0); torch.randn(2, 3)`'s numbers), shape ops,
 * broadcasting math, the ops a model's head needs (softmax, topk, multinomial, …), autograd (`backward`,
 * `noGrad`), a blocked GEMM and PyTorch's print format. Each op that has a PyTorch twin links to its page.
 */
export type { BackwardOptions } from './autograd/engine.js';
export { enableGrad, isGradEnabled, noGrad } from './autograd/grad-mode.js';
export {
  anyNeedsGrad,
  type BackwardFormula,
  type MultiBackwardFormula,
  Node,
  needsGrad,
  record as recordGradFn,
  recordMulti as recordGradFnMulti,
} from './autograd/node.js';
export {
  format,
  getPrintOptions,
  type PrintOptions,
  type PrintOptionsUpdate,
  type PrintProfile,
  setPrintOptions,
} from './format.js';
export { sgemm } from './gemm.js';
export { checkSgemmArgs } from './gemm-args.js';
export { argmax, argmin, type ValuesIndices } from './ops/argreduce.js';
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export { type EmbeddingOptions, embedding, gather, indexSelect } from './ops/indexing.js';
export * from './ops/matmul.js';
export * from './ops/reduce.js';
export { type MultinomialOptions, multinomial } from './ops/sampling.js';
export * from './ops/shape.js';
export { logSoftmax, softmax } from './ops/softmax.js';
export { topk } from './ops/sort.js';
export {
  DEFAULT_SEED,
  defaultGenerator,
  fillBernoulli,
  fillExponential,
  fillNormal,
  fillUniform,
  Generator,
  initialSeed,
  manualSeed,
  seed,
} from './random.js';
export {
  broadcastShapes,
  describeForError,
  formatShape,
  normalizeDim,
  numelOf,
  type Shape,
  shapesEqual,
  stridesOf,
} from './shape.js';
export {
  type ArrayOf,
  CpuStorage,
  type DeviceOps,
  type DType,
  type DTypeArrays,
  type Storage,
} from './storage.js';
export { cpuArray, cpuData, cpuIndex, type NestedArray, Tensor } from './tensor.js';

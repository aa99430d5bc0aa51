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
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export * from './ops/matmul.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export {
  DEFAULT_SEED,
  defaultGenerator,
  fillBernoulli,
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
export { CpuStorage, type Storage } from './storage.js';
export { cpuData, type NestedArray, Tensor } from './tensor.js';

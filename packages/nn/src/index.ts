/**
 * `torch.nn` for TypeScript: `Module`, the recurrent layers `RNN`, `LSTM`, `GRU` and their cells with
 * PyTorch's options (camelCase) and state-dict keys, `Linear`, `Embedding`, `Dropout`, `Sequential`, packed
 * sequences, losses, optimizers and learning-rate schedulers, and safetensors checkpoints; computing
 * through a backend (the CPU here, WebGPU through `@recurrent/nn/webgpu`). Each class and function that has
 * a PyTorch twin links to its page.
 */
export { cpuBackend } from './backend/cpu.js';
export { type WasmCpuBackend, type WasmCpuBackendOptions, wasmCpuBackend } from './backend/cpu-wasm.js';
export { type CpuBackend, type CpuBackendOptions, createCpuBackend } from './backend/create-cpu.js';
export { defaultBackend, ready } from './backend/default.js';
export {
  layerInputSize,
  rowOf,
  type SeqGeometry,
  seqGeometry,
  stepBatch,
  stepTime,
} from './backend/geometry.js';
export type {
  Backend,
  DropoutSpec,
  ElementDropoutArgs,
  EmbeddingArgs,
  GatherRowsArgs,
  LastDimArgs,
  LinearArgs,
  Nonlinearity,
  RnnArgs,
  RnnBackwardOptions,
  RnnDirectionGrads,
  RnnDirectionWeights,
  RnnGradOutputs,
  RnnGrads,
  RnnResult,
  RnnTrainResult,
} from './backend/types.js';
export { type CellSpec, cellSpec, type RnnMode } from './cell.js';
export { type ClipGradNormOptions, clipGradNorm_, clipGradValue_ } from './clip-grad.js';
export { Dropout, type DropoutOptions } from './dropout.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { GRU, type GRUOptions } from './gru.js';
export { GRUCell, type GRUCellOptions } from './gru-cell.js';
export { Linear, type LinearOptions } from './linear.js';
export {
  type CrossEntropyLossOptions,
  crossEntropyLoss,
  type LossOptions,
  l1Loss,
  mseLoss,
  type NLLLossOptions,
  nllLoss,
  type Reduction,
} from './loss.js';
export { CrossEntropyLoss, L1Loss, MSELoss, NLLLoss } from './loss-modules.js';
export { LSTM, type LSTMOptions, type LSTMState } from './lstm.js';
export { LSTMCell, type LSTMCellOptions } from './lstm-cell.js';
export { type LoadStateDictOptions, type LoadStateDictResult, Module, type StateDict } from './module.js';
export * from './optim/index.js';
export {
  PackedSequence,
  type PackPaddedOptions,
  type PackSequenceOptions,
  type PadPackedOptions,
  type PadSequenceOptions,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
} from './packed-sequence.js';
export { RecurrentBase, type RecurrentOptions } from './recurrent.js';
export { RecurrentCellBase, type RecurrentCellOptions } from './recurrent-cell.js';
export { RNN, type RNNOptions } from './rnn.js';
export { RNNCell, type RNNCellOptions } from './rnn-cell.js';
export {
  type LoadableDtype,
  loadSafetensors,
  MAX_HEADER_BYTES,
  moduleOptions,
  parseModules,
  readSafetensors,
  readSafetensorsHeader,
  type SafetensorsBytes,
  type SafetensorsContents,
  type SafetensorsDtype,
  SafetensorsError,
  type SafetensorsErrorOptions,
  type SafetensorsHeader,
  type SafetensorsModuleEntry,
  type SafetensorsModuleName,
  type SafetensorsModuleOptions,
  type SafetensorsModules,
  type SafetensorsReadOptions,
  type SafetensorsTensorInfo,
  saveSafetensors,
} from './safetensors/index.js';
export { Sequential, type TensorModule } from './sequential.js';
export { RNNStream, type RNNStreamOptions, type StreamableModule, type StreamState } from './stream.js';

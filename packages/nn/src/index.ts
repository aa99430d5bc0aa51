export { cpuBackend } from './backend/cpu.js';
export { type WasmCpuBackendOptions, wasmCpuBackend } from './backend/cpu-wasm.js';
export { type CpuBackend, type CpuBackendOptions, createCpuBackend } from './backend/create-cpu.js';
export type {
  Backend,
  DropoutSpec,
  Nonlinearity,
  RnnArgs,
  RnnDirectionWeights,
  RnnResult,
} from './backend/types.js';
export { type LoadStateDictOptions, type LoadStateDictResult, Module, type StateDict } from './module.js';
export { RNN, type RNNOptions } from './rnn.js';
export { RNNCell, type RNNCellOptions } from './rnn-cell.js';
export {
  type LoadableDtype,
  loadSafetensors,
  MAX_HEADER_BYTES,
  readSafetensorsHeader,
  type SafetensorsBytes,
  type SafetensorsDtype,
  SafetensorsError,
  type SafetensorsErrorOptions,
  type SafetensorsHeader,
  type SafetensorsReadOptions,
  type SafetensorsTensorInfo,
  saveSafetensors,
} from './safetensors/index.js';
export { RNNStream, type RNNStreamOptions } from './stream.js';

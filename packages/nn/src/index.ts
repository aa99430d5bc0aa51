export { cpuBackend } from './backend/cpu.js';
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

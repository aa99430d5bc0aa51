export { gruForward, gruForwardReversed } from './gru-forward.js';
export { lstmForward, lstmForwardReversed } from './lstm-forward.js';
export {
  type GruReferenceConfig,
  gruReference,
  type LstmReferenceConfig,
  lstmReference,
} from './lstm-gru-stack.js';
export { concatDirections, type Nonlinearity, rnnForward, rnnForwardReversed } from './rnn-forward.js';
export { type ReferenceConfig, rnnReference } from './rnn-stack.js';

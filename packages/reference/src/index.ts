/**
 * The hand-written RNN forward pass of the notebook recurrent grew from (`rnnForward`), and `lstmForward` /
 * `gruForward` in the same style, with stacks of layers and directions over PyTorch state dicts: written
 * to be read, not to be fast; `@recurrent/nn` is tested against them.
 */
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

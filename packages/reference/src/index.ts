export { concatDirections, type Nonlinearity, rnnForward, rnnForwardReversed } from './rnn-forward.js';
export { type ReferenceConfig, rnnReference } from './rnn-stack.js';

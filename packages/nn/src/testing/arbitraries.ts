import fc from 'fast-check';
import type { Nonlinearity } from '../backend/types.js';

/** The RNN options a property test draws; sizes up to the given maxima (1 at least). */
export interface RnnOptionsArbitrary {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  nonlinearity: Nonlinearity;
  bias: boolean;
  batchFirst: boolean;
  bidirectional: boolean;
}

/** Random `RNNOptions` (every option but dropout) for property tests. */
export function rnnOptions(max: {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
}): fc.Arbitrary<RnnOptionsArbitrary> {
  return fc.record({
    inputSize: fc.integer({ min: 1, max: max.inputSize }),
    hiddenSize: fc.integer({ min: 1, max: max.hiddenSize }),
    numLayers: fc.integer({ min: 1, max: max.numLayers }),
    nonlinearity: fc.constantFrom<Nonlinearity>('tanh', 'relu'),
    bias: fc.boolean(),
    batchFirst: fc.boolean(),
    bidirectional: fc.boolean(),
  });
}

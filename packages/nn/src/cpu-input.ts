import { describeForError, Tensor } from '@recurrent/tensor';

/** A tensor of any dtype. */
export type AnyTensor = Tensor<'float32' | 'int32'>;

/**
 * Checks that `input` is a tensor (on any device: the module's backend takes CPU tensors and its own),
 * for the modules that are not recurrent (Linear, Embedding, Dropout).
 */
export function checkTensorInput(owner: string, input: unknown): asserts input is AnyTensor {
  if (!(input instanceof Tensor)) {
    throw new TypeError(`${owner}: input must be a Tensor, received ${describeForError(input)}`);
  }
}

import { describeForError, Tensor } from '@recurrent/tensor';

/** A tensor of any dtype. */
export type AnyTensor = Tensor<'float32' | 'int32'>;

/**
 * Checks that `input` is a CPU tensor for a module that computes on the CPU with `@recurrent/tensor` ops
 * (Linear, Embedding, Dropout for now, whatever backend the module was moved to).
 */
export function checkCpuInput(owner: string, input: unknown): asserts input is AnyTensor {
  if (!(input instanceof Tensor)) {
    throw new TypeError(`${owner}: input must be a Tensor, received ${describeForError(input)}`);
  }
  if (input.device !== 'cpu') {
    throw new Error(
      `${owner} runs on the CPU for now; its input is on '${input.device}': ` +
        'read it back with await t.data() and pass a CPU tensor',
    );
  }
}

// The free names the documentation's ```ts blocks use for the reader's own data, declared for
// scripts/check-docs.mjs (a global script every block sees; a block's own declarations shadow these). Names
// that stand for something an earlier block built (`rnn`, `x`, `CharModel`) are not here: such a block says
// so in a hidden `<!-- prelude: … -->` comment before its fence.

/** Float32 values the reader has, e.g. an input of the documented shape. */
declare const data: Float32Array;
/** The bytes of a safetensors file (from `fs.readFile`, `fetch`, a `File`). */
declare const bytes: Uint8Array;
/** A `File` from `<input type="file">`. */
declare const file: File;
/** A PyTorch `state_dict()` as tensors by PyTorch's keys. */
declare const weightsFromPyTorch: Record<string, import('@recurrent/tensor').Tensor>;
/** A PyTorch model's whole `state_dict()` with its dotted keys. */
declare const dict: Record<string, import('@recurrent/tensor').Tensor>;
/** Chunks of a live sequence, e.g. `(L, 1, inputSize)` tensors as they arrive. */
declare const source: AsyncIterable<import('@recurrent/tensor').Tensor>;
/** Shows a result: the reader's UI. */
declare function render(value: unknown): void;

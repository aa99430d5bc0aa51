import { defaultGenerator, type Generator, randn, Tensor } from '@recurrent/tensor';
import { type AnyTensor, checkCpuInput } from './cpu-input.js';
import { Module } from './module.js';
import { checkInteger, checkKnownOptions } from './options.js';

/** Options of `Embedding`: `torch.nn.Embedding`'s arguments in camelCase. */
export interface EmbeddingOptions {
  /** Rows of the table: indices run from 0 to numEmbeddings − 1. */
  numEmbeddings: number;
  /** Features per row: the output's last dimension. */
  embeddingDim: number;
  /**
   * A row initialized to zeros (for padding tokens); negative counts from the end, as in PyTorch
   * (−1 is numEmbeddings − 1). Default none.
   */
  paddingIdx?: number | null;
  /** Generator for the initial weights (default: the one `manualSeed` seeds). */
  generator?: Generator;
}

const OPTIONS = ['numEmbeddings', 'embeddingDim', 'paddingIdx', 'generator'] as const;

/**
 * A lookup table like `torch.nn.Embedding`: int32 indices of any shape `(…)` → rows `(…, embeddingDim)`.
 *
 * Parameter as PyTorch's: `weight` `(numEmbeddings, embeddingDim)` drawn `N(0, 1)` (PyTorch's `normal_`,
 * so `manualSeed(s)` gives PyTorch's table for `torch.manual_seed(s)`), with the `paddingIdx` row zeroed.
 * Computes on the CPU for now: indices and output are CPU tensors.
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row in [0, numEmbeddings) (a negative option is converted, as PyTorch does), or null. */
  readonly paddingIdx: number | null;

  constructor(options: EmbeddingOptions) {
    super();
    checkKnownOptions('Embedding', options, OPTIONS);
    this.numEmbeddings = checkInteger('Embedding', 'numEmbeddings', options.numEmbeddings, 0);
    this.embeddingDim = checkInteger('Embedding', 'embeddingDim', options.embeddingDim, 0);
    const n = this.numEmbeddings;
    const pad = options.paddingIdx ?? null;
    if (pad !== null && (typeof pad !== 'number' || !Number.isInteger(pad) || pad < -n || pad >= n)) {
      throw new RangeError(
        `Embedding: paddingIdx must be an integer in [${-n}, ${n - 1}] (within numEmbeddings ${n}), received ${String(pad)}`,
      );
    }
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + n : pad;
    const weight = randn([n, this.embeddingDim], { generator: options.generator ?? defaultGenerator });
    if (this.paddingIdx !== null) {
      const D = this.embeddingDim;
      weight.dataSync().fill(0, this.paddingIdx * D, (this.paddingIdx + 1) * D);
    }
    this.registerParameter('weight', weight);
  }

  /**
   * @param input int32 indices of any shape `(…)`, each in [0, numEmbeddings); a CPU tensor, e.g.
   *              `tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'int32' })`.
   * @returns `(…, embeddingDim)`, float32 on the CPU.
   */
  forward(input: AnyTensor): Tensor<'float32'> {
    checkCpuInput('Embedding', input);
    if (input.dtype !== 'int32') {
      throw new TypeError(
        `Embedding: indices must be an int32 tensor (like PyTorch's integer indices), received a ${input.dtype} tensor; ` +
          `convert it with t.int() or build it with { dtype: 'int32' }`,
      );
    }
    const ids = input.dataSync() as Int32Array;
    const D = this.embeddingDim;
    const n = this.numEmbeddings;
    const table = this.cpuParameter('weight').dataSync();
    const out = new Float32Array(ids.length * D);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id < 0 || id >= n) {
        throw new RangeError(
          `Embedding: index ${id} at position ${position(i, input.shape)} is out of range for numEmbeddings ${n} ` +
            `(indices must be in [0, ${n - 1}])`,
        );
      }
      out.set(table.subarray(id * D, (id + 1) * D), i * D);
    }
    return Tensor.fromArray(out, [...input.shape, D]);
  }
}

/** The multi-index `[i, j, …]` of flat offset `flat` in a row-major `shape`. */
function position(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] as number;
    idx.unshift(flat % size);
    flat = Math.floor(flat / size);
  }
  return `[${idx.join(', ')}]`;
}

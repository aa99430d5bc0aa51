import { defaultGenerator, type Generator, randn, recordGradFn, type Tensor } from '@recurrent/tensor';
import { embeddingBackward } from './backend/cpu-grad-heads.js';
import { type AnyTensor, checkTensorInput } from './cpu-input.js';
import { Module } from './module.js';
import { checkInteger, checkKnownOptions } from './options.js';
import { recordsGraph, unsupported } from './recurrent-grad.js';

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
 * Computes on its backend (`backend.embedding`, a gather kernel on WebGPU): after `to(gpu)` it takes CPU or
 * GPU int32 indices (an `argmax` of the GPU backend, say) and returns a GPU tensor.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.Embedding.html | torch.nn.Embedding}
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
   * @param input int32 indices of any shape `(…)`, each in [0, numEmbeddings); a CPU tensor (e.g.
   *              `tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'int32' })`) or one of the
   *              module's backend. Out of range: the CPU backends throw a RangeError naming the index and
   *              its position; WebGPU cannot check without a readback and returns NaN for that row.
   * @returns `(…, embeddingDim)`, float32 on the module's backend.
   */
  forward(input: AnyTensor): Tensor<'float32'> {
    checkTensorInput('Embedding', input);
    if (input.dtype !== 'int32') {
      throw new TypeError(
        `Embedding: indices must be an int32 tensor (like PyTorch's integer indices), received a ${input.dtype} tensor; ` +
          `convert it with t.int() or build it with { dtype: 'int32' }`,
      );
    }
    const recording = recordsGraph(this.training, [], () => this.parameters());
    if (recording) this.residentParameters();
    if (!recording) {
      return this.withUploads((on) =>
        this.backend.embedding({
          indices: on(input, 'indices') as Tensor<'int32'>,
          weight: this.parameter('weight'),
          paddingIdx: this.paddingIdx,
        }),
      );
    }
    // the backward reads the indices as the backend got them (an upload is kept for it)
    const backend = this.backend;
    const args = {
      indices: this.onBackend(input, 'indices') as Tensor<'int32'>,
      weight: this.parameter('weight'),
      paddingIdx: this.paddingIdx,
    };
    const out = backend.embedding(args);
    // the backward: gradient rows summed into the rows they picked (none into paddingIdx)
    const weight = this.cpuParameter('weight');
    const indices = input as Tensor;
    return recordGradFn(out, 'EmbeddingBackward0', [weight], [indices, weight], (g) => {
      if (out.device !== 'cpu') {
        if (!backend.embeddingBackward) throw unsupported('Embedding', backend);
        return [backend.embeddingBackward(args, g)];
      }
      if (indices.device !== 'cpu') throw unsupported('Embedding', backend);
      return [embeddingBackward(indices, weight.shape, this.paddingIdx, g)];
    });
  }
}

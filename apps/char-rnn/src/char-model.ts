import {
  Embedding,
  type EmbeddingOptions,
  Linear,
  type LinearOptions,
  LSTM,
  type LSTMOptions,
  type LSTMState,
  Module,
  readSafetensors,
  type SafetensorsBytes,
  type SafetensorsContents,
} from '@recurrent/nn';
import type { Tensor } from '@recurrent/tensor';

/** The options of the three submodules, as `export_model` records them in the checkpoint's metadata. */
export interface CharModelOptions {
  embed: EmbeddingOptions;
  rnn: LSTMOptions;
  head: LinearOptions;
}

/**
 * Embedding → LSTM (batch first) → Linear: train.py's `CharModel`, written the same way. Its state dict
 * has PyTorch's keys (`embed.weight`, `rnn.weight_ih_l0`, …, `head.bias`), so the exported
 * `model.state_dict()` loads as is.
 */
export class CharModel extends Module {
  readonly embed: Embedding;
  readonly rnn: LSTM;
  readonly head: Linear;

  constructor(options: CharModelOptions) {
    super();
    this.embed = this.registerModule('embed', new Embedding(options.embed));
    this.rnn = this.registerModule('rnn', new LSTM(options.rnn));
    this.head = this.registerModule('head', new Linear(options.head));
  }

  /**
   * @param ids int32 `(N, L)` character indices, on the CPU or on the model's backend.
   * @param state `[h, c]`, each `(numLayers, N, hiddenSize)`; zeros if omitted.
   * @returns `[logits, state]`: logits `(N, L, vocab)` and the LSTM's `[hN, cN]`, on the model's backend.
   *   Like PyTorch's `logits, state = model(ids, state)`.
   */
  forward(ids: Tensor<'int32'>, state?: LSTMState | null): [logits: Tensor<'float32'>, state: LSTMState] {
    const x = this.embed.forward(ids);
    const [out, next] = this.rnn.forward(x, state);
    // a no-op on the CPU; frees the GPU buffers on WebGPU, unless a recorded backward still reads them
    if (!x.requiresGrad) x.dispose();
    const logits = this.head.forward(out);
    if (!out.requiresGrad) out.dispose();
    return [logits, next];
  }
}

/** A checkpoint train.py wrote: the model, its weights loaded, and its vocabulary (characters by index). */
export interface CharCheckpoint {
  model: CharModel;
  vocab: string[];
}

/**
 * Builds the model a checkpoint describes (its `modules` metadata) and loads its weights, in eval mode:
 * `const { model, vocab } = loadCharModel(await (await fetch(url)).arrayBuffer())`. In Node, pass
 * `await readSafetensorsFile(path)` from `@recurrent/nn/node`, or the file's bytes.
 *
 * @throws SafetensorsError for a file that is not such a checkpoint (no `embed` Embedding, `rnn` LSTM or
 *   `head` Linear recorded); TypeError when its `vocab` metadata is missing or not the embedding's size.
 */
export function loadCharModel(source: SafetensorsBytes | SafetensorsContents): CharCheckpoint {
  const { stateDict, metadata, options } = isContents(source) ? source : readSafetensors(source);
  const model = new CharModel({
    embed: options('embed', 'Embedding'),
    rnn: options('rnn', 'LSTM'),
    head: options('head', 'Linear'),
  });
  model.loadStateDict(stateDict);
  const vocab = parseVocab(metadata.vocab, model.embed.numEmbeddings);
  return { model: model.eval(), vocab };
}

function isContents(source: SafetensorsBytes | SafetensorsContents): source is SafetensorsContents {
  return 'stateDict' in source && 'options' in source;
}

function parseVocab(text: string | undefined, size: number): string[] {
  let vocab: unknown;
  try {
    vocab = text === undefined ? undefined : JSON.parse(text);
  } catch {
    vocab = undefined;
  }
  if (!Array.isArray(vocab) || vocab.length !== size || !vocab.every((c) => typeof c === 'string')) {
    throw new TypeError(
      `loadCharModel: the checkpoint's metadata "vocab" must be a JSON array of ${size} strings (the characters ` +
        'by index, as train.py writes it)',
    );
  }
  return vocab;
}

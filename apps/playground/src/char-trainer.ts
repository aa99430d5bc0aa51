// Trains apps/char-rnn's character model from scratch, as its train.py does in PyTorch (Adam, cross
// entropy, clip_grad_norm_ on random windows of the text), one step per call. DOM-free: the worker drives it.
import { CharModel, type CharModelOptions, encode } from '@recurrent/char-rnn';
import {
  Adam,
  type Backend,
  clipGradNorm_,
  crossEntropyLoss,
  type LSTMState,
  saveSafetensors,
} from '@recurrent/nn';
import { Generator, manualSeed, multinomial, noGrad, reshape, type Tensor, tensor } from '@recurrent/tensor';
import type { TrainConfig } from './train-protocol.js';

/** The text's characters, sorted by code point: train.py's `sorted(set(text))`. */
export function vocabularyOf(text: string): string[] {
  return [...new Set(text)].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
}

const ids = (values: ArrayLike<number>, shape: number[]): Tensor<'int32'> =>
  tensor(Int32Array.from(values), shape, { dtype: 'int32' });

/** Options of {@link sampleText}. */
export interface SampleOptions {
  /** At least one character, each in the vocabulary. */
  prompt: string;
  /** Characters to draw after the prompt. */
  length: number;
  /** Divides the logits before the softmax: below 1 sharper, above 1 flatter. */
  temperature: number;
  /** Seeds the draws' generator. */
  seed: number;
}

/**
 * `length` characters after the prompt, each drawn from softmax(logits / temperature) with a generator
 * seeded with `seed`: the same draws at every call, so two samples differ only by the model. Any
 * backend; the logits are read back each step. In PyTorch, per step:
 * `token = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator)`.
 */
export async function sampleText(
  model: CharModel,
  vocab: readonly string[],
  { prompt, length, temperature, seed }: SampleOptions,
): Promise<string> {
  const generator = new Generator(seed);
  // each forward under noGrad (a sync call: the grad mode must not span an await)
  const forward = (input: number[], state: LSTMState | null): [Tensor<'float32'>, LSTMState] =>
    noGrad(() => model.forward(ids(input, [1, input.length]), state));
  const promptIds = encode(vocab, prompt);
  let token = promptIds.pop() as number;
  let state: LSTMState | null = null;
  if (promptIds.length > 0) {
    const [logits, next] = forward(promptIds, null);
    logits.dispose();
    state = next;
  }
  let text = '';
  for (let i = 0; i < length; i++) {
    const [logits, next] = forward([token], state);
    for (const t of state ?? []) t.dispose();
    state = next;
    const z = await logits.data();
    logits.dispose();
    let max = Number.NEGATIVE_INFINITY;
    for (const v of z) max = Math.max(max, v);
    const weights = Float32Array.from(z, (v) => Math.exp((v - max) / temperature));
    token = multinomial(tensor(weights, [vocab.length]), 1, { generator }).item();
    text += vocab[token];
  }
  for (const t of state ?? []) t.dispose();
  return text;
}

export class CharTrainer {
  readonly model: CharModel;
  /** The submodules' options, recorded in the checkpoint's metadata. */
  readonly options: CharModelOptions;
  readonly vocab: string[];
  /** Steps taken so far. */
  step = 0;
  private readonly data: Int32Array;
  private readonly optimizer: Adam;
  /** Draws the windows' starts: seeded, so a run is reproducible. */
  private readonly windows: Generator;

  /**
   * Builds the model under `manualSeed(config.seed)` (PyTorch's default initialisation) on `backend`.
   * @throws RangeError when the text is not longer than one window (`seqLen + 1` characters).
   */
  constructor(
    readonly config: TrainConfig,
    text: string,
    backend: Backend,
  ) {
    if (text.length <= config.seqLen + 1) {
      throw new RangeError(`the text (${text.length} characters) must be longer than seqLen + 1`);
    }
    this.vocab = vocabularyOf(text);
    this.data = Int32Array.from(encode(this.vocab, text));
    const { embeddingDim, hiddenSize, numLayers } = config;
    manualSeed(config.seed);
    const size = this.vocab.length;
    // every option spelled out, as export_model records them (PyTorch's defaults but batch_first)
    this.options = {
      embed: { numEmbeddings: size, embeddingDim },
      rnn: {
        inputSize: embeddingDim,
        hiddenSize,
        numLayers,
        bias: true,
        batchFirst: true,
        dropout: 0,
        bidirectional: false,
        projSize: 0,
      },
      head: { inFeatures: hiddenSize, outFeatures: size, bias: true },
    };
    this.model = new CharModel(this.options).to(backend);
    this.model.train();
    this.optimizer = new Adam(this.model.parameters(), { lr: config.lr });
    this.windows = new Generator(config.seed);
  }

  /** The number of trainable values. */
  get parameterCount(): number {
    let n = 0;
    for (const p of this.model.parameters()) n += p.numel();
    return n;
  }

  /**
   * One Adam step on `batchSize` random windows; resolves to the batch's mean cross entropy (nats per
   * character). Async only for the loss's readback, which a GPU backend needs.
   */
  async trainStep(): Promise<number> {
    const { batchSize: n, seqLen: l } = this.config;
    const x = new Int32Array(n * l);
    const y = new Int32Array(n * l);
    for (let b = 0; b < n; b++) {
      const start = this.windows.random() % (this.data.length - l - 1);
      x.set(this.data.subarray(start, start + l), b * l);
      y.set(this.data.subarray(start + 1, start + l + 1), b * l);
    }
    // CharModel.forward's steps, so that the embedding and LSTM outputs (which the backward reads) are
    // released on the GPU right after the step rather than by the collector
    const { embed, rnn, head } = this.model;
    const e = embed.forward(ids(x, [n, l]));
    const [out, [h, c]] = rnn.forward(e);
    const logits = head.forward(out);
    // PyTorch's loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
    const loss = crossEntropyLoss(reshape(logits, [n * l, this.vocab.length]), ids(y, [n * l]));
    this.optimizer.zeroGrad();
    loss.backward();
    const norm = clipGradNorm_(this.model.parameters(), this.config.clip);
    this.optimizer.step();
    for (const t of [e, out, logits, h, c, norm]) t.dispose();
    this.step++;
    // the only readback of the step (the live curve needs every loss); on WebGPU it waits for the step's
    // GPU work to finish, so steps never queue up ahead of what the page has seen
    const value = (await loss.data())[0] as number;
    loss.dispose();
    return value;
  }

  /**
   * {@link sampleText} from the model as it is now, with the config's prompt, length, temperature and seed:
   * in eval mode (the parameters stay where they are, on the GPU too), then back to training mode.
   */
  async sample(): Promise<string> {
    const { prompt, sampleLength, temperature, seed } = this.config;
    this.model.eval();
    try {
      return await sampleText(this.model, this.vocab, { prompt, length: sampleLength, temperature, seed });
    } finally {
      this.model.train();
    }
  }

  /**
   * The whole `model.stateDict()` as safetensors, with the metadata apps/char-rnn's checkpoint has (what
   * `export_model` in packages/nn/scripts/export_safetensors.py writes, plus train.py's `vocab`), so
   * `loadCharModel` and the "generate" panel load it, and PyTorch's `load_state_dict` takes its tensors.
   * On WebGPU each tensor is read back into a CPU copy: the model stays on the GPU and goes on training
   * (`model.toAsync(cpuBackend)` would move it off).
   */
  async checkpoint(): Promise<Uint8Array> {
    const { embed, rnn, head } = this.options;
    const modules = {
      embed: { module: 'Embedding', options: embed },
      rnn: { module: 'LSTM', options: rnn },
      head: { module: 'Linear', options: head },
    };
    const dict: Record<string, Tensor> = {};
    for (const [key, t] of Object.entries(this.model.stateDict()))
      dict[key] = t.device === 'cpu' ? t : tensor(Float32Array.from(await t.data()), [...t.shape]);
    return saveSafetensors(dict, {
      format: 'pt',
      modules: JSON.stringify(modules),
      // json.dumps(vocab, ensure_ascii=False), as train.py writes it
      vocab: `[${this.vocab.map((c) => JSON.stringify(c)).join(', ')}]`,
    });
  }
}

import type { LSTMState } from '@recurrent/nn';
import { type Tensor, tensor } from '@recurrent/tensor';
import type { CharModel } from './char-model.js';

/** Options of {@link generate}. */
export interface GenerateOptions {
  /**
   * Also read back the logits `(vocab)` of the first `logitSteps` steps (on WebGPU, one more readback
   * each). Default 0: a step reads back only the chosen character's index.
   */
  logitSteps?: number;
  /** Called after each step with the character chosen and the step's index (to stream the text). */
  onStep?: (char: string, step: number) => void;
}

/** What {@link generate} gives: the generated characters (without the prompt) and what was asked for. */
export interface Generation {
  text: string;
  /** The characters' indices in the vocabulary. */
  tokens: number[];
  /** The first `logitSteps` steps' logits, each `(vocab)`. */
  logits: Float32Array[];
}

/**
 * The vocabulary indices of `text`'s characters.
 * @throws RangeError naming the first character that is not in the vocabulary and its position.
 */
export function encode(vocab: readonly string[], text: string): number[] {
  const index = new Map(vocab.map((c, i) => [c, i]));
  return Array.from(text, (c, at) => {
    const id = index.get(c);
    if (id === undefined) {
      throw new RangeError(
        `the character ${JSON.stringify(c)} at ${at} is not in the model's vocabulary (${vocab.length} characters)`,
      );
    }
    return id;
  });
}

const ids = (values: number[]): Tensor<'int32'> =>
  tensor(Int32Array.from(values), [1, values.length], { dtype: 'int32' });

/**
 * Greedy generation on the model's backend (`model.to(backend)` first): the prompt but its last character
 * runs as one sequence for the state, then each step feeds one character with the state carried and picks
 * the largest logit. PyTorch's equivalent (train.py's `generate`):
 *
 * ```py
 * _, state = model(prompt_ids[:, :-1])
 * for _ in range(steps):
 *     logits, state = model(token, state)   # token: (1, 1)
 *     token = logits.argmax(-1)
 * ```
 *
 * The argmax runs on the backend and its int32 result is the next step's input as it is, so on WebGPU a
 * step reads back only that one index (plus the logits for the first `logitSteps` steps).
 *
 * @param prompt at least one character, each in `vocab`.
 * @throws RangeError for an empty prompt, a character outside the vocabulary, or a bad `steps`.
 */
export async function generate(
  model: CharModel,
  vocab: readonly string[],
  prompt: string,
  steps: number,
  options: GenerateOptions = {},
): Promise<Generation> {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`generate: steps must be a non-negative integer, received ${steps}`);
  }
  const promptIds = encode(vocab, prompt);
  const last = promptIds.pop();
  if (last === undefined) throw new RangeError('generate: the prompt must have at least one character');
  const logitSteps = options.logitSteps ?? 0;
  const backend = model.backend;
  const result: Generation = { text: '', tokens: [], logits: [] };
  let state: LSTMState | null = null;
  let token: Tensor<'int32'> = ids([last]);
  try {
    if (promptIds.length > 0) {
      const x = model.embed.forward(ids(promptIds));
      const [out, next] = model.rnn.forward(x, null);
      for (const t of [x, out]) t.dispose();
      state = next;
    }
    for (let step = 0; step < steps; step++) {
      const [logits, next] = model.forward(token, state);
      for (const t of state ?? []) t.dispose();
      state = next;
      const chosen = backend.argmax({ input: logits, dim: -1 }); // (1, 1) int32, on the backend
      if (step < logitSteps) result.logits.push(Float32Array.from(await logits.data()));
      logits.dispose();
      token.dispose();
      token = chosen;
      const id = (await chosen.data())[0] as number;
      const char = vocab[id] ?? '';
      result.tokens.push(id);
      result.text += char;
      options.onStep?.(char, step);
    }
  } finally {
    for (const t of [token, ...(state ?? [])]) t.dispose();
  }
  return result;
}

// The model and training step of fixtures/trajectory.json (scripts/fixtures/trajectory_cases.py), shared by
// trajectory.test.ts and roundtrip.test.ts. scripts/train_roundtrip.mjs writes the same loop against the
// built packages; roundtrip.test.ts checks that it gives the same bytes.
import { noGrad, reshape, type Tensor, tensor } from '@recurrent/tensor';
import type { TrajectoryCase } from '../../../../fixtures/load.js';
import { decodeStateDict, trajectoryFixture } from '../../../../fixtures/load.js';
import type { Backend } from '../backend/types.js';
import { clipGradNorm_ } from '../clip-grad.js';
import { Embedding } from '../embedding.js';
import { GRU } from '../gru.js';
import { Linear } from '../linear.js';
import { crossEntropyLoss } from '../loss.js';
import { LSTM } from '../lstm.js';
import { Module } from '../module.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { SGD } from '../optim/sgd.js';

/** Any of the optimizers the cases use. */
export type TrainingOptimizer = Optimizer<{ lr: number }>;

/** trajectory_cases.py's `TrajectoryModel`, written the same way (keys `embed.weight`, `rnn.*`, `head.*`). */
export class TrajectoryModel extends Module {
  readonly embed: Embedding;
  readonly rnn: LSTM | GRU;
  readonly head: Linear;
  /** The recurrent layer's output `(N, L, projSize || hiddenSize)` for embedded input `(N, L, embeddingDim)`. */
  readonly recur: (x: Tensor) => Tensor<'float32'>;

  constructor({ module, config }: Pick<TrajectoryCase, 'module' | 'config'>) {
    super();
    const { vocab, embeddingDim, hiddenSize, numLayers, projSize } = config;
    this.embed = this.registerModule('embed', new Embedding({ numEmbeddings: vocab, embeddingDim }));
    const rnn = { inputSize: embeddingDim, hiddenSize, numLayers, batchFirst: true };
    if (module === 'LSTM') {
      const lstm = this.registerModule('rnn', new LSTM({ ...rnn, projSize }));
      this.rnn = lstm;
      this.recur = (x) => lstm.forward(x)[0];
    } else {
      const gru = this.registerModule('rnn', new GRU(rnn));
      this.rnn = gru;
      this.recur = (x) => gru.forward(x)[0];
    }
    this.head = this.registerModule(
      'head',
      new Linear({ inFeatures: projSize || hiddenSize, outFeatures: vocab }),
    );
  }

  /** ids int32 `(N, L)` → logits `(N, L, vocab)`. */
  forward(ids: Tensor<'int32'>): Tensor<'float32'> {
    return this.head.forward(this.recur(this.embed.forward(ids)));
  }
}

/** Step k's inputs `tokens[:, :-1]` and flattened targets `tokens[:, 1:]` (batch k mod the batch count). */
export function trajectoryBatch(k: number): { ids: Tensor<'int32'>; targets: Tensor<'int32'> } {
  const { batches } = trajectoryFixture;
  const b = batches[k % batches.length] as (typeof batches)[number];
  const [n, t] = b.shape as [number, number];
  const ids = new Int32Array(n * (t - 1));
  const targets = new Int32Array(n * (t - 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < t - 1; j++) {
      ids[i * (t - 1) + j] = b.data[i * t + j] as number;
      targets[i * (t - 1) + j] = b.data[i * t + j + 1] as number;
    }
  }
  return {
    ids: tensor(ids, [n, t - 1], { dtype: 'int32' }),
    targets: tensor(targets, [n * (t - 1)], { dtype: 'int32' }),
  };
}

/** The case's model with its initial state dict loaded, on `backend`, in training mode, and its optimizer. */
export function buildTrajectory(
  c: TrajectoryCase,
  backend: Backend,
): { model: TrajectoryModel; opt: TrainingOptimizer } {
  const model = new TrajectoryModel(c);
  model.loadStateDict(decodeStateDict(c.init));
  model.to(backend).train();
  // the optimizer takes the loaded parameters (loadStateDict replaces the tensors)
  const params = model.parameters();
  const opt =
    c.optimizer === 'SGD'
      ? new SGD(params, c.options as never)
      : c.optimizer === 'Adam'
        ? new Adam(params, c.options as never)
        : new AdamW(params, c.options as never);
  return { model, opt: opt as unknown as TrainingOptimizer };
}

/**
 * Step k (from 0) as PyTorch's: zero_grad; forward; cross-entropy; backward; [clip_grad_norm_]; step. The
 * loss and the total norm are read after the step (`await t.data()`: on a device nothing is read before).
 */
export async function trajectoryStep(
  c: TrajectoryCase,
  k: number,
  model: TrajectoryModel,
  opt: TrainingOptimizer,
): Promise<{ loss: number; totalNorm: number | null }> {
  const { ids, targets } = trajectoryBatch(k);
  opt.zeroGrad();
  const logits = model.forward(ids);
  const loss = crossEntropyLoss(reshape(logits, [-1, c.config.vocab]), targets);
  loss.backward();
  const total = c.clip === null ? null : clipGradNorm_(model.parameters(), c.clip);
  opt.step();
  const read = async (t: Tensor) => (await t.data())[0] as number;
  return { loss: await read(loss), totalNorm: total === null ? null : await read(total) };
}

/**
 * The loss on the first batch in eval mode under noGrad (a training loop's evaluation), the logits read
 * back to the CPU for the loss; leaves the model in eval mode.
 */
export async function trajectoryEvalLoss(c: TrajectoryCase, model: TrajectoryModel): Promise<number> {
  model.eval();
  const { ids, targets } = trajectoryBatch(0);
  const logits = noGrad(() => model.forward(ids));
  const cpu = tensor(await logits.data(), [logits.numel() / c.config.vocab, c.config.vocab]);
  return crossEntropyLoss(cpu, targets).item();
}

import { type BenchConfig, GATES, TRAIN_LR } from '../configs.js';
import type { Problem } from '../problem.js';
import { lossThenOutput, type Runner, type RunnerFactory, timeCalls } from '../runner.js';

type Tf = typeof import('@tensorflow/tfjs');
type LayersModel = import('@tensorflow/tfjs').Sequential;
type TfTensor = import('@tensorflow/tfjs').Tensor;
type TfScalar = import('@tensorflow/tfjs').Scalar;
type TfOptimizer = import('@tensorflow/tfjs').Optimizer;
type TfVariable = import('@tensorflow/tfjs').Variable;

/** Transposes a row-major (rows, cols) matrix: PyTorch's (H, I) weight to Keras' (I, H) kernel. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c] as number;
  return out;
}

/** Sums the input and hidden biases: Keras cells have one bias (reset-after GRUs aside). */
function sumBiases(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, j) => v + (b[j] as number));
}

/**
 * `tf.layers.simpleRNN` or `lstm` stacks (each wrapped in `bidirectional`, merge 'concat', when D = 2) built
 * from the problem's weights. Keras' LSTM kernel (I, 4H) holds the gates i, f, c, o: PyTorch's i, f, g, o.
 */
function buildModel(tf: Tf, problem: Problem): LayersModel {
  const { config, layers } = problem;
  const H = config.hiddenSize;
  const G = GATES[config.cell];
  const D = config.bidirectional ? 2 : 1;
  const model = tf.sequential();
  // zeros: the weights are set below, and the default orthogonal init is slow for large H
  const options = {
    units: H,
    activation: 'tanh',
    returnSequences: true,
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
  } as const;
  // Keras' LSTM defaults to the hard sigmoid; PyTorch's is the logistic one.
  const cell = (shape: { inputShape?: number[] }): ReturnType<Tf['layers']['simpleRNN']> =>
    config.cell === 'LSTM'
      ? tf.layers.lstm({ ...options, ...shape, recurrentActivation: 'sigmoid', unitForgetBias: false })
      : tf.layers.simpleRNN({ ...options, ...shape });
  layers.forEach((_, k) => {
    const shape = k === 0 ? { inputShape: [config.steps, config.inputSize] } : {};
    model.add(
      D === 2 ? tf.layers.bidirectional({ layer: cell({}), mergeMode: 'concat', ...shape }) : cell(shape),
    );
  });
  const weights = layers.flatMap((dirs, k) => {
    const inputSize = k === 0 ? config.inputSize : D * H;
    return dirs.flatMap((w) => [
      tf.tensor2d(transpose(w.wIh, G * H, inputSize), [inputSize, G * H]),
      tf.tensor2d(transpose(w.wHh, G * H, H), [H, G * H]),
      tf.tensor1d(sumBiases(w.bIh, w.bHh)),
    ]);
  });
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/**
 * tfjs 4.22's GRUCell throws on `resetAfter: true`, and its reset-before GRU computes tanh(x·W_h + (r ⊙ h)·U_h),
 * not PyTorch's tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)): no weights make the two agree.
 */
const NO_PYTORCH_GRU =
  'tfjs has no PyTorch-style GRU (its GRUCell rejects resetAfter: true; reset-before differs)';

/**
 * tfjs has no packed sequences; its nearest thing, a `masking` layer, keys the mask on the input's values
 * (every feature equal to `maskValue`), not on lengths, and still steps every sequence through all T steps.
 */
const NO_PACKED = 'tfjs has no packed sequences (its Masking layer still runs all T steps of every sequence)';

/** tfjs carries a state from one call to the next only in a `stateful` layer, which this bench does not build. */
const NO_STREAM =
  'streamed steps: not run (tfjs keeps state between predict() calls only in a stateful layer, not built here)';

/** tfjs `tf.layers.simpleRNN` / `lstm` on the `backend` backend (`'wasm'`: XNNPACK SIMD; `'cpu'`: plain JS). */
export function tfjs(backend: 'wasm' | 'cpu'): RunnerFactory {
  return async () => {
    const log = console.log;
    console.log = () => {}; // tfjs prints a banner about tfjs-node on import
    const tf = await import('@tensorflow/tfjs').finally(() => {
      console.log = log;
    });
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    let model: LayersModel | null = null;
    let input: TfTensor | null = null;
    let training: { target: TfTensor; opt: TfOptimizer } | null = null;
    const forward = (): Float32Array => {
      if (!model || !input) throw new Error('tfjs: not set up');
      if (tf.getBackend() !== backend) tf.setBackend(backend);
      const [m, x] = [model, input];
      return tf.tidy(() => (m.predict(x) as TfTensor).dataSync() as Float32Array);
    };
    /**
     * One training step, what `optimizer.minimize` does (`variableGrads`, then `applyGradients`), with the bias
     * gradients doubled: PyTorch's b_ih and b_hh each get the gradient g and move by lr·g, so the one Keras bias
     * standing for their sum must move by 2·lr·g for the updated models to agree. Returns the loss.
     */
    const trainStep = (): TfScalar => {
      if (!model || !input || !training) throw new Error('tfjs: not set up for training');
      if (tf.getBackend() !== backend) tf.setBackend(backend);
      const [m, x, { target, opt }] = [model, input, training];
      // the model's own variables: the other tfjs runner's model is alive too
      const variables = m.trainableWeights.map((w) => w.read() as TfVariable);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.meanSquaredError(target, m.apply(x, { training: true }) as TfTensor) as TfScalar,
        variables,
      );
      const scaled = tf.tidy(() => {
        const out: Record<string, TfTensor> = {};
        for (const [k, g] of Object.entries(grads)) out[k] = g.rank === 1 ? tf.mul(g, 2) : g.clone();
        return out;
      });
      opt.applyGradients(scaled);
      tf.dispose([grads, scaled]);
      return value;
    };
    const runner: Runner = {
      name: `tfjs ${backend}`,
      ours: false,
      unsupported: (config: BenchConfig) =>
        config.stream
          ? NO_STREAM
          : config.cell === 'GRU'
            ? NO_PYTORCH_GRU
            : config.lengths
              ? NO_PACKED
              : backend === 'wasm' && config.train && config.cell === 'LSTM' && config.steps >= 4096
                ? 'tfjs-wasm aborts with "memory access out of bounds" on a 4096-step LSTM training step (seen 2026-12-02)'
                : undefined,
      async setup(problem: Problem) {
        await tf.setBackend(backend);
        await tf.ready();
        model = buildModel(tf, problem);
        const { batch, steps, inputSize } = problem.config;
        input = tf.tensor3d(problem.input.dataSync(), [batch, steps, inputSize]);
        training = null;
        if (problem.target) {
          const target = tf.tensor(problem.target.dataSync(), [...problem.target.shape]);
          training = { target, opt: tf.train.sgd(TRAIN_LR) };
          const value = trainStep();
          const loss = value.dataSync()[0] as number;
          value.dispose();
          return lossThenOutput(loss, forward());
        }
        return forward().slice();
      },
      time: (n, batch) => timeCalls(n, batch, training ? () => trainStep().dispose() : forward),
      async teardown() {
        model?.dispose();
        input?.dispose();
        training?.target.dispose();
        training?.opt.dispose();
        model = null;
        input = null;
        training = null;
      },
    };
    return runner;
  };
}

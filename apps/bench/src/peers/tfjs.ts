import type { Problem } from '../problem.js';
import { type Runner, type RunnerFactory, timeCalls } from '../runner.js';

type Tf = typeof import('@tensorflow/tfjs');
type LayersModel = import('@tensorflow/tfjs').Sequential;
type TfTensor = import('@tensorflow/tfjs').Tensor;

/** Transposes a row-major (rows, cols) matrix: PyTorch's (H, I) weight to Keras' (I, H) kernel. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c] as number;
  return out;
}

/** `tf.layers.simpleRNN` stacks (wrapped in `bidirectional` when D = 2) built from the problem's weights. */
function buildModel(tf: Tf, problem: Problem): LayersModel {
  const { config, layers } = problem;
  const H = config.hiddenSize;
  const D = config.bidirectional ? 2 : 1;
  const model = tf.sequential();
  layers.forEach((_, k) => {
    const inputShape = k === 0 ? [config.steps, config.inputSize] : undefined;
    // zeros: the weights are set below, and the default orthogonal init is slow for large H
    const options = { units: H, activation: 'tanh', returnSequences: true } as const;
    const init = { kernelInitializer: 'zeros', recurrentInitializer: 'zeros' } as const;
    const shape = inputShape ? { inputShape } : {};
    model.add(
      D === 2
        ? tf.layers.bidirectional({
            layer: tf.layers.simpleRNN({ ...options, ...init }),
            mergeMode: 'concat',
            ...shape,
          })
        : tf.layers.simpleRNN({ ...options, ...init, ...shape }),
    );
  });
  const weights = layers.flatMap((dirs, k) => {
    const inputSize = k === 0 ? config.inputSize : D * H;
    return dirs.flatMap((w) => {
      const bias = new Float32Array(H);
      for (let j = 0; j < H; j++) bias[j] = (w.bIh[j] as number) + (w.bHh[j] as number);
      return [
        tf.tensor2d(transpose(w.wIh, H, inputSize), [inputSize, H]),
        tf.tensor2d(transpose(w.wHh, H, H), [H, H]),
        tf.tensor1d(bias),
      ];
    });
  });
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** tfjs `tf.layers.simpleRNN` on the `backend` backend (`'wasm'`: XNNPACK SIMD; `'cpu'`: plain JS). */
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
    const forward = (): Float32Array => {
      if (!model || !input) throw new Error('tfjs: not set up');
      if (tf.getBackend() !== backend) tf.setBackend(backend);
      const [m, x] = [model, input];
      return tf.tidy(() => (m.predict(x) as TfTensor).dataSync() as Float32Array);
    };
    const runner: Runner = {
      name: `tfjs ${backend}`,
      ours: false,
      async setup(problem: Problem) {
        await tf.setBackend(backend);
        await tf.ready();
        model = buildModel(tf, problem);
        const { batch, steps, inputSize } = problem.config;
        input = tf.tensor3d(problem.input.dataSync(), [batch, steps, inputSize]);
        return forward().slice();
      },
      time: (n, batch) => timeCalls(n, batch, forward),
      async teardown() {
        model?.dispose();
        input?.dispose();
        model = null;
        input = null;
      },
    };
    return runner;
  };
}

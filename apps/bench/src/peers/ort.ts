import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { BenchConfig } from '../configs.js';
import { onnxModel, stateNames } from '../onnx.js';
import { type Problem, stepsOutput } from '../problem.js';
import { type Runner, type RunnerFactory, timeCalls } from '../runner.js';

/** The subset of onnxruntime-common's API both ONNX Runtime packages share. */
interface OrtTensor {
  readonly data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  Tensor: {
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
    new (type: 'int32', data: Int32Array, dims: readonly number[]): OrtTensor;
  };
  InferenceSession: { create(model: Uint8Array, options?: object): Promise<OrtSession> };
  env: { wasm: { numThreads?: number; simd?: boolean; wasmPaths?: string } };
}

const require = createRequire(import.meta.url);

/**
 * ORT's intra-op threads spin after each run by default; in one process that interleaves runners on a
 * two-core machine, the spinning would steal the core the next runner (ours, PyTorch) computes on.
 */
const noSpinning = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };

/** onnxruntime-web and onnxruntime-node are inference builds: training is ORT's separate on-device training API. */
const NO_TRAINING = 'ONNX Runtime (web, node) runs inference only: no backward, no optimizer';

function ortRunner(name: string, ort: Ort, sessionOptions: object): Runner {
  let session: OrtSession | null = null;
  let feeds: Record<string, OrtTensor> = {};
  /** A streamed config: each step's X, and the zero states the first step starts from. */
  let stream: { config: BenchConfig; xs: OrtTensor[]; zeros: Record<string, OrtTensor> } | null = null;
  const forward = async (): Promise<Float32Array> => {
    if (!session) throw new Error(`${name}: not set up`);
    if (stream) return streamForward(session, stream);
    const { Y } = await session.run(feeds);
    return Y?.data as Float32Array;
  };
  /** One run per step, each step's outputs `HN_k` (`CN_k`) fed back as the next one's `H0_k` (`C0_k`). */
  const streamForward = async (s: OrtSession, st: NonNullable<typeof stream>): Promise<Float32Array> => {
    const { out, put } = stepsOutput(st.config, st.config.hiddenSize);
    const names = Array.from({ length: st.config.numLayers }, (_, k) => stateNames(st.config.cell, k));
    let state = st.zeros;
    for (const [t, X] of st.xs.entries()) {
      const r = await s.run({ X, ...state });
      put(t, r.Y?.data as Float32Array);
      const next: Record<string, OrtTensor> = {};
      for (const { inputs, outputs } of names)
        inputs.forEach((input, i) => {
          next[input] = r[outputs[i] as string] as OrtTensor;
        });
      state = next;
    }
    return out;
  };
  return {
    name,
    ours: false,
    unsupported: (config: BenchConfig) => (config.train ? NO_TRAINING : undefined),
    async setup(problem: Problem) {
      session = await ort.InferenceSession.create(onnxModel(problem), sessionOptions);
      const { batch, steps, inputSize, hiddenSize, numLayers, cell, lengths } = problem.config;
      feeds = { X: new ort.Tensor('float32', problem.input.dataSync(), [batch, steps, inputSize]) };
      stream = null;
      if (problem.config.stream) {
        // step t's (B, 1, I) rows of the batch-first input
        const x = problem.input.dataSync();
        const xs = Array.from({ length: steps }, (_, t) => {
          const step = new Float32Array(batch * inputSize);
          for (let b = 0; b < batch; b++)
            step.set(x.subarray((b * steps + t) * inputSize, (b * steps + t + 1) * inputSize), b * inputSize);
          return new ort.Tensor('float32', step, [batch, 1, inputSize]);
        });
        const zeros: Record<string, OrtTensor> = {};
        for (let k = 0; k < numLayers; k++)
          for (const input of stateNames(cell, k).inputs)
            zeros[input] = new ort.Tensor('float32', new Float32Array(batch * hiddenSize), [
              1,
              batch,
              hiddenSize,
            ]);
        stream = { config: problem.config, xs, zeros };
      }
      // packed configs: the `sequence_lens` of every node (Y is zero past each length; compared as it is)
      if (lengths) feeds.L = new ort.Tensor('int32', Int32Array.from(lengths), [batch]);
      return forward();
    },
    time: (n, batch) => timeCalls(n, batch, forward),
    async teardown() {
      await session?.release();
      session = null;
      stream = null;
    },
  };
}

/** ONNX Runtime Web's WebAssembly backend (SIMD, `threads` threads), loaded in Node from the package. */
export function ortWeb(threads: number): RunnerFactory {
  return async () => {
    const ort = (await import('onnxruntime-web')) as unknown as Ort;
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = `${dirname(require.resolve('onnxruntime-web'))}/`;
    const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', extra: noSpinning };
    return ortRunner(`ONNX Runtime Web (wasm, ${threads} thr)`, ort, options);
  };
}

/** ONNX Runtime Node's native CPU execution provider with `threads` intra-op threads. */
export function ortNode(threads: number): RunnerFactory {
  return async () => {
    const ort = (await import('onnxruntime-node')) as unknown as Ort;
    const options = {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      extra: noSpinning,
    };
    return ortRunner(`ONNX Runtime Node (native, ${threads} thr)`, ort, options);
  };
}

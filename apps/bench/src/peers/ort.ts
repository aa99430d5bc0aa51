import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { narrow } from '@recurrent/tensor';
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
  /**
   * A streamed config: each step's X, the zero states the first step starts from, and which output feeds
   * which input (`HN_k` → `H0_k`, `CN_k` → `C0_k`).
   */
  let stream: {
    config: BenchConfig;
    xs: OrtTensor[];
    zeros: Record<string, OrtTensor>;
    links: [input: string, output: string][];
  } | null = null;
  const forward = async (): Promise<Float32Array> => {
    if (!session) throw new Error(`${name}: not set up`);
    if (stream) return streamForward(session, stream);
    const { Y } = await session.run(feeds);
    return Y?.data as Float32Array;
  };
  /** One run per step, each step's outputs `HN_k` (`CN_k`) fed back as the next one's `H0_k` (`C0_k`). */
  const streamForward = async (s: OrtSession, st: NonNullable<typeof stream>): Promise<Float32Array> => {
    const { out, put } = stepsOutput(st.config, st.config.hiddenSize);
    let state = st.zeros;
    for (const [t, X] of st.xs.entries()) {
      const r = await s.run({ X, ...state });
      put(t, r.Y?.data as Float32Array);
      state = Object.fromEntries(st.links.map(([input, output]) => [input, r[output] as OrtTensor]));
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
        const xs = Array.from(
          { length: steps },
          (_, t) =>
            new ort.Tensor('float32', narrow(problem.input, 1, t, 1).dataSync() as Float32Array, [
              batch,
              1,
              inputSize,
            ]),
        );
        const links = Array.from({ length: numLayers }, (_, k) => {
          const { inputs, outputs } = stateNames(cell, k);
          return inputs.map((input, i): [string, string] => [input, outputs[i] as string]);
        }).flat();
        const zero = (): OrtTensor =>
          new ort.Tensor('float32', new Float32Array(batch * hiddenSize), [1, batch, hiddenSize]);
        const zeros = Object.fromEntries(links.map(([input]) => [input, zero()]));
        stream = { config: problem.config, xs, zeros, links };
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

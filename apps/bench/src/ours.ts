import { initWasm } from '@recurrent/kernels-wasm';
import {
  type Backend,
  cpuBackend,
  createCpuBackend,
  mseLoss,
  packPaddedSequence,
  padPackedSequence,
  SGD,
  wasmCpuBackend,
} from '@recurrent/nn';
import { narrow, noGrad, type Tensor } from '@recurrent/tensor';
import { type BenchConfig, TRAIN_LR } from './configs.js';
import {
  createModel,
  forwardAll,
  forwardPacked,
  type Model,
  type Problem,
  stepsOutput,
  streamOf,
  zeroPadding,
} from './problem.js';
import { lossThenOutput, paddedName, type Runner, type RunnerFactory, timeCalls } from './runner.js';

/**
 * How a runner computes a packed config: `packed` packs the padded input with the config's lengths, runs the
 * packed forward and pads the output back (every step of the timing); `padded` runs the rectangular forward
 * on the whole padded batch, the reference a packed forward must beat (it only has rows on packed configs).
 */
type Mode = 'packed' | 'padded';

/**
 * `@recurrent/nn`'s RNN, LSTM or GRU on a backend (null: never moved, so on `defaultBackend()` as a new user
 * runs it); CPU outputs are read synchronously, GPU outputs awaited.
 */
function oursRunner(name: string, backend: Backend | null, mode: Mode, close?: () => void): Runner {
  let model: Model | null = null;
  let input: Tensor | null = null;
  let lengths: readonly number[] | null = null;
  let training: { target: Tensor; opt: SGD } | null = null;
  /** A streamed config and its steps (B, 1, I) on the backend. */
  let stream: { config: BenchConfig; steps: Tensor[] } | null = null;
  const read = (output: Tensor, owned: readonly Tensor[]): Float32Array | Promise<Float32Array> => {
    if (output.device === 'cpu') return output.dataSync() as Float32Array;
    return output.data().then((data) => {
      for (const t of owned) t.dispose();
      return data as Float32Array;
    });
  };
  const forward = (): Float32Array | Promise<Float32Array> => {
    if (!model || !input) throw new Error(`${name}: not set up`);
    if (!lengths) {
      const { output, states } = forwardAll(model, input);
      return read(output, [output, ...states]);
    }
    const onDevice = input.device === 'cpu' ? {} : { backend: model.backend };
    const packed = packPaddedSequence(input, lengths, {
      batchFirst: true,
      enforceSorted: false,
      ...onDevice,
    });
    const { output, states } = forwardPacked(model, packed);
    const [padded] = padPackedSequence(output, { batchFirst: true, totalLength: input.shape[1] as number });
    return read(padded, [packed.data, output.data, padded, ...states]);
  };
  /**
   * A streamed config: a stream over the steps, one forward each, every step's output read as it comes
   * (a GPU one awaited, then disposed); the stream's last state released at the end.
   */
  const streamForward = (): Float32Array | Promise<Float32Array> => {
    if (!model || !stream) throw new Error(`${name}: not set up`);
    const { config, steps } = stream;
    const run = streamOf(model, config.batch);
    const { out, put } = stepsOutput(config, model.hiddenSize);
    if (model.backend.device === 'cpu') {
      for (const [t, x] of steps.entries()) put(t, run.step(x).dataSync() as Float32Array);
      run.reset(null);
      return out;
    }
    return (async () => {
      for (const [t, x] of steps.entries()) {
        const y = run.step(x);
        put(t, (await y.data()) as Float32Array);
        y.dispose();
      }
      run.reset(null);
      return out;
    })();
  };
  /** One training step, as a PyTorch loop writes it; returns the loss (a 0-d tensor). */
  const trainStep = (): Tensor => {
    if (!model || !input || !training) throw new Error(`${name}: not set up for training`);
    training.opt.zeroGrad();
    const { output } = forwardAll(model, input);
    const loss = mseLoss(output, training.target);
    loss.backward();
    training.opt.step();
    return loss;
  };
  return {
    name: mode === 'padded' ? paddedName(name) : name,
    ours: true,
    ...(mode === 'padded'
      ? {
          appliesTo: (c: BenchConfig) => c.lengths !== undefined,
          unsupported: (c: BenchConfig) =>
            c.bidirectional
              ? 'bidirectional: a padded forward runs the reverse direction from step T, not from each length, so it is not the packed computation'
              : undefined,
        }
      : {}),
    async setup(problem: Problem) {
      model = createModel(problem.config);
      model.loadStateDict(problem.stateDict);
      model.eval();
      if (backend) model.to(backend);
      input = model.backend.fromCpu(problem.input);
      const { config } = problem;
      stream = config.stream
        ? {
            config,
            steps: Array.from({ length: config.steps }, (_, t) =>
              (model as Model).backend.fromCpu(narrow(problem.input, 1, t, 1)),
            ),
          }
        : null;
      lengths = mode === 'packed' ? (problem.config.lengths ?? null) : null;
      training = null;
      if (problem.target) {
        model.train();
        training = {
          target: model.backend.fromCpu(problem.target),
          opt: new SGD(model.parameters(), { lr: TRAIN_LR }),
        };
        const loss = ((await trainStep().data()) as Float32Array)[0] as number;
        const after = await noGrad(forward);
        return lossThenOutput(loss, after);
      }
      if (stream) return (await streamForward()).slice();
      // the padded forward computes the padding positions too: compared on the valid ones only
      return zeroPadding(problem.config, (await forward()).slice());
    },
    // on a device a step is timed to its loss read back (what a loop that logs its loss waits for)
    time: (n, batch) =>
      timeCalls(
        n,
        batch,
        training
          ? input?.device === 'cpu'
            ? trainStep
            : () => trainStep().data()
          : stream
            ? streamForward
            : forward,
      ),
    async teardown() {
      for (const x of stream?.steps ?? []) if (x.device !== 'cpu') x.dispose();
      model = null;
      input = null;
      training = null;
      stream = null;
    },
    ...(close ? { close } : {}),
  };
}

/** The packed (or, not packed, the plain) runner and its padded reference, on one backend. */
const withPadded = (name: string, backend: Backend | null, close?: () => void): Runner[] => [
  oursRunner(name, backend, 'packed', close),
  oursRunner(name, backend, 'padded'),
];

/** The plain-TypeScript CPU backend (`cpuBackend`). */
const oursTs: RunnerFactory = async () => oursRunner('recurrent cpu (TS)', cpuBackend, 'packed');

/** The WebAssembly SIMD CPU backend, one thread. */
const oursWasm: RunnerFactory = async () => {
  const kernels = await initWasm();
  if (!kernels) return { skipped: 'no WebAssembly SIMD in this Node' };
  return withPadded('recurrent cpu (wasm, 1 thr)', wasmCpuBackend(kernels));
};

/**
 * The WebAssembly SIMD CPU backend on two threads (worker_threads sharing the kernels' memory); on the
 * training configs its forward and backward split rows over both (the issue's targets are for one thread).
 */
const oursWasm2: RunnerFactory = async () => {
  const backend = await createCpuBackend({ threads: 2 });
  if (backend.threads !== 2) return { skipped: 'no WebAssembly threads in this Node' };
  const [packed, padded] = withPadded('recurrent cpu (wasm, 2 thr)', backend, () => backend.dispose()) as [
    Runner,
    Runner,
  ];
  return [packed, padded];
};

/**
 * The WebGPU backend when `@recurrent/nn/webgpu` exists and an adapter is found. Imported by a computed
 * specifier so the bench builds and runs whether or not that subpath is there yet.
 */
const oursWebGpu: RunnerFactory = async () => {
  const specifier = '@recurrent/nn/webgpu';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return { skipped: `${specifier} is not available` };
  }
  const create = mod.createWebGPUBackend;
  if (typeof create !== 'function') return { skipped: `${specifier} has no createWebGPUBackend()` };
  try {
    const backend = (await create()) as Backend & { dispose?: () => void };
    const [packed, padded] = withPadded('recurrent webgpu', backend, () => backend.dispose?.()) as [
      Runner,
      Runner,
    ];
    return [packed, padded];
  } catch (e) {
    return { skipped: `no WebGPU adapter (${e instanceof Error ? e.message : String(e)})` };
  }
};

/** A module never moved with `to()` (`new RNN(…)`, `new LSTM(…)`…): the default backend, WASM SIMD in Node. */
const oursDefault: RunnerFactory = async () => withPadded('recurrent default backend (no .to())', null);

/** Our implementations, the reference (the TS CPU backend, whose output every other runner must match) first. */
export const ours: readonly RunnerFactory[] = [oursTs, oursWasm, oursDefault, oursWasm2, oursWebGpu];

import { type Backend, cpuBackend, GRU, LSTM, RNN, type StateDict } from '@recurrent/nn';
import { gruReference, lstmReference, rnnReference } from '@recurrent/reference';
import { manualSeed, maxAbsDiff, narrow, randn, select, type Tensor, tensor } from '@recurrent/tensor';
import type { AnyOptions, CellModule, RunConfig } from './config-form.js';

/** A backend and the short name the page's tables use for it (its `label` is the long description). */
export interface LabeledBackend {
  label: string;
  backend: Backend;
}

/** The configured module, and its forward reduced to `[output, hN]`. */
interface Built {
  module: RNN | LSTM | GRU;
  forward(x: Tensor): [output: Tensor, hN: Tensor, extra: Tensor[]];
}

/** Builds `nn.RNN`, `nn.LSTM` or `nn.GRU` with `options` (throws the module's own errors). */
export function buildModule(module: CellModule, options: AnyOptions): Built {
  if (module === 'LSTM') {
    const lstm = new LSTM(options);
    return {
      module: lstm,
      forward: (x) => {
        const [output, [hN, cN]] = lstm.forward(x);
        return [output, hN, [cN]];
      },
    };
  }
  const m = module === 'GRU' ? new GRU(options) : new RNN(options);
  return { module: m, forward: (x) => [...m.forward(x), []] };
}

/** The hand-written reference of the module's output (eval mode, zero initial state). */
function reference(module: CellModule, input: Tensor, weights: StateDict, options: AnyOptions): Tensor {
  if (module === 'LSTM') return lstmReference(input, weights, options)[0];
  if (module === 'GRU') return gruReference(input, weights, options)[0];
  return rnnReference(input, weights, options)[0];
}

/** One backend's result: its output and how long a forward (with readback) took. */
export interface BackendRun {
  name: string;
  output: Tensor;
  hN: Tensor;
  medianMs: number;
}

/** Everything the configurator shows after a run. */
export interface RunResult {
  inputShape: readonly number[];
  outputShape: readonly number[];
  hNShape: readonly number[];
  runs: BackendRun[];
  /** `[label, max |a − b|]` for CPU vs reference, WebGPU vs CPU, WebGPU vs reference. */
  diffs: [string, number][];
  /** `output[0, 0]` printed the way PyTorch prints it (from the first backend's output). */
  output00: string;
  /** Hidden states of batch element 0 per layer and direction: `(H, T)` row-major (unit-major for the heatmap). */
  states: { label: string; values: Float32Array; units: number; steps: number }[];
}

/**
 * Builds the configured RNN under `manualSeed(seed)` (loading `checkpoint` if given), draws the input,
 * and runs it on each backend in eval mode, timing the median of `repeats` forwards including readback.
 */
export async function runConfig(
  config: RunConfig,
  backends: LabeledBackend[],
  checkpoint: StateDict | null,
  repeats = 5,
): Promise<RunResult> {
  manualSeed(config.seed);
  const built = buildModule(config.module, config.options);
  const rnn = built.module.eval();
  if (checkpoint) rnn.loadStateDict(checkpoint);
  const { inputSize, batchFirst = false } = config.options;
  const shape = batchFirst
    ? [config.batch, config.seqLen, inputSize]
    : [config.seqLen, config.batch, inputSize];
  const input = randn(shape);
  const want = reference(config.module, input, rnn.stateDict(), config.options);

  const runs: BackendRun[] = [];
  for (const { label, backend } of backends) {
    rnn.to(backend);
    const times: number[] = [];
    let last: [Tensor, Tensor] | null = null;
    for (let i = 0; i <= repeats; i++) {
      const start = performance.now();
      const [output, hN, extra] = built.forward(input);
      await output.data();
      if (i > 0) times.push(performance.now() - start); // the first run warms up (pipelines, uploads)
      if (last) disposeAll(last);
      disposeAll(extra);
      last = [output, hN];
    }
    times.sort((a, b) => a - b);
    const [output, hN] = last as [Tensor, Tensor];
    runs.push({ name: label, output, hN, medianMs: times[Math.floor(times.length / 2)] as number });
  }
  rnn.to(cpuBackend);

  const onCpu = await Promise.all(runs.map(async (r) => readToCpu(r.output)));
  const diffs: [string, number][] = runs.map((r, i) => [
    `${r.name} vs reference`,
    maxAbsDiff(onCpu[i] as Tensor, want),
  ]);
  for (let i = 1; i < runs.length; i++) {
    diffs.push([`${runs[i]?.name} vs ${runs[0]?.name}`, maxAbsDiff(onCpu[i] as Tensor, onCpu[0] as Tensor)]);
  }
  const first = runs[0];
  return {
    inputShape: input.shape,
    outputShape: first?.output.shape ?? [],
    hNShape: first?.hN.shape ?? [],
    output00: onCpu[0] ? String(select(select(onCpu[0], 0, 0), 0, 0)) : '',
    runs,
    diffs,
    states: layerStates(input, rnn.stateDict(), config),
  };
}

async function readToCpu(t: Tensor): Promise<Tensor> {
  return t.device === 'cpu' ? t : tensor(await t.data(), t.shape);
}

function disposeAll(ts: Tensor[]): void {
  for (const t of ts) if (t.device !== 'cpu') t.dispose();
}

/** Runs the reference one layer at a time to expose every layer's hidden states, not only the last one's. */
function layerStates(input: Tensor, weights: StateDict, config: RunConfig): RunResult['states'] {
  const { numLayers = 1, bidirectional = false, batchFirst = false } = config.options;
  const projSize = 'projSize' in config.options ? (config.options.projSize ?? 0) : 0;
  const H = projSize || config.options.hiddenSize; // features of h per direction
  const D = bidirectional ? 2 : 1;
  const states: RunResult['states'] = [];
  let x = input;
  for (let layer = 0; layer < numLayers; layer++) {
    const params: StateDict = {};
    for (const [key, value] of Object.entries(weights)) {
      const m = /^(.*)_l(\d+)(_reverse)?$/.exec(key);
      if (m && Number(m[2]) === layer) params[`${m[1]}_l0${m[3] ?? ''}`] = value;
    }
    x = reference(config.module, x, params, { ...config.options, numLayers: 1 });
    const sequence = batchFirst ? select(x, 0, 0) : select(x, 1, 0); // (T, D·H) of batch element 0
    for (let d = 0; d < D; d++) {
      const block = narrow(sequence, 1, d * H, H).dataSync(); // (T, H)
      const T = sequence.shape[0] as number;
      const unitMajor = new Float32Array(H * T);
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++) unitMajor[h * T + t] = block[t * H + h] as number;
      states.push({
        label: `layer ${layer}${D === 2 ? (d ? ' reverse' : ' forward') : ''}`,
        values: unitMajor,
        units: H,
        steps: T,
      });
    }
  }
  return states;
}

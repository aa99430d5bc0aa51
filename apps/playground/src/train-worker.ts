// The "train" panel's module worker: trains the character model (char-trainer.ts) off the main thread, on
// WebGPU (a device of its own) or on the CPU (WebAssembly SIMD or plain TypeScript), reporting losses
// about every REPORT_MS ms and a sample every `sampleEvery` steps. Steps run in chunks; between chunks
// the worker reads the main thread's requests (pause, stop, checkpoint).

import { type Backend, cpuBackend, createCpuBackend } from '@recurrent/nn';
import type { WebGPUBackend } from '@recurrent/nn/webgpu';
import text from '../../char-rnn/data/coriolanus.txt?raw';
import { CharTrainer } from './char-trainer.js';
import {
  type FromWorker,
  type LossPoint,
  REPORT_MS,
  type ToWorker,
  TRAINS_ON,
  type TrainBackendChoice,
  type TrainBackendName,
} from './train-protocol.js';

const post = (message: FromWorker, transfer: Transferable[] = []): void =>
  self.postMessage(message, { transfer });

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

let cpu: Promise<Backend> | null = null;
/** The worker's WebGPU backend (its own device: a worker cannot use the page's), or why there is none. */
let gpu: Promise<WebGPUBackend> | null = null;

/** The backend for `name`, built once per worker. */
async function backendFor(name: TrainBackendName): Promise<Backend> {
  if (!TRAINS_ON[name]) throw new Error(`the model cannot train on '${name}'`);
  switch (name) {
    case 'ts':
      return cpuBackend;
    case 'webgpu': {
      // the WebGPU code loads only when asked for; a failed attempt is not kept, so a later start retries
      const built = gpu ?? import('@recurrent/nn/webgpu').then((m) => m.createWebGPUBackend());
      gpu = built;
      built.catch(() => {
        if (gpu === built) gpu = null;
      });
      return built;
    }
    default:
      // WebAssembly SIMD (a worker may compile it synchronously too; this does not block either way)
      cpu ??= createCpuBackend();
      return cpu;
  }
}

/**
 * What `choice` trains on. `'auto'`: WebGPU where the worker has a hardware adapter; on a software
 * fallback adapter (SwiftShader, WARP) WebGPU runs on the CPU's cores, far slower than WebAssembly SIMD,
 * so `'auto'` takes `'cpu'` there, and wherever WebGPU fails, saying why in `notOnGpu`.
 */
async function choose(
  choice: TrainBackendChoice,
): Promise<{ device: TrainBackendName; backend: Backend; notOnGpu?: string }> {
  if (choice !== 'auto') return { device: choice, backend: await backendFor(choice) };
  let notOnGpu: string;
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    notOnGpu = 'the worker has no WebGPU (navigator.gpu is missing there)';
  } else {
    try {
      const backend = (await backendFor('webgpu')) as WebGPUBackend;
      if (!backend.fallback) return { device: 'webgpu', backend };
      const name = backend.runtime.adapterName || 'unknown adapter';
      notOnGpu = `the worker's WebGPU adapter (${name}) is a software fallback, slower than WebAssembly SIMD`;
    } catch (error) {
      notOnGpu = reason(error);
    }
  }
  return { device: 'cpu', backend: await backendFor('cpu'), notOnGpu };
}

let trainer: CharTrainer | null = null;
/** The current run; `start` and `stop` move it on, which ends the previous run's loop. */
let run = 0;
let paused = false;
let looping = false;
/** Chunks of steps and checkpoint requests run one after another, never interleaved at an `await`. */
let queue: Promise<unknown> = Promise.resolve();

function serial<T>(task: () => Promise<T>): Promise<T> {
  const result = queue.then(task);
  queue = result.catch(() => undefined);
  return result;
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function sample(t: CharTrainer): Promise<void> {
  post({ type: 'sample', step: t.step, text: await t.sample() });
}

/** Trains `t` in chunks of about REPORT_MS ms until its steps are done, or the run changes or pauses. */
async function loop(t: CharTrainer, id: number): Promise<void> {
  looping = true;
  const { steps, sampleEvery } = t.config;
  try {
    while (id === run && !paused && t.step < steps) {
      await serial(async () => {
        const points: LossPoint[] = [];
        let trained = 0;
        let trainingMs = 0;
        const started = performance.now();
        while (t.step < steps && performance.now() - started < REPORT_MS) {
          const before = performance.now();
          const loss = await t.trainStep();
          trainingMs += performance.now() - before;
          trained++;
          points.push({ step: t.step, loss });
          if (t.step % sampleEvery === 0 || t.step === steps) {
            // the curve first, then the sample it goes with (sampling is not counted in steps/s)
            post({ type: 'losses', points: points.splice(0), stepsPerSecond: (1000 * trained) / trainingMs });
            await sample(t);
          }
        }
        if (points.length) post({ type: 'losses', points, stepsPerSecond: (1000 * trained) / trainingMs });
      });
      await nextTask(); // lets the main thread's messages in
    }
    if (id === run && paused) post({ type: 'paused', step: t.step });
    else if (id === run) post({ type: 'done', step: t.step, stopped: false });
  } catch (error) {
    if (id === run) post({ type: 'error', message: reason(error) });
  } finally {
    looping = false;
  }
}

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const id = ++run;
  paused = false;
  try {
    const { device, backend, notOnGpu } = await choose(message.config.backend);
    const t = new CharTrainer(message.config, text, backend);
    if (id !== run) return;
    trainer = t;
    post({
      type: 'started',
      device,
      backend: backend.label,
      ...(notOnGpu === undefined ? {} : { notOnGpu }),
      vocabSize: t.vocab.length,
      parameters: t.parameterCount,
      textLength: text.length,
    });
    await serial(() => sample(t)); // step 0: what the untrained model writes
    await loop(t, id);
  } catch (error) {
    if (id === run) post({ type: 'error', message: reason(error) });
  }
}

self.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'start':
      void start(message);
      break;
    case 'pause':
      paused = true;
      if (!looping && trainer) post({ type: 'paused', step: trainer.step });
      break;
    case 'resume':
      paused = false;
      if (trainer && !looping && trainer.step < trainer.config.steps) {
        post({ type: 'resumed', step: trainer.step });
        void loop(trainer, run);
      }
      break;
    case 'stop':
      run++;
      paused = false;
      post({ type: 'done', step: trainer?.step ?? 0, stopped: true });
      break;
    case 'checkpoint': {
      const t = trainer;
      if (!t) {
        post({ type: 'error', message: 'there is no model yet: start training first' });
        break;
      }
      void serial(async () => {
        const bytes = await t.checkpoint();
        post({ type: 'checkpoint', step: t.step, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer]);
      });
      break;
    }
  }
});

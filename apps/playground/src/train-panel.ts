// The "train" panel: starts, pauses and stops the training worker (train-worker.ts), draws its losses as
// they come, shows its samples, and downloads the model as a safetensors checkpoint.
import { drawLossCurve } from './charts/loss-curve.js';
import { showFieldErrors } from './config-form.js';
import { fillStatsTable } from './stats-table.js';
import {
  checkTrainConfig,
  DEFAULT_TRAIN_CONFIG,
  type FromWorker,
  type ToWorker,
  TRAINS_ON,
  type TrainBackendChoice,
  type TrainBackendName,
  type TrainConfig,
} from './train-protocol.js';

/** What the page knows about its backends, for the backend choice's labels and the note under it. */
export interface TrainPanelOptions {
  /** The label of the page's fastest CPU backend (WebAssembly SIMD where the engine has it). */
  cpuLabel: string;
  /** The label of the plain TypeScript backend. */
  tsLabel: string;
  /** Whether the page has WebGPU (the worker asks for its own adapter). */
  gpu: boolean;
}

/** The panel's states, in `root.dataset.state`; the e2e test waits for `'done'`. */
type State = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'done' | 'stopped' | 'error';

const FIELDS = ['lr', 'hiddenSize', 'numLayers', 'seqLen', 'batchSize', 'steps'] as const;
const MAX_SAMPLES = 8;
const MEAN_OF = 20;

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/**
 * Wires the panel under `root` (`#train-form`, `#train-start`, `#train-pause`, `#train-stop`,
 * `#train-download`, `#train-loss`, `#train-stats`, `#train-samples`, …). The worker starts on the first
 * click of Start and is kept for later runs.
 */
export function setupTrainPanel(root: HTMLElement, options: TrainPanelOptions): void {
  const $ = <T extends HTMLElement>(selector: string): T => root.querySelector(selector) as T;
  const form = $<HTMLFormElement>('#train-form');
  const start = $<HTMLButtonElement>('#train-start');
  const pause = $<HTMLButtonElement>('#train-pause');
  const stop = $<HTMLButtonElement>('#train-stop');
  const download = $<HTMLButtonElement>('#train-download');
  const status = $('#train-status');
  const error = $('#train-error');
  const canvas = $<HTMLCanvasElement>('#train-loss');
  const samples = $('#train-samples');

  const choice = $<HTMLSelectElement>('#train-backend');
  const label = (value: TrainBackendName, text: string, enabled: boolean): void => {
    const option = choice.querySelector<HTMLOptionElement>(`option[value="${value}"]`);
    if (!option) return;
    option.textContent = text;
    option.disabled = !(enabled && TRAINS_ON[value]);
  };
  label('cpu', `CPU — ${options.cpuLabel}`, true);
  label('ts', `CPU — ${options.tsLabel}`, true);
  label('webgpu', options.gpu ? 'WebGPU' : 'WebGPU (off in this browser)', options.gpu);
  // 'auto', the default: the worker takes WebGPU where it has a hardware adapter, else the CPU
  const auto = document.createElement('option');
  auto.value = 'auto' satisfies TrainBackendChoice;
  auto.textContent = options.gpu ? 'Auto — WebGPU on a GPU, else CPU' : 'Auto — CPU (no WebGPU here)';
  choice.prepend(auto);
  choice.value = DEFAULT_TRAIN_CONFIG.backend;
  const note = $('#train-note');
  const idleNote = options.gpu
    ? 'Every choice trains in a Web Worker. Auto takes WebGPU where the worker gets a hardware GPU ' +
      "adapter (the parameters, backward, loss and Adam's steps stay on the GPU; each step reads back " +
      'only its loss, for the curve), and the CPU (WebAssembly SIMD) on a software adapter, which is slower.'
    : 'This browser has no WebGPU: the model trains on the CPU (WebAssembly SIMD), in a Web Worker.';
  note.textContent = idleNote;

  let worker: Worker | null = null;
  let config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG };
  let losses: number[] = [];
  let backend = '';
  let vocabSize = 0;
  let parameters = 0;
  /** Steps and their training time, for the run's steps/s (sampling not counted). */
  let timed = { steps: 0, seconds: 0 };
  let step = 0;

  const setState = (state: State): void => {
    root.dataset.state = state;
    const active = state === 'starting' || state === 'running' || state === 'pausing' || state === 'paused';
    start.disabled = active;
    for (const input of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select'))
      input.disabled = active;
    pause.disabled = state !== 'running' && state !== 'paused';
    pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
    stop.disabled = !active;
    download.disabled = !(backend && state !== 'starting');
    showStatus(state);
  };

  const showStatus = (state: State): void => {
    const rate = timed.seconds > 0 ? `, ${(timed.steps / timed.seconds).toFixed(1)} steps/s` : '';
    const where = backend ? ` on ${backend}` : '';
    const words: Record<State, string> = {
      idle: '',
      starting: 'building the model…',
      running: `step ${step} of ${config.steps}${rate}${where}`,
      pausing: `pausing at step ${step}…`,
      paused: `paused at step ${step} of ${config.steps}${where}`,
      done: `trained ${step} steps${rate}${where}`,
      stopped: `stopped at step ${step} of ${config.steps}${where}`,
      error: '',
    };
    status.textContent = words[state];
  };

  const showStats = (): void => {
    const rows: [string, string][] = [
      ['backend', backend],
      ['parameters', parameters.toLocaleString('en-US')],
      ['step', `${step} of ${config.steps}`],
      ['steps/s', timed.seconds > 0 ? (timed.steps / timed.seconds).toFixed(1) : ''],
      ['loss', losses.length ? (losses.at(-1) as number).toFixed(4) : ''],
      [
        `loss, mean of the first ${MEAN_OF} steps`,
        losses.length ? mean(losses.slice(0, MEAN_OF)).toFixed(4) : '',
      ],
      [
        `loss, mean of the last ${MEAN_OF} steps`,
        losses.length ? mean(losses.slice(-MEAN_OF)).toFixed(4) : '',
      ],
      ['ln(vocabulary size), a uniform guess', vocabSize ? Math.log(vocabSize).toFixed(4) : ''],
    ];
    fillStatsTable($('#train-stats'), rows);
  };

  const draw = (): void => {
    drawLossCurve(canvas, losses, config.steps, vocabSize ? Math.log(vocabSize) : 0, MEAN_OF);
    showStats();
    showStatus(root.dataset.state as State);
  };
  /** Redraws at most once a frame, however often the worker reports; `now` for a change of state. */
  let frame = 0;
  const redraw = (now: boolean): void => {
    if (now) {
      cancelAnimationFrame(frame);
      frame = 0;
      draw();
    } else if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    }
  };

  const addSample = (at: number, text: string): void => {
    const figure = document.createElement('figure');
    const caption = document.createElement('figcaption');
    caption.textContent = at === 0 ? 'step 0 (untrained)' : `step ${at}`;
    const pre = document.createElement('pre');
    const prompt = document.createElement('span');
    prompt.className = 'prompt';
    prompt.textContent = config.prompt;
    pre.append(prompt, text);
    figure.dataset.step = String(at);
    figure.append(caption, pre);
    samples.prepend(figure);
    while (samples.childElementCount > MAX_SAMPLES) samples.lastElementChild?.remove();
  };

  const fail = (message: string): void => {
    error.textContent = message;
    setState('error');
  };

  const saveCheckpoint = (at: number, bytes: ArrayBuffer): void => {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `char_lstm_step${at}.safetensors`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const onMessage = (message: FromWorker): void => {
    switch (message.type) {
      case 'started': {
        ({ backend, vocabSize, parameters } = message);
        root.dataset.device = message.device;
        const why = message.notOnGpu?.replace(/\.$/, '');
        note.textContent = why
          ? `Training on ${backend}, in a Web Worker: Auto took the CPU because ${why}.`
          : `Training on ${backend}, in a Web Worker.`;
        setState('running');
        break;
      }
      case 'losses':
        for (const p of message.points) losses[p.step - 1] = p.loss;
        step = message.points.at(-1)?.step ?? step;
        if (message.stepsPerSecond > 0) {
          timed.steps += message.points.length;
          timed.seconds += message.points.length / message.stepsPerSecond;
        }
        break;
      case 'sample':
        addSample(message.step, message.text);
        break;
      case 'paused':
        step = message.step;
        setState('paused');
        break;
      case 'resumed':
        setState('running');
        break;
      case 'done':
        step = message.step;
        setState(message.stopped ? 'stopped' : 'done');
        break;
      case 'checkpoint':
        saveCheckpoint(message.step, message.bytes);
        break;
      case 'error':
        fail(message.message);
        break;
    }
    redraw(message.type !== 'losses' && message.type !== 'sample');
  };

  const send = (message: ToWorker): void => worker?.postMessage(message);

  const readConfig = (): TrainConfig => {
    const next: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, backend: choice.value as TrainBackendChoice };
    for (const key of FIELDS) {
      const raw = $<HTMLInputElement>(`#train-${key}`).value.trim();
      next[key] = raw === '' ? Number.NaN : Number(raw);
    }
    return next;
  };

  start.addEventListener('click', () => {
    error.textContent = '';
    const next = readConfig();
    const errors: Record<string, string> = {};
    for (const [key, message] of Object.entries(checkTrainConfig(next))) errors[`train-${key}`] = message;
    if (next.backend === 'webgpu' && !options.gpu)
      errors['train-backend'] = 'this browser has no WebGPU: choose Auto or a CPU backend';
    showFieldErrors(form, errors);
    if (Object.keys(errors).length) return;
    config = next;
    losses = [];
    backend = '';
    delete root.dataset.device;
    note.textContent = idleNote;
    vocabSize = 0;
    parameters = 0;
    timed = { steps: 0, seconds: 0 };
    step = 0;
    samples.replaceChildren();
    if (!worker) {
      worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
      worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        worker?.terminate();
        worker = null;
        backend = ''; // its model went with it
        fail(`the training worker failed: ${e.message || 'it could not be loaded'}`);
      });
    }
    setState('starting');
    redraw(true);
    send({ type: 'start', config });
  });
  pause.addEventListener('click', () => {
    if (root.dataset.state === 'paused') send({ type: 'resume' });
    else {
      send({ type: 'pause' });
      setState('pausing');
    }
    pause.disabled = true; // until the worker says it has paused or resumed
  });
  stop.addEventListener('click', () => send({ type: 'stop' }));
  download.addEventListener('click', () => send({ type: 'checkpoint' }));
  setState('idle');
}

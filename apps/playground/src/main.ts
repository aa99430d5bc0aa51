import './styles.css';
import {
  type Backend,
  cpuBackend,
  createCpuBackend,
  loadSafetensors,
  readSafetensorsHeader,
  type StateDict,
} from '@recurrent/nn';
import { drawHeatmap } from './charts/heatmap.js';
import { drawLines } from './charts/lines.js';
import {
  type CellModule,
  checkRunFields,
  fieldOfError,
  readForm,
  renderForm,
  showFieldErrors,
  syncFields,
  writeOptions,
} from './config-form.js';
import { setupGeneratePanel } from './generate-panel.js';
import { detectWebGPU, type GpuState } from './gpu.js';
import { renderNotebook } from './notebook-view.js';
import { buildModule, type LabeledBackend, type RunResult, runConfig } from './run.js';
import { fillStatsTable } from './stats-table.js';
import { setupTrainPanel } from './train-panel.js';

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#config-form');
const runError = $<HTMLParagraphElement>('#run-error');
let gpu: GpuState = { backend: null, reason: 'not checked yet' };
/** The WebAssembly SIMD CPU backend, or null where the engine has no SIMD (then only the TypeScript path runs). */
let wasm: Backend | null = null;
let checkpoint: StateDict | null = null;
let last: RunResult | null = null;

function showNotebook(): void {
  const input = $<HTMLInputElement>('#notebook-seed');
  const seed = Number(input.value);
  if (!Number.isInteger(seed) || seed < 0) {
    showFieldErrors($('#notebook'), {
      'notebook-seed': `the seed must be a non-negative integer, received ${input.value || 'nothing'}`,
    });
    return;
  }
  showFieldErrors($('#notebook'), {});
  renderNotebook($('#notebook-cells'), seed);
}

async function run(which: 'cpu' | 'gpu' | 'both'): Promise<void> {
  runError.textContent = '';
  const config = readForm(form);
  const errors = checkRunFields(config);
  try {
    buildModule(config.module, config.options); // validates every option with the library's own messages
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const field = fieldOfError(message);
    if (field) errors[field] = message.replace(/^\w+: \w+ /, '');
    else runError.textContent = message;
  }
  showFieldErrors(form, errors);
  if (Object.keys(errors).length || runError.textContent) return;
  const backends: LabeledBackend[] = [];
  if (which !== 'gpu') {
    backends.push({ label: 'cpu', backend: cpuBackend });
    if (wasm) backends.push({ label: 'cpu-wasm', backend: wasm });
  }
  if (which !== 'cpu') {
    if (!gpu.backend) {
      runError.textContent = `WebGPU is off: ${'reason' in gpu ? gpu.reason : ''}`;
      if (which === 'gpu') return;
    } else backends.push({ label: 'webgpu', backend: gpu.backend });
  }
  try {
    last = await runConfig(config, backends, checkpoint);
    showResult(last);
  } catch (error) {
    runError.textContent = error instanceof Error ? error.message : String(error);
  }
}

function showResult(result: RunResult): void {
  const rows: [string, string][] = [
    ['input shape', `[${result.inputShape.join(', ')}]`],
    ['output shape', `[${result.outputShape.join(', ')}]`],
    ['h_n shape', `[${result.hNShape.join(', ')}]`],
    ...result.runs.map((r): [string, string] => [
      `${r.name} forward + readback (median)`,
      `${r.medianMs.toFixed(2)} ms`,
    ]),
    ...result.diffs.map(([label, d]): [string, string] => [`max |diff| ${label}`, d.toExponential(2)]),
    ['output[0, 0]', result.output00],
  ];
  fillStatsTable($('#results'), rows);
  const select = $<HTMLSelectElement>('#layer-select');
  select.replaceChildren(...result.states.map((s, i) => new Option(s.label, String(i))));
  drawStates();
}

function drawStates(): void {
  const state = last?.states[Number($<HTMLSelectElement>('#layer-select').value) || 0];
  if (!state) return;
  drawHeatmap($<HTMLCanvasElement>('#heatmap'), state.values, state.units, state.steps);
  const shown = Math.min(4, state.units);
  const series = Array.from({ length: shown }, (_, u) =>
    state.values.subarray(u * state.steps, (u + 1) * state.steps),
  );
  const colors = drawLines($<HTMLCanvasElement>('#lines'), series);
  $('#lines-caption').textContent =
    `Hidden units 0–${shown - 1} of ${state.label} over time (${colors.join(', ')}).`;
}

async function loadCheckpoint(file: File): Promise<void> {
  runError.textContent = '';
  $('#checkpoint-status').textContent = '';
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // scripts/export_safetensors.py records the module's options; use them to configure the form
    const { metadata } = readSafetensorsHeader(bytes);
    const module = (metadata.module ?? 'RNN') as CellModule;
    if (metadata.rnn_options) writeOptions(form, { module, ...JSON.parse(metadata.rnn_options) });
    const dict = loadSafetensors(bytes);
    const config = readForm(form);
    buildModule(config.module, config.options).module.loadStateDict(dict); // same keys and shapes?
    checkpoint = dict;
    $('#checkpoint-status').textContent = `loaded ${Object.keys(dict).length} tensors from ${file.name}`;
    await run('cpu');
  } catch (error) {
    checkpoint = null;
    runError.textContent = `${file.name}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function main(): Promise<void> {
  renderForm(form);
  showNotebook();
  $('#notebook-seed').addEventListener('change', showNotebook);
  $('#run-cpu').addEventListener('click', () => void run('cpu'));
  $('#run-gpu').addEventListener('click', () => void run('gpu'));
  $('#run-both').addEventListener('click', () => void run('both'));
  $('#layer-select').addEventListener('change', drawStates);
  form.addEventListener('change', () => {
    syncFields(form);
    checkpoint = null; // a checkpoint belongs to one configuration
    $('#checkpoint-status').textContent = '';
  });
  $<HTMLInputElement>('#checkpoint').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void loadCheckpoint(file);
  });
  const status = $('#gpu-status');
  // compiles the WASM SIMD kernels asynchronously, as a page's main thread must; plain TS where no SIMD
  const cpu = await createCpuBackend();
  if (cpu.rnn !== cpuBackend.rnn) wasm = cpu;
  $('#wasm-status').textContent = wasm
    ? 'WebAssembly SIMD is on'
    : 'WebAssembly SIMD is off: the CPU runs TypeScript';
  gpu = await detectWebGPU();
  status.textContent = gpu.backend
    ? gpu.description
    : `WebGPU is off — running on the CPU only: ${gpu.reason}`;
  status.classList.add(gpu.backend ? 'on' : 'off');
  for (const id of ['#run-gpu', '#run-both']) $<HTMLButtonElement>(id).disabled = !gpu.backend;
  setupGeneratePanel($('#generate'), {
    cpu: wasm ?? cpuBackend,
    ts: cpuBackend,
    gpu: gpu.backend,
    gpuReason: 'reason' in gpu ? gpu.reason : '',
  });
  setupTrainPanel($('#train'), {
    cpuLabel: (wasm ?? cpuBackend).label,
    tsLabel: cpuBackend.label,
    gpu: gpu.backend !== null,
  });
  document.body.dataset.ready = 'true';
  await run('cpu');
}

void main();

// The "generate" panel: apps/char-rnn's character model (trained in PyTorch, loaded from its safetensors
// checkpoint, served as a static asset) generating text greedily on the CPU or on WebGPU.
import { type CharCheckpoint, generate, loadCharModel } from '@recurrent/char-rnn';
import checkpointUrl from '@recurrent/char-rnn/checkpoint?url';
import type { Backend } from '@recurrent/nn';

/** The backends the panel offers: the CPU ones always, WebGPU where the page has it. */
export interface GenerateBackends {
  /** The fastest CPU backend (WebAssembly SIMD where the engine has it). */
  cpu: Backend;
  /** The plain TypeScript backend, the semantic reference. */
  ts: Backend;
  gpu: Backend | null;
  /** Why there is no WebGPU, shown when it is picked anyway. */
  gpuReason: string;
}

const MAX_STEPS = 2000;

/**
 * Wires the panel under `root` (`#gen-prompt`, `#gen-steps`, `#gen-backend`, `#gen-run`, `#gen-text`, …).
 * The checkpoint is fetched on the first run; `root.dataset.state` is `'running'` during a run, then
 * `'done'` or `'error'`.
 */
export function setupGeneratePanel(root: HTMLElement, backends: GenerateBackends): void {
  const $ = <T extends HTMLElement>(selector: string): T => root.querySelector(selector) as T;
  const run = $<HTMLButtonElement>('#gen-run');
  const choice = $<HTMLSelectElement>('#gen-backend');
  const status = $('#gen-status');
  const error = $('#gen-error');
  const echo = $('#gen-echo');
  const text = $('#gen-text');
  let checkpoint: Promise<CharCheckpoint> | null = null;

  const gpuOption = choice.querySelector<HTMLOptionElement>('option[value="webgpu"]');
  if (gpuOption) {
    gpuOption.disabled = !backends.gpu;
    if (!backends.gpu) gpuOption.textContent = 'WebGPU (off in this browser)';
  }
  const cpuOption = choice.querySelector<HTMLOptionElement>('option[value="cpu"]');
  if (cpuOption) cpuOption.textContent = `CPU — ${backends.cpu.label}`;
  const tsOption = choice.querySelector<HTMLOptionElement>('option[value="ts"]');
  if (tsOption) tsOption.textContent = `CPU — ${backends.ts.label}`;

  const load = async (): Promise<CharCheckpoint> => {
    const response = await fetch(checkpointUrl);
    if (!response.ok) throw new Error(`the checkpoint could not be fetched: HTTP ${response.status}`);
    return loadCharModel(new Uint8Array(await response.arrayBuffer()));
  };

  run.addEventListener('click', async () => {
    error.textContent = '';
    const prompt = $<HTMLTextAreaElement>('#gen-prompt').value;
    const steps = Number($<HTMLInputElement>('#gen-steps').value);
    if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
      error.textContent = `characters must be an integer from 1 to ${MAX_STEPS}, received ${$<HTMLInputElement>('#gen-steps').value || 'nothing'}`;
      return;
    }
    const backend =
      choice.value === 'webgpu' ? backends.gpu : choice.value === 'ts' ? backends.ts : backends.cpu;
    if (!backend) {
      error.textContent = `WebGPU is off: ${backends.gpuReason}`;
      return;
    }
    run.disabled = true;
    root.dataset.state = 'running';
    echo.textContent = prompt;
    text.textContent = '';
    try {
      checkpoint ??= load();
      status.textContent = 'loading the checkpoint…';
      const { model, vocab } = await checkpoint.catch((e: unknown) => {
        checkpoint = null; // try again on the next click
        throw e;
      });
      model.to(backend);
      status.textContent = `generating on ${backend.label}…`;
      const started = performance.now();
      let shown = '';
      await generate(model, vocab, prompt, steps, {
        onStep: (char) => {
          shown += char;
          text.textContent = shown;
        },
      });
      const ms = performance.now() - started;
      status.textContent = `${steps} characters on ${backend.label} in ${ms.toFixed(0)} ms`;
      root.dataset.state = 'done';
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
      status.textContent = '';
      root.dataset.state = 'error';
    } finally {
      run.disabled = false;
    }
  });
  run.disabled = false;
}

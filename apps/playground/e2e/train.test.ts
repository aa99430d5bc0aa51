// The "train" panel in Chromium: the character model, built from scratch, trains in a Web Worker on
// WebGPU (SwiftShader's software adapter here, so a few dozen steps) and on the CPU (WebAssembly SIMD, a
// few hundred); the loss falls, samples appear, and the checkpoint it downloads loads in apps/char-rnn's
// loader (PyTorch loads what saveSafetensors writes: the round trip committed in fixtures/roundtrip.json,
// checked by packages/nn/src/roundtrip.test.ts).
import { mkdirSync, readFileSync } from 'node:fs';
import { generate, loadCharModel } from '@recurrent/char-rnn';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleText } from '../src/char-trainer.js';
import { DEFAULT_TRAIN_CONFIG, type TrainBackendChoice } from '../src/train-protocol.js';
import { openPlayground, type Playground, ROOT } from './chromium.js';

/** SwiftShader trains about 1.5 steps/s (each step's kernels run on the CPU), WebAssembly SIMD some 20. */
const GPU_STEPS = 40;
const CPU_STEPS = 300;
const { vocab } = JSON.parse(
  readFileSync(new URL('../../char-rnn/model/generation.json', import.meta.url), 'utf8'),
) as { vocab: string[] };

const state = (page: Page): Promise<string | null> => page.getAttribute('#train', 'data-state');

describe('the train panel in Chromium', () => {
  let playground: Playground;
  let page: Page;
  /** The WebGPU run's mean loss over its first 20 steps. */
  let gpuFirst: number | undefined;
  const stat = async (key: string): Promise<string> =>
    (await page.textContent(`#train-stats td[data-key="${key}"]`)) ?? '';

  /** Trains `steps` steps on `backend` to the end; the page's main thread answers at once meanwhile. */
  async function train(backend: TrainBackendChoice, steps: number, timeout: number): Promise<void> {
    const started = Date.now();
    await page.fill('#train-steps', String(steps));
    await page.selectOption('#train-backend', backend);
    await page.click('#train-start');
    await page.waitForFunction(
      () => document.querySelector('#train')?.getAttribute('data-state') === 'running',
    );
    const before = Date.now();
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    expect(Date.now() - before).toBeLessThan(1000);
    await page.waitForFunction(
      () =>
        !['starting', 'running'].includes(document.querySelector('#train')?.getAttribute('data-state') ?? ''),
      undefined,
      { timeout },
    );
    expect(await page.textContent('#train-error')).toBe('');
    expect(await state(page)).toBe('done');
    console.log(
      `trained ${steps} steps in ${((Date.now() - started) / 1000).toFixed(1)} s: ${await page.textContent('#train-status')}`,
    );
  }

  /**
   * The loss fell: the mean of the last 20 steps against the first 20's (near ln(56) = 4.03 at the start);
   * resolves to the first 20's.
   */
  async function expectLearned(fraction: number): Promise<number> {
    const first = Number(await stat('loss, mean of the first 20 steps'));
    const last = Number(await stat('loss, mean of the last 20 steps'));
    expect(Number(await stat('ln(vocabulary size), a uniform guess'))).toBeCloseTo(Math.log(vocab.length), 4);
    expect(first).toBeGreaterThan(2.5);
    expect(last).toBeLessThan(fraction * first);
    expect(last).toBeLessThan(Math.log(vocab.length));
    return first;
  }

  /** The worker's samples' steps, newest first, and the newest one's text after the prompt. */
  async function samples(): Promise<{ steps: (string | undefined)[]; last: string }> {
    const steps = await page.$$eval('#train-samples figure', (fs) =>
      fs.map((f) => (f as HTMLElement).dataset.step),
    );
    const text = (await page.textContent('#train-samples figure pre')) ?? '';
    const { prompt, sampleLength } = DEFAULT_TRAIN_CONFIG;
    expect(text.startsWith(prompt)).toBe(true);
    const last = text.slice(prompt.length);
    expect(last).toHaveLength(sampleLength);
    return { steps, last };
  }

  /**
   * Downloads the checkpoint: safetensors with PyTorch's keys and train.py's metadata, which the char-rnn
   * loader takes, holding the model that wrote `lastSample` (the same seeded draws give the same text).
   */
  async function expectCheckpoint(steps: number, lastSample: string): Promise<void> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
    expect(download.suggestedFilename()).toBe(`char_lstm_step${steps}.safetensors`);
    const bytes = new Uint8Array(readFileSync(await download.path()));

    // the header, read by hand: u64 little-endian length, then JSON
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] }
    > & { __metadata__: Record<string, string> };
    const { __metadata__: metadata, ...tensors } = header;
    const shapes = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.shape]));
    const [v, h] = [vocab.length, 64];
    expect(shapes).toEqual({
      'embed.weight': [v, 32],
      'head.bias': [v],
      'head.weight': [v, h],
      'rnn.bias_hh_l0': [4 * h],
      'rnn.bias_ih_l0': [4 * h],
      'rnn.weight_hh_l0': [4 * h, h],
      'rnn.weight_ih_l0': [4 * h, 32],
    });
    expect(Object.values(tensors).every((t) => t.dtype === 'F32')).toBe(true);
    expect(8 + length + Math.max(...Object.values(tensors).map((t) => t.data_offsets[1]))).toBe(bytes.length);
    expect(JSON.parse(metadata.vocab ?? '')).toEqual(vocab); // the same vocabulary as the committed model's
    expect(metadata.format).toBe('pt');

    // apps/char-rnn's loader (what the generate panel uses) takes it as it takes PyTorch's checkpoint
    const { model } = loadCharModel(bytes);
    const { text } = await generate(model, vocab, 'MENENIUS:\n', 20);
    expect(text).toHaveLength(20);
    const c = DEFAULT_TRAIN_CONFIG;
    const options = { prompt: c.prompt, length: c.sampleLength, temperature: c.temperature, seed: c.seed };
    expect(await sampleText(model, vocab, options)).toBe(lastSample);
  }

  beforeAll(async () => {
    playground = await openPlayground();
    page = playground.page;
  });

  afterAll(() => playground?.close());

  it('offers Auto (the default), WebGPU and the CPU backends, and says how Auto chooses', async () => {
    expect(await page.inputValue('#train-backend')).toBe('auto');
    const offered = await page.$$eval('#train-backend option', (os) =>
      os.map((o) => `${(o as HTMLOptionElement).value}${(o as HTMLOptionElement).disabled ? ' (off)' : ''}`),
    );
    expect(offered).toEqual(['auto', 'cpu', 'ts', 'webgpu']);
    expect(await page.textContent('#train-note')).toMatch(
      /^Every choice trains in a Web Worker\. Auto takes WebGPU where the worker gets a hardware GPU adapter/,
    );
    expect(await page.isDisabled('#train-download')).toBe(true);
  });

  it(`trains ${GPU_STEPS} steps on WebGPU in a worker: the loss falls, samples appear, the checkpoint loads`, {
    timeout: 150_000,
  }, async () => {
    await train('webgpu', GPU_STEPS, 120_000);
    expect(await page.getAttribute('#train', 'data-device')).toBe('webgpu');
    expect(await stat('backend')).toMatch(/^webgpu \(google swiftshader/);
    expect(await page.textContent('#train-note')).toMatch(
      /^Training on webgpu \(google swiftshader.*, in a Web Worker\.$/,
    );
    expect(await page.textContent('#train-status')).toMatch(
      new RegExp(`^trained ${GPU_STEPS} steps, \\d+\\.\\d steps/s on webgpu \\(`),
    );
    expect(await stat('step')).toBe(`${GPU_STEPS} of ${GPU_STEPS}`);
    gpuFirst = await expectLearned(0.9);
    const { steps, last } = await samples();
    expect(steps).toEqual([String(GPU_STEPS), '0']);
    mkdirSync(`${ROOT}/test-results`, { recursive: true });
    await page.locator('#train').screenshot({ path: `${ROOT}/test-results/train-webgpu.png` });
    // read from the GPU without moving the model; the CPU loads it and draws the GPU's last sample
    await expectCheckpoint(GPU_STEPS, last);
  });

  it(`trains ${CPU_STEPS} steps on WebAssembly SIMD in a worker: the loss falls, samples appear, the checkpoint loads`, {
    timeout: 150_000,
  }, async () => {
    await train('cpu', CPU_STEPS, 140_000);
    expect(await page.getAttribute('#train', 'data-device')).toBe('cpu');
    expect(await stat('backend')).toMatch(/^cpu \(WebAssembly SIMD/);
    expect(await stat('step')).toBe(`${CPU_STEPS} of ${CPU_STEPS}`);
    expect(Number(await stat('steps/s'))).toBeGreaterThan(0);
    const first = await expectLearned(0.8);
    // the same seed, so the same initial weights and windows: the GPU's first steps are the CPU's
    if (gpuFirst !== undefined) expect(first).toBeCloseTo(gpuFirst, 2);
    expect(await page.textContent('#train-status')).toMatch(
      new RegExp(`^trained ${CPU_STEPS} steps, \\d+\\.\\d steps/s on cpu \\(WebAssembly SIMD`),
    );
    // step 0 (untrained), then every 100 steps, newest first
    const { steps, last } = await samples();
    expect(steps).toEqual(['300', '200', '100', '0']);
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector('#train-loss') as HTMLCanvasElement;
      const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        0,
        0,
        canvas.width,
        canvas.height,
      );
      let blue = 0;
      for (let i = 0; i < data.length; i += 4)
        if ((data[i + 3] as number) > 0 && (data[i + 2] as number) > 200) blue++;
      return blue;
    });
    expect(painted).toBeGreaterThan(500); // the curve is drawn
    mkdirSync(`${ROOT}/test-results`, { recursive: true });
    await page.locator('#train').screenshot({ path: `${ROOT}/test-results/train.png` });
    await expectCheckpoint(CPU_STEPS, last);
  });

  it("Auto takes the CPU on SwiftShader's software adapter and says why; a run pauses, resumes and stops", {
    timeout: 60_000,
  }, async () => {
    await page.fill('#train-steps', '5000');
    await page.selectOption('#train-backend', 'auto');
    await page.click('#train-start');
    await page.waitForFunction(
      () => Number(document.querySelector('#train-stats td[data-key="loss"]')?.textContent) > 0,
    );
    expect(await page.getAttribute('#train', 'data-device')).toBe('cpu');
    expect(await page.textContent('#train-note')).toMatch(
      /^Training on cpu \(WebAssembly SIMD.*, in a Web Worker: Auto took the CPU because the worker's WebGPU adapter \(google swiftshader\) is a software fallback, slower than WebAssembly SIMD\.$/,
    );
    await page.click('#train-pause');
    await page.waitForFunction(
      () => document.querySelector('#train')?.getAttribute('data-state') === 'paused',
    );
    const at = await stat('step');
    await page.waitForTimeout(300);
    expect(await stat('step')).toBe(at);
    expect(await page.textContent('#train-pause')).toBe('Resume');
    await page.click('#train-pause');
    await page.waitForFunction(
      () => document.querySelector('#train')?.getAttribute('data-state') === 'running',
    );
    await page.waitForFunction(
      (was) => document.querySelector('#train-stats td[data-key="step"]')?.textContent !== was,
      at,
    );
    await page.click('#train-stop');
    await page.waitForFunction(
      () => document.querySelector('#train')?.getAttribute('data-state') === 'stopped',
    );
    expect(await page.textContent('#train-status')).toMatch(/^stopped at step \d+ of 5000 on cpu/);
    expect(await page.isDisabled('#train-start')).toBe(false);
    expect(await page.isDisabled('#train-download')).toBe(false);
  });

  it('logs no console errors', () => {
    expect(playground.problems).toEqual([]);
  });
});

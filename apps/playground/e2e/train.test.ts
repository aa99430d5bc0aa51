// The "train" panel in Chromium: the character model, built from scratch, trains in a Web Worker on the
// CPU (WebAssembly SIMD) for a few hundred steps; the loss falls, samples appear, and the checkpoint it
// downloads loads in apps/char-rnn's loader (PyTorch loads what saveSafetensors writes: the round trip
// committed in fixtures/roundtrip.json, checked by packages/nn/src/roundtrip.test.ts).
import { mkdirSync, readFileSync } from 'node:fs';
import { generate, loadCharModel } from '@recurrent/char-rnn';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleText } from '../src/char-trainer.js';
import { DEFAULT_TRAIN_CONFIG } from '../src/train-protocol.js';
import { openPlayground, type Playground, ROOT } from './chromium.js';

const STEPS = 300;
const { vocab } = JSON.parse(
  readFileSync(new URL('../../char-rnn/model/generation.json', import.meta.url), 'utf8'),
) as { vocab: string[] };

describe('the train panel in Chromium', () => {
  let playground: Playground;
  let page: Page;
  /** The worker's sample after the last step, without the prompt. */
  let lastSample = '';
  const stat = async (key: string): Promise<string> =>
    (await page.textContent(`#train-stats td[data-key="${key}"]`)) ?? '';

  beforeAll(async () => {
    playground = await openPlayground();
    page = playground.page;
  });

  afterAll(() => playground?.close());

  it('says where it trains, and that WebGPU training is coming', async () => {
    expect(await page.textContent('#train-note')).toMatch(
      /^WebGPU is on in this browser, but training on WebGPU is coming/,
    );
    expect(await page.isDisabled('#train-backend option[value="webgpu"]')).toBe(true);
    expect(await page.isDisabled('#train-download')).toBe(true);
  });

  it(`trains ${STEPS} steps in a worker: the loss falls and samples appear`, {
    timeout: 150_000,
  }, async () => {
    const started = Date.now();
    await page.fill('#train-steps', String(STEPS));
    await page.selectOption('#train-backend', 'cpu');
    await page.click('#train-start');
    await page.waitForFunction(
      () => document.querySelector('#train')?.getAttribute('data-state') === 'running',
    );
    // the main thread answers at once while the worker trains
    const before = Date.now();
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    expect(Date.now() - before).toBeLessThan(1000);
    await page.waitForFunction(
      () =>
        !['starting', 'running'].includes(document.querySelector('#train')?.getAttribute('data-state') ?? ''),
      undefined,
      { timeout: 140_000 },
    );
    expect(await page.textContent('#train-error')).toBe('');
    expect(await page.getAttribute('#train', 'data-state')).toBe('done');
    console.log(
      `trained ${STEPS} steps in ${((Date.now() - started) / 1000).toFixed(1)} s: ${await page.textContent('#train-status')}`,
    );

    expect(await stat('backend')).toMatch(/^cpu \(WebAssembly SIMD/);
    expect(await stat('step')).toBe(`${STEPS} of ${STEPS}`);
    expect(Number(await stat('steps/s'))).toBeGreaterThan(0);
    const first = Number(await stat('loss, mean of the first 20 steps'));
    const last = Number(await stat('loss, mean of the last 20 steps'));
    expect(Number(await stat('ln(vocabulary size), a uniform guess'))).toBeCloseTo(Math.log(vocab.length), 4);
    expect(first).toBeGreaterThan(2.5); // near ln(56) = 4.03 at the start
    expect(last).toBeLessThan(0.8 * first);
    expect(last).toBeLessThan(Math.log(vocab.length));
    expect(await page.textContent('#train-status')).toMatch(
      new RegExp(`^trained ${STEPS} steps, \\d+\\.\\d steps/s on cpu \\(WebAssembly SIMD`),
    );

    // step 0 (untrained), then every 100 steps, newest first
    const steps = await page.$$eval('#train-samples figure', (fs) =>
      fs.map((f) => (f as HTMLElement).dataset.step),
    );
    expect(steps).toEqual(['300', '200', '100', '0']);
    const sample = (await page.textContent('#train-samples figure pre')) ?? '';
    const { prompt, sampleLength } = DEFAULT_TRAIN_CONFIG;
    expect(sample.startsWith(prompt)).toBe(true);
    lastSample = sample.slice(prompt.length);
    expect(lastSample).toHaveLength(sampleLength);
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
  });

  it('downloads the checkpoint: safetensors with PyTorch keys that the char-rnn loader takes', {
    timeout: 60_000,
  }, async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
    expect(download.suggestedFilename()).toBe(`char_lstm_step${STEPS}.safetensors`);
    const path = await download.path();
    const bytes = new Uint8Array(readFileSync(path));

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
    // and holds the model that wrote the worker's last sample: the same seeded draws give the same text
    const c = DEFAULT_TRAIN_CONFIG;
    const options = { prompt: c.prompt, length: c.sampleLength, temperature: c.temperature, seed: c.seed };
    expect(await sampleText(model, vocab, options)).toBe(lastSample);
  });

  it('pauses, resumes and stops a run', { timeout: 60_000 }, async () => {
    await page.fill('#train-steps', '5000');
    await page.click('#train-start');
    await page.waitForFunction(
      () => Number(document.querySelector('#train-stats td[data-key="loss"]')?.textContent) > 0,
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

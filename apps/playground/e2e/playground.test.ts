import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayground, type Playground, ROOT } from './chromium.js';

const torch = JSON.parse(
  readFileSync(new URL('../../../fixtures/notebook.json', import.meta.url), 'utf8'),
) as Record<string, { output: string; h_n: string }>;

const afterCheckpoint = JSON.parse(
  readFileSync(new URL('../../../fixtures/playground.json', import.meta.url), 'utf8'),
) as { output00: string };

describe('the playground in Chromium', () => {
  let playground: Playground;
  let page: Page;

  beforeAll(async () => {
    playground = await openPlayground();
    page = playground.page;
  });

  afterAll(() => playground?.close());

  const cellText = (n: number): Promise<string> =>
    page.textContent(`article[data-cell="${n}"] pre.output`) as Promise<string>;
  const result = async (key: string): Promise<string> =>
    (await page.textContent(`#results td[data-key="${key}"]`, { timeout: 120_000 })) ?? '';

  it('shows the notebook cells with the shapes and numbers PyTorch printed', async () => {
    const [one, two, three] = [await cellText(1), await cellText(2), await cellText(3)];
    expect(one).toContain('output.shape = [1, 2, 3]');
    expect(one).toContain('h_n.shape = [1, 1, 3]');
    expect(one).toContain(torch.cell1?.output);
    expect(two).toContain('output.shape = [1, 2, 6]');
    expect(two).toContain('h_n.shape = [2, 1, 3]');
    expect(three).toContain(torch.cell3?.output);
    const diff = Number(/max \|output - custom_output\| = (\S+)/.exec(three)?.[1]);
    expect(diff).toBeLessThan(1e-5);
  });

  it('has WebGPU on', async () => {
    expect(await page.textContent('#gpu-status')).toBe('WebGPU is on');
  });

  it('runs a changed configuration on CPU and WebGPU with matching results', async () => {
    await page.fill('#cfg-hiddenSize', '7');
    await page.fill('#cfg-numLayers', '2');
    await page.check('#cfg-bidirectional');
    await page.fill('#cfg-seqLen', '20');
    await page.click('#run-both');
    await page.waitForSelector('#results td[data-key="max |diff| webgpu vs cpu"]', { timeout: 120_000 });
    expect(await result('output shape')).toBe('[2, 20, 14]');
    expect(await result('h_n shape')).toBe('[4, 2, 7]');
    // outputs are tanh values (|want| ≤ 1), so the project tolerance 1e-5 + 1e-4·|want| is at most 1.1e-4
    expect(Number(await result('max |diff| webgpu vs cpu'))).toBeLessThanOrEqual(1e-4);
    expect(Number(await result('max |diff| webgpu vs reference'))).toBeLessThanOrEqual(1e-4);
    expect(Number(await result('max |diff| cpu vs reference'))).toBeLessThanOrEqual(1e-5);
    expect(await result('webgpu forward + readback (median)')).toMatch(/^\d+\.\d\d ms$/);
    // the WebAssembly SIMD kernels, compiled in the page without a bundler plugin
    expect(await page.textContent('#wasm-status')).toBe('WebAssembly SIMD is on');
    expect(Number(await result('max |diff| cpu-wasm vs reference'))).toBeLessThanOrEqual(1e-4);
    expect(Number(await result('max |diff| cpu-wasm vs cpu'))).toBeLessThanOrEqual(1e-4);
    expect(await result('cpu-wasm forward + readback (median)')).toMatch(/^\d+\.\d\d ms$/);
  });

  it('draws the heatmap of hidden states', async () => {
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector('#heatmap') as HTMLCanvasElement;
      const data = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        0,
        0,
        canvas.width,
        canvas.height,
      ).data;
      let colored = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] !== 0 && !(data[i] === 255 && data[i + 1] === 255 && data[i + 2] === 255)) colored++;
      return colored / (data.length / 4);
    });
    expect(painted).toBeGreaterThan(0.5);
    expect(await page.locator('#layer-select option').count()).toBe(4); // 2 layers × 2 directions
  });

  it('shows a bad option next to its field instead of throwing', async () => {
    await page.fill('#cfg-hiddenSize', '0');
    await page.click('#run-cpu');
    expect(await page.textContent('[data-error-for="hiddenSize"]')).toBe(
      'must be an integer >= 1, received 0',
    );
    await page.fill('#cfg-hiddenSize', '7');
    await page.click('#run-cpu');
    expect(await page.textContent('[data-error-for="hiddenSize"]')).toBe('');
  });

  it('loads a PyTorch checkpoint from the file picker and configures itself from it', async () => {
    const file = fileURLToPath(
      new URL('../../../fixtures/checkpoints/bidirectional_2layers_batch_first.safetensors', import.meta.url),
    );
    await page.setInputFiles('#checkpoint', file);
    await page.waitForFunction(() =>
      document.querySelector('#checkpoint-status')?.textContent?.startsWith('loaded'),
    );
    expect(await page.textContent('#checkpoint-status')).toBe(
      'loaded 16 tensors from bidirectional_2layers_batch_first.safetensors',
    );
    expect(await page.inputValue('#cfg-hiddenSize')).toBe('7');
    await page.waitForFunction(
      () => document.querySelector('td[data-key="output shape"]')?.textContent === '[2, 20, 14]',
    );
    expect(Number(await result('max |diff| cpu vs reference'))).toBeLessThanOrEqual(1e-5);
    // PyTorch, loading the same file under the same seed and drawing the same input, printed this
    expect(await result('output[0, 0]')).toBe(afterCheckpoint.output00);
  });

  it('runs an LSTM with projSize and a GRU on CPU and WebGPU, matching the reference', async () => {
    await page.selectOption('#cfg-module', 'LSTM');
    expect(await page.isDisabled('#cfg-nonlinearity')).toBe(true);
    expect(await page.isDisabled('#cfg-projSize')).toBe(false);
    await page.fill('#cfg-projSize', '3');
    await page.fill('#cfg-seqLen', '12');
    await page.click('#run-both');
    await page.waitForFunction(
      () => document.querySelector('td[data-key="output shape"]')?.textContent === '[2, 12, 6]',
      undefined,
      { timeout: 120_000 },
    );
    await page.waitForSelector('#results td[data-key="max |diff| webgpu vs cpu"]', { timeout: 120_000 });
    expect(await result('h_n shape')).toBe('[4, 2, 3]'); // h has projSize features
    expect(Number(await result('max |diff| cpu vs reference'))).toBeLessThanOrEqual(1e-5);
    expect(Number(await result('max |diff| cpu-wasm vs reference'))).toBeLessThanOrEqual(1e-4);
    expect(Number(await result('max |diff| webgpu vs reference'))).toBeLessThanOrEqual(1e-4);

    await page.selectOption('#cfg-module', 'GRU');
    expect(await page.isDisabled('#cfg-projSize')).toBe(true);
    await page.click('#run-both');
    await page.waitForFunction(
      () => document.querySelector('td[data-key="h_n shape"]')?.textContent === '[4, 2, 7]',
      undefined,
      { timeout: 120_000 },
    );
    await page.waitForSelector('#results td[data-key="max |diff| webgpu vs cpu"]', { timeout: 120_000 });
    expect(await result('output shape')).toBe('[2, 12, 14]');
    expect(Number(await result('max |diff| cpu vs reference'))).toBeLessThanOrEqual(1e-5);
    expect(Number(await result('max |diff| webgpu vs reference'))).toBeLessThanOrEqual(1e-4);
  });

  it('loads a PyTorch LSTM checkpoint and switches the configurator to LSTM', async () => {
    const file = fileURLToPath(
      new URL(
        '../../../fixtures/checkpoints/lstm_proj_bidirectional_2layers_batch_first.safetensors',
        import.meta.url,
      ),
    );
    await page.setInputFiles('#checkpoint', file);
    await page.waitForFunction(() =>
      document.querySelector('#checkpoint-status')?.textContent?.includes('lstm_proj'),
    );
    expect(await page.textContent('#checkpoint-status')).toBe(
      'loaded 20 tensors from lstm_proj_bidirectional_2layers_batch_first.safetensors',
    );
    expect(await page.inputValue('#cfg-module')).toBe('LSTM');
    expect(await page.inputValue('#cfg-projSize')).toBe('3');
    await page.waitForFunction(
      () => document.querySelector('td[data-key="h_n shape"]')?.textContent === '[4, 2, 3]',
    );
    expect(Number(await result('max |diff| cpu vs reference'))).toBeLessThanOrEqual(1e-5);
  });

  it('without WebGPU, runs on the CPU and says why the GPU is off', async () => {
    const noGpu = await playground.browser.newPage();
    const errors: string[] = [];
    noGpu.on('pageerror', (e) => errors.push(e.message));
    // an old browser: no navigator.gpu at all
    await noGpu.addInitScript(() => {
      Reflect.deleteProperty(Navigator.prototype, 'gpu');
    });
    await noGpu.goto(playground.url);
    await noGpu.waitForSelector('body[data-ready="true"]');
    expect(await noGpu.textContent('#gpu-status')).toMatch(
      /^WebGPU is off — running on the CPU only: this browser has no WebGPU/,
    );
    expect(await noGpu.isDisabled('#run-gpu')).toBe(true);
    await noGpu.waitForSelector('#results td[data-key="output shape"]');
    expect(await noGpu.textContent('#results td[data-key="output shape"]')).toBe('[2, 32, 12]');
    const diff = await noGpu.textContent('#results td[data-key="max |diff| cpu vs reference"]');
    expect(Number(diff)).toBeLessThanOrEqual(1e-5);
    expect(errors).toEqual([]);
    await noGpu.close();
  });

  it('logs no console errors, and saves a screenshot', async () => {
    mkdirSync(`${ROOT}/test-results`, { recursive: true });
    await page.screenshot({ path: `${ROOT}/test-results/playground.png`, fullPage: true });
    expect(playground.problems).toEqual([]);
  });
});

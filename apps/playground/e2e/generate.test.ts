// The "generate" panel in Chromium: apps/char-rnn's checkpoint, fetched as a static asset, generates from
// the committed prompt the very text PyTorch generated (model/generation.json), on the CPU and on WebGPU.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayground, type Playground, ROOT } from './chromium.js';

const torch = JSON.parse(
  readFileSync(new URL('../../char-rnn/model/generation.json', import.meta.url), 'utf8'),
) as { prompt: string; steps: number; text: string };

describe('the generate panel in Chromium', () => {
  let playground: Playground;
  let page: Page;

  beforeAll(async () => {
    playground = await openPlayground();
    page = playground.page;
  });

  afterAll(() => playground?.close());

  /** Generates from the committed prompt on `backend`; the generated text and the status line. */
  async function generateOn(backend: 'cpu' | 'ts' | 'webgpu'): Promise<{ text: string; status: string }> {
    await page.fill('#gen-prompt', torch.prompt);
    await page.fill('#gen-steps', String(torch.steps));
    await page.selectOption('#gen-backend', backend);
    await page.click('#gen-run');
    // the click handler marks the panel 'running' before its first await; 'done' or 'error' at the end
    await page.waitForFunction(
      () => document.querySelector('#generate')?.getAttribute('data-state') !== 'running',
      undefined,
      { timeout: 500_000 },
    );
    expect(await page.textContent('#gen-error')).toBe('');
    expect(await page.getAttribute('#generate', 'data-state')).toBe('done');
    return {
      text: (await page.textContent('#gen-text')) ?? '',
      status: (await page.textContent('#gen-status')) ?? '',
    };
  }

  it("generates PyTorch's text on the CPU (WebAssembly SIMD)", { timeout: 300_000 }, async () => {
    const { text, status } = await generateOn('cpu');
    expect(text).toBe(torch.text);
    expect(await page.textContent('#gen-echo')).toBe(torch.prompt);
    expect(status).toMatch(new RegExp(`^${torch.steps} characters on cpu \\(WebAssembly SIMD`));
  });

  it("generates PyTorch's text on the CPU in plain TypeScript", { timeout: 300_000 }, async () => {
    const { text, status } = await generateOn('ts');
    expect(text).toBe(torch.text);
    expect(status).toMatch(new RegExp(`^${torch.steps} characters on cpu \\(TypeScript\\)`));
  });

  it("generates PyTorch's text on WebGPU", { timeout: 600_000 }, async () => {
    const { text, status } = await generateOn('webgpu');
    expect(text).toBe(torch.text);
    expect(status).toMatch(new RegExp(`^${torch.steps} characters on webgpu`));
  });

  it('names a prompt character the model does not know', async () => {
    await page.fill('#gen-prompt', 'MENENIUS~');
    await page.selectOption('#gen-backend', 'cpu');
    await page.click('#gen-run');
    await page.waitForFunction(
      () => document.querySelector('#generate')?.getAttribute('data-state') === 'error',
    );
    expect(await page.textContent('#gen-error')).toMatch(
      /^the character "~" at 8 is not in the model's vocabulary/,
    );
  });

  it('logs no console errors, and saves a screenshot of the panel', async () => {
    mkdirSync(`${ROOT}/test-results`, { recursive: true });
    await page.locator('#generate').screenshot({ path: `${ROOT}/test-results/generate.png` });
    expect(playground.problems).toEqual([]);
  });
});

// What every e2e test shares: the built playground served by `vite preview`, Debian's Chromium with WebGPU
// on SwiftShader (never a downloaded browser), and a page that records its console errors.
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';

/** The playground's root (where `vite build` wrote `dist/`, and the tests write `test-results/`). */
export const ROOT: string = fileURLToPath(new URL('..', import.meta.url));

export const CHROMIUM_ARGS: string[] = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A served playground open in Chromium. */
export interface Playground {
  server: PreviewServer;
  browser: Browser;
  /** The page, loaded and ready (`body[data-ready="true"]`). */
  page: Page;
  /** The page's address. */
  url: string;
  /** The page's console errors, uncaught errors and failed requests, as they happen. */
  problems: string[];
  close(): Promise<void>;
}

/** Records `page`'s console errors, uncaught errors and failed requests in `problems`. */
export function watchProblems(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
}

/** Serves the built playground, opens it in Chromium and waits until it is ready. */
export async function openPlayground(): Promise<Playground> {
  const server = await preview({ root: ROOT, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    const problems: string[] = [];
    watchProblems(page, problems);
    const url = server.resolvedUrls?.local[0] ?? '';
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    return { server, browser, page, url, problems, close };
  } catch (error) {
    await close();
    throw error;
  }
}

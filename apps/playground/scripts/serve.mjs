// Serves the built playground (pnpm demo), and the API reference at /docs/ (the build copies site/docs there).
// `--check` starts it, fetches the page, the reference's index and one symbol's page once, and exits.
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const server = await preview({ root, preview: { port: check ? 0 : 4173, host: '127.0.0.1' } });
const url = server.resolvedUrls?.local[0];
console.log(`\n  recurrent playground: ${url}\n  API reference:        ${new URL('docs/', url)}\n`);
if (check) {
  // [what is fetched, its path, a text the page must hold]
  const pages = [
    ['the page', '', 'recurrent playground'],
    ['the API reference', 'docs/index.html', 'Documentation for recurrent'],
    ['/docs (redirected to /docs/)', 'docs', 'Documentation for recurrent'],
    ["a symbol's page", 'docs/classes/_recurrent_nn.LSTM.html', 'torch.nn.LSTM'],
  ];
  let ok = true;
  for (const [what, path, text] of pages) {
    const response = await fetch(new URL(path, url));
    const served = response.ok && (await response.text()).includes(text);
    console.log(served ? `  ${what} is served` : `  ${what} failed (/${path}): HTTP ${response.status}`);
    ok &&= served;
  }
  await server.close();
  process.exit(ok ? 0 : 1);
}

// Serves the built playground (pnpm demo). `--check` starts it, fetches the page once and exits.
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const server = await preview({ root, preview: { port: check ? 0 : 4173, host: '127.0.0.1' } });
const url = server.resolvedUrls?.local[0];
console.log(`\n  recurrent playground: ${url}\n`);
if (check) {
  const response = await fetch(url);
  const ok = response.ok && (await response.text()).includes('recurrent playground');
  console.log(ok ? '  the page is served' : `  the page failed: HTTP ${response.status}`);
  await server.close();
  process.exit(ok ? 0 : 1);
}

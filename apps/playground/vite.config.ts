import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

// The API reference and guides, written by `pnpm run docs` (turbo builds them before the playground).
const apiDocs = fileURLToPath(new URL('../../site/docs', import.meta.url));

/**
 * Copies the API reference into the build as `docs/`, so `pnpm demo` (vite preview) serves it at /docs/;
 * the preview redirects `/docs` there (the pages link relatively).
 */
function apiReference(): Plugin {
  let outDir: string | undefined;
  return {
    name: 'recurrent:api-reference',
    configResolved(config) {
      if (config.command === 'build') outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      if (outDir === undefined) return;
      if (!existsSync(join(apiDocs, 'index.html'))) {
        this.warn('no API reference for /docs/: run `pnpm run docs` first (turbo does before the demo)');
        return;
      }
      cpSync(apiDocs, join(outDir, 'docs'), { recursive: true });
    },
    configurePreviewServer(server) {
      server.middlewares.use((request, response, next) => {
        if (!/^\/docs(\?|$)/.test(request.url ?? '')) return next();
        response.writeHead(301, { Location: '/docs/' }).end();
      });
    },
  };
}

// In dev the workspace packages are read from source (the `@recurrent/source` export condition);
// a production build consumes their built `dist/` like any npm consumer would.
export default defineConfig(({ command }) => ({
  resolve: {
    conditions:
      command === 'serve' ? ['@recurrent/source', ...defaultClientConditions] : [...defaultClientConditions],
  },
  build: { target: 'es2022' },
  // the train panel's module worker (new Worker(…, { type: 'module' })) loads its chunks as ES modules
  worker: { format: 'es' },
  preview: { host: '127.0.0.1' },
  plugins: [apiReference()],
}));

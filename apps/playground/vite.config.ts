import { defaultClientConditions, defineConfig } from 'vite';

// In dev the workspace packages are read from source (the `@recurrent/source` export condition);
// a production build consumes their built `dist/` like any npm consumer would.
export default defineConfig(({ command }) => ({
  resolve: {
    conditions:
      command === 'serve' ? ['@recurrent/source', ...defaultClientConditions] : [...defaultClientConditions],
  },
  build: { target: 'es2022' },
  preview: { host: '127.0.0.1' },
}));

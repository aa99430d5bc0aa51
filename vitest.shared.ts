import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/** Tests run on the packages' `src/` through the `@recurrent/source` export condition: no build needed. */
const conditions = ['@recurrent/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
  },
});

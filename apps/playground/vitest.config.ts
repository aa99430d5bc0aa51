import { defineConfig } from 'vitest/config';

// The end-to-end test drives a real Chromium against the built site (turbo builds it first).
export default defineConfig({
  test: { include: ['e2e/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000 },
});

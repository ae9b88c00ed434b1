import { defineConfig } from 'vitest/config';

// Compat tests start real brokers and real clients: one file at a time on a 2-core machine.
export default defineConfig({
  test: {
    include: ['compat-tests/**/*.test.ts'],
    testTimeout: 120000,
    hookTimeout: 60000,
    fileParallelism: false,
  },
});

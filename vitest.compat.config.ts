import { defineConfig } from 'vitest/config';

// Compat tests start real brokers and real clients: one file at a time on a 2-core machine.
// STREAMHOUSE_TEST_BACKEND=postgres-s3 runs them on PostgreSQL + S3 (s3rver) instead of
// SQLite + a local directory; the setup file stops that backend after each file.
export default defineConfig({
  test: {
    include: ['compat-tests/**/*.test.ts'],
    setupFiles: ['compat-tests/backends/setup.ts'],
    testTimeout: 120000,
    hookTimeout: 60000,
    fileParallelism: false,
  },
});

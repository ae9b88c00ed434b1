// Vitest setup file of the compat suite (vitest.compat.config.ts): runs in every test file's
// process. Hooks run in reverse order of registration, so this afterAll comes after the
// test file's own, once its brokers are stopped.

import { afterAll } from 'vitest';
import { stopSharedPostgresS3, testBackendName } from './test-backend.js';

// fail fast on a misspelt STREAMHOUSE_TEST_BACKEND rather than silently testing the default
testBackendName();

afterAll(async () => {
  await stopSharedPostgresS3();
}, 60_000);

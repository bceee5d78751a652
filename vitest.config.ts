// Vitest settings for `npm test`: every test/**/*.test.ts in forked workers, two at a time (the
// machine has 2 cores), with timeouts long enough for the end-to-end pipeline tests.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});

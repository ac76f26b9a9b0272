import { defineConfig } from 'vitest/config';

/** `npm run bench`: the side-by-side benchmark, kept out of `npm test` (no timed assertions there). */
export default defineConfig({
  test: {
    include: ['bench/**/*.bench-run.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // One scenario file at a time: two benchmarks sharing two cores would time each other.
    fileParallelism: false,
    silent: false,
  },
});

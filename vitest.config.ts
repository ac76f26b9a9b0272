import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests import the package by its name, as a user does; they run the sources.
  resolve: { alias: { tug: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The CLI tests run dist/: build it first, so a change in src/ is never tested stale.
    globalSetup: ['./test/fixtures/build-dist.ts'],
    reporters: ['default', './test/fixtures/summary-reporter.ts'],
  },
});

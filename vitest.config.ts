import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'demo/**/*.test.ts'],
    // The tests that start `bin/sluice.js` as users do need today's build.
    globalSetup: ['./test/support/build-dist.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A `.only` left behind would silently run a part of the suite: refuse it everywhere.
    allowOnly: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});

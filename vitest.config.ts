import { defineConfig } from 'vitest/config';

// Two tiers: the fast tier (unit, property, simulation) runs in parallel and starts no processes;
// the integration tier starts real node processes, so its files run one at a time.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print the closing "N passed, N failed" line from the runner's own counts.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        test: {
          name: 'fast',
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/sim/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

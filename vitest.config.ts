import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/**/*.unit.test.ts',
            'services/**/*.unit.test.ts',
            'test/**/*.unit.test.ts',
            'bench/**/*.unit.test.ts',
          ],
        },
      },
      {
        test: {
          // The real local Redis, each test under a key prefix of its own.
          name: 'integration',
          include: [
            'packages/**/*.integration.test.ts',
            'services/**/*.integration.test.ts',
            'bench/**/*.integration.test.ts',
          ],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          globalSetup: ['./test/setup/cluster.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Test files share one cluster; running them one at a time keeps timings predictable on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});

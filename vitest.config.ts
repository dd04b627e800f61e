import { defineConfig } from 'vitest/config';

// Unit tests (co-located, no network) run first; integration tests talk to real servers.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup: ['test/pglite-template.setup.ts'],
          include: ['functions/**/*.test.ts', 'shared/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/contract/**/*.test.ts', 'console/src/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/chaos.test.ts', 'test/integration/broker-outage.test.ts', 'test/integration/hierarchy-e2e.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // The web console in real headless Chromium (Debian's, at /usr/bin/chromium) against the embedded runtime.
        test: {
          name: 'browser',
          globalSetup: ['test/pglite-template.setup.ts'],
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // 40 SDK agents on all four real servers (npm test runs it after integration; alone: npm run test:e2e).
        // Its start-up steps are bounded one by one, so a hang fails naming the step, well inside the hook timeout.
        test: {
          name: 'e2e',
          include: ['test/integration/hierarchy-e2e.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // Kills processes and restarts the shared servers: npm test's last step, never beside other tests
        // (alone: npm run test:chaos). Every wait in it is bounded and names what it waited for.
        test: {
          name: 'chaos',
          include: ['test/integration/chaos.test.ts', 'test/integration/broker-outage.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

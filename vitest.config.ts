import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests without services, and integration tests that need the real
// Kafka broker, Redis and embedded ClickHouse (scripts/test.sh starts them first).
export default defineConfig({
  test: {
    // The second reporter names each optional tool whose absence skipped tests (shared/src/required-tools.ts).
    reporters: ['default', './scripts/tool-skips-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/test/**/*.test.ts', 'scripts/test/**/*.test.ts', 'services/*/test/unit/**/*.test.ts', 'tools/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.faults.test.ts', '**/*.cluster.test.ts', '**/node_modules/**'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          // Hostile-request suites that need Kafka/Redis live beside the integration tests as *.security.test.ts.
          include: ['**/*.int.test.ts', '**/test/integration/**/*.security.test.ts'],
          exclude: ['**/node_modules/**', '**/*.faults.test.ts', '**/*.cluster.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The broker and the 2-core machine are shared; parallel files would only add contention.
          fileParallelism: false,
        },
      },
      {
        test: {
          // The cluster drill (`npm run test:cluster`): three brokers and replicas of every service.
          name: 'cluster',
          include: ['**/*.cluster.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 1_200_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['**/*.faults.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

/** Every tier fails when it leaves something in the temp dir (first: its teardown runs last). */
const TEMP_CHECK = 'test/temp-check.ts';

/**
 * Test output shows failures, not logs: the runtime's logger (Powertools) is silent in tests
 * unless KEYGATE_TEST_LOGS=1 is set, and so are its metrics' EMF lines (Powertools Metrics writes
 * nothing with POWERTOOLS_METRICS_DISABLED; the in-process tally, `metricCount`, still counts).
 * Tests that assert on log lines or EMF lines turn them back on (`test/helpers/logs-on.ts`,
 * `test/helpers/metrics-on.ts`); processes they start (`npm start`, the CLI) get what they would
 * have had without this (`cleanEnv` of test/helpers/local-instance.ts).
 */
const LOGS = process.env.KEYGATE_TEST_LOGS === '1';
const LOG_LEVEL = LOGS ? (process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') : 'SILENT';
const METRICS_DISABLED = LOGS ? (process.env.POWERTOOLS_METRICS_DISABLED ?? 'false') : 'true';

export default defineConfig({
  // The package's own names (`keygate/runtime` in the example) resolve to the sources here, as
  // tsconfig.json's `paths` say; a consumer's tools get dist/ through package.json's exports.
  resolve: { tsconfigPaths: true },
  test: {
    env: { POWERTOOLS_LOG_LEVEL: LOG_LEVEL, POWERTOOLS_METRICS_DISABLED: METRICS_DISABLED },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          globalSetup: [TEMP_CHECK],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: [TEMP_CHECK, 'test/integration/global-setup.ts'],
          setupFiles: ['test/integration/setup-env.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: [TEMP_CHECK],
          // Whole user journeys in a real browser, beside the other tiers on 2 cores: generous
          // limits, so a busy machine slows them down without failing them.
          testTimeout: 240_000,
          hookTimeout: 240_000,
          expect: { poll: { timeout: 30_000 } },
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          globalSetup: [TEMP_CHECK, 'test/infra/global-setup.ts'],
          setupFiles: ['test/infra/setup.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});

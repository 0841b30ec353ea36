import { setLogLevel } from '../../shared/observability/logger.js';

/**
 * Tests run with the runtime's logger silent (`POWERTOOLS_LOG_LEVEL=SILENT`) and its metrics
 * unwritten (`POWERTOOLS_METRICS_DISABLED=true`), both set by vitest.config.ts unless
 * KEYGATE_TEST_LOGS=1: their output shows failures, not logs.
 *
 * `withRuntimeLogLevel(env)`: `env` with the level (and metrics) it would have had without that,
 * for what needs the logs: a process a test starts and reads (`npm start`, the CLI), or a test
 * file that asserts on log lines (`test/helpers/logs-on.ts`).
 */
export function withRuntimeLogLevel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.POWERTOOLS_LOG_LEVEL !== 'SILENT' || process.env.KEYGATE_TEST_LOGS === '1') return env;
  const { POWERTOOLS_LOG_LEVEL: _silent, POWERTOOLS_METRICS_DISABLED: _unwritten, ...rest } = env;
  return rest;
}

/**
 * The runtime's logger (`logger` of shared/observability/logger.ts) logs at INFO, as outside the
 * tests, until the function returned is called: for a test that captures its lines.
 */
export function runtimeLogsOn(): () => void {
  if (withRuntimeLogLevel(process.env) === process.env) return () => {};
  setLogLevel('INFO');
  return () => setLogLevel('SILENT');
}

/**
 * Import first in a test file that asserts on EMF lines: the Powertools Metrics instances made
 * from here on write them, as outside the tests (an instance reads POWERTOOLS_METRICS_DISABLED,
 * which vitest.config.ts sets, when it is made: the shared one on first use, `bufferedMetrics`).
 * They write to stdout through a Console of their own: capture it with a spy on
 * `process.stdout.write`.
 *
 * @example
 * import '../helpers/metrics-on.js';
 */
delete process.env.POWERTOOLS_METRICS_DISABLED;

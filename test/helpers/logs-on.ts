import { withRuntimeLogLevel } from './log-level.js';

/**
 * Import first in a test file that makes loggers and asserts on their lines (`createLogger`
 * with a writer): the loggers made from here on get the level they would have had without the
 * test run's silence (a logger reads it when it is made). For the runtime's own logger, made
 * already, see `runtimeLogsOn`.
 *
 * @example
 * import '../helpers/logs-on.js';
 */
if (withRuntimeLogLevel(process.env) !== process.env) delete process.env.POWERTOOLS_LOG_LEVEL;

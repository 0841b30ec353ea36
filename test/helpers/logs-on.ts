import { withRuntimeLogLevel } from './log-level.js';

/**
 * Import first in a test file that asserts on what the runtime logs (a side-effect import: the
 * loggers read their level when they are made, i.e. when the modules that own them load).
 *
 * @example
 * import '../helpers/logs-on.js';
 */
if (withRuntimeLogLevel(process.env) !== process.env) delete process.env.POWERTOOLS_LOG_LEVEL;

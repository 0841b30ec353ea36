import { type LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { redactingReplacer } from './redact.js';

/**
 * Structured logs: Powertools for AWS Lambda's logger, with a JSON replacer that masks key
 * material and Authorization headers in every value it writes (messages, fields, nested
 * objects, errors and their causes), so a key that reaches a log call by mistake never leaves.
 */

export { redact, redactingReplacer } from './redact.js';

/** The logging surface Keygate uses (Powertools' logger satisfies it). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A redacting Powertools logger. `write` receives each JSON line instead of stdout (tests, and
 * the local runtime's own output).
 */
export function createLogger(
  persistentKeys: Record<string, unknown> = {},
  write?: (line: string) => void,
): Logger {
  return wrap(powertoolsLogger(persistentKeys, write));
}

/** The one configuration of every function's logger, and of the CLI's. */
function loggerOptions(persistentKeys: Record<string, unknown>) {
  return { serviceName: 'keygate', persistentKeys, jsonReplacerFn: redactingReplacer };
}

/**
 * Powertools' logger with its lines handed to `write`. Powertools writes through a Console of its
 * own, made from stdout when it is constructed (global `console` with POWERTOOLS_DEV, which also
 * indents the JSON); `printLog` is the protected seam its class leaves to subclasses (Logger's
 * TSDoc: "Important for customization and subclassing";
 * https://docs.aws.amazon.com/powertools/typescript/latest/features/logger/). The line is the one
 * Powertools would print: its replacer (ours first), compact.
 */
class LineLogger extends PowertoolsLogger {
  readonly #write: (line: string) => void;

  constructor(persistentKeys: Record<string, unknown>, write: (line: string) => void) {
    super(loggerOptions(persistentKeys));
    this.#write = write;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    this.#write(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

function powertoolsLogger(
  persistentKeys: Record<string, unknown>,
  write: ((line: string) => void) | undefined,
): PowertoolsLogger {
  return write
    ? new LineLogger(persistentKeys, write)
    : new PowertoolsLogger(loggerOptions(persistentKeys));
}

function wrap(logger: PowertoolsLogger): Logger {
  return {
    debug: (message, fields = {}) => logger.debug(message, fields),
    info: (message, fields = {}) => logger.info(message, fields),
    warn: (message, fields = {}) => logger.warn(message, fields),
    error: (message, fields = {}) => logger.error(message, fields),
  };
}

const runtimeLogger = powertoolsLogger({}, undefined);

/** The runtime's logger (stdout; level from POWERTOOLS_LOG_LEVEL, INFO by default). */
export const logger = wrap(runtimeLogger);

/**
 * Changes the level of `logger` once it is made (it reads POWERTOOLS_LOG_LEVEL only then): for
 * tests that assert on its lines in a run that silences it.
 */
export function setLogLevel(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT'): void {
  runtimeLogger.setLogLevel(level);
}

/**
 * Adds the invocation's Lambda context to every line `logger` writes from now on (Powertools'
 * `function_request_id`, `cold_start`, `function_name`, `function_arn`, `function_memory_size`):
 * every function calls it first, the authorizer included. Nothing without a context.
 */
export function addLambdaContext(context: Context | undefined): void {
  if (context) runtimeLogger.addContext(context);
}

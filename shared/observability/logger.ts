import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';

/**
 * Structured logs: Powertools for AWS Lambda's logger, with a JSON replacer that masks key
 * material and Authorization headers in every value it writes (messages, fields, nested
 * objects, errors and their causes), so a key that reaches a log call by mistake never leaves.
 */

// Any prefix (a deployment's prefix is not known to every caller of the logger), and no
// boundary check after the key: a redactor masks a key even when text is glued to it.
const ANY_KEY = /[A-Za-z][A-Za-z0-9_]{0,15}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/g;
// Stops at a quote or backslash, so masking inside serialised JSON keeps it valid JSON.
const BEARER = /(bearer\s+)[^\s"\\]+/gi;

/** Masks key material and bearer tokens in a string. */
export function redact(text: string): string {
  return text.replace(ANY_KEY, '[REDACTED KEY]').replace(BEARER, '$1[REDACTED]');
}

/** JSON replacer: masks `authorization` fields whole and key material in every string. */
export function redactingReplacer(name: string, value: unknown): unknown {
  if (name.toLowerCase() === 'authorization') return '[REDACTED]';
  return typeof value === 'string' ? redact(value) : value;
}

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
  const logger = new PowertoolsLogger({
    serviceName: 'keygate',
    persistentKeys,
    jsonReplacerFn: redactingReplacer,
  });
  if (write) {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) write(line);
        done();
      },
    });
    // Powertools writes through its own Console; pointing it at our stream is its only seam.
    (logger as unknown as { console: Console }).console = new Console({
      stdout: stream,
      stderr: stream,
    });
  }
  return {
    debug: (message, fields = {}) => logger.debug(message, fields),
    info: (message, fields = {}) => logger.info(message, fields),
    warn: (message, fields = {}) => logger.warn(message, fields),
    error: (message, fields = {}) => logger.error(message, fields),
  };
}

export const logger = createLogger();

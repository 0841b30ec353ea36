/**
 * A minimal JSON-lines logger. Everything it writes passes through {@link redact}, so a key that
 * reaches a log call by mistake (an error message, a header) is masked before it leaves.
 */

type Level = 'debug' | 'info' | 'warn' | 'error';
type Fields = Record<string, unknown>;

// Any prefix (a deployment's prefix is not known to every caller of the logger), and no
// boundary check after the key: a redactor masks a key even when text is glued to it.
const ANY_KEY = /[A-Za-z][A-Za-z0-9_]{0,15}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/g;
// Stops at a quote or backslash, so masking a serialised JSON line keeps it valid JSON.
const BEARER = /(bearer\s+)[^\s"\\]+/gi;

/** Masks key material and bearer tokens in a string. */
export function redact(text: string): string {
  return text.replace(ANY_KEY, '[REDACTED KEY]').replace(BEARER, '$1[REDACTED]');
}

function serialise(fields: Fields): string {
  return redact(
    JSON.stringify(fields, (name, value: unknown) => {
      if (name.toLowerCase() === 'authorization') return '[REDACTED]';
      if (value instanceof Error) {
        return { name: value.name, message: value.message, cause: value.cause };
      }
      return value;
    }),
  );
}

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/** Writes one JSON line per entry: `{"level","message","time",...fields}`. */
export function createLogger(
  base: Fields = {},
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const entry =
    (level: Level) =>
    (message: string, fields: Fields = {}) =>
      write(serialise({ level, message, time: new Date().toISOString(), ...base, ...fields }));
  return { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
}

export const logger = createLogger({ service: 'keygate' });

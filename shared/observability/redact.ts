/**
 * Masking key material in text: what every log line goes through. Apart from the logger (no
 * Powertools here), so the lightest bundles (a team's wrapped handler) can use it too.
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

// The runtime's logs are asserted on here: on, whatever the test run's level (first import).
import '../helpers/logs-on.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../shared/domain/key-format.js';
import { createLogger, type Logger, redact } from '../../shared/observability/logger.js';
import { buildKey } from './support.js';

const prefixArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/);
const keyArb = fc
  .tuple(
    prefixArb,
    fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    fc.stringMatching(/^[A-Za-z0-9_-]{37}$/),
  )
  .map(([prefix, keyId, random]) => buildKey(prefix, keyId, random));
/** Text around a key: anything, separated from the key by a non-base64url character. */
const beforeArb = fc.tuple(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(' ', '"', '=', ':', '\n', '/'),
);
const afterArb = fc.tuple(
  fc.constantFrom(' ', '"', ',', '\n', '.', '&'),
  fc.string({ maxLength: 20 }),
);

/** The secret part of a key: the part whose appearance anywhere would be a leak. */
const secretOf = (key: string): string => key.slice(-43);

function capture(base: Record<string, unknown> = {}): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger(base, (line) => lines.push(line)), lines };
}

describe('redact', () => {
  it('masks keys of any prefix embedded in text', () => {
    fc.assert(
      fc.property(beforeArb, keyArb, afterArb, ([text1, sep1], key, [sep2, text2]) => {
        // Arrange
        const text = `${text1}${sep1}${key}${sep2}${text2}`;

        // Act
        const redacted = redact(text);

        // Assert
        expect(redacted).not.toContain(secretOf(key));
        expect(redacted).toContain('[REDACTED KEY]');
      }),
    );
  });

  it('masks every key when a text holds several', () => {
    // Arrange
    const keys = [generateApiKey('SG').apiKey, generateApiKey('Acme').apiKey];
    const text = `first=${keys[0]}&second=${keys[1]}`;

    // Act
    const redacted = redact(text);

    // Assert
    expect(redacted).toBe('first=[REDACTED KEY]&second=[REDACTED KEY]');
  });

  it('masks bearer tokens whatever their case', () => {
    // Arrange
    const texts = [
      'Authorization: Bearer abc.def',
      'authorization: bearer abc.def',
      'BEARER  abc.def',
    ];

    // Act
    const redacted = texts.map(redact);

    // Assert
    for (const line of redacted) {
      expect(line).not.toContain('abc.def');
      expect(line).toContain('[REDACTED]');
    }
  });

  it('masks a key presented as a bearer token', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');

    // Act
    const redacted = redact(`Authorization: Bearer ${apiKey}`);

    // Assert
    expect(redacted).not.toContain(secretOf(apiKey));
    expect(redacted).not.toContain(apiKey.split('.')[1]);
  });

  it('masks a key glued to trailing base64url characters', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');

    // Act
    const redacted = [redact(`${apiKey}x`), redact(`${apiKey}-suffix`), redact(`${apiKey}_1`)];

    // Assert
    for (const line of redacted) expect(line).not.toContain(secretOf(apiKey));
  });

  it('leaves text without keys or tokens unchanged', () => {
    // Arrange
    const text = 'created key 0123456789abcdefghijkl for account acme (SG.short)';

    // Act
    const redacted = redact(text);

    // Assert
    expect(redacted).toBe(text);
  });
});

describe('createLogger', () => {
  it('writes one JSON line per call at INFO and above, with level, message, timestamp, base and fields', () => {
    // Arrange
    const { log, lines } = capture({ component: 'gate' });

    // Act
    log.debug('one', { a: 1 });
    log.info('two');
    log.warn('three', { nested: { b: [1, 2] } });
    log.error('four', { component: 'override' });

    // Assert
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain('\n');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.map((e) => [e.level, e.message])).toEqual([
      ['INFO', 'two'],
      ['WARN', 'three'],
      ['ERROR', 'four'],
    ]);
    expect(entries[0]).toMatchObject({ service: 'keygate', component: 'gate' });
    expect(entries[1]).toMatchObject({ nested: { b: [1, 2] } });
    expect(entries[2]?.component).toBe('override');
    for (const entry of entries)
      expect(Number.isNaN(Date.parse(String(entry.timestamp)))).toBe(false);
  });

  it('keeps a message with newlines on one line', () => {
    // Arrange
    const { log, lines } = capture();

    // Act
    log.info('line one\nline two', { detail: 'a\r\nb' });

    // Assert
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\r\n]/);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ message: 'line one\nline two' });
  });

  it('never outputs a key passed in a message', () => {
    fc.assert(
      fc.property(beforeArb, keyArb, afterArb, ([text1, sep1], key, [sep2, text2]) => {
        // Arrange
        const { log, lines } = capture();

        // Act
        log.info(`${text1}${sep1}${key}${sep2}${text2}`);

        // Assert
        expect(lines).toHaveLength(1);
        expect(lines[0]).not.toContain(secretOf(key));
      }),
    );
  });

  it('never outputs a key passed in a field, a nested object or an array', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        // Arrange
        const { log, lines } = capture();

        // Act
        log.info('request', { apiKey: key });
        log.info('request', { body: { name: 'x', credentials: { value: `key=${key}` } } });
        log.info('request', { list: ['a', key, 'b'] });

        // Assert
        expect(lines).toHaveLength(3);
        for (const line of lines) expect(line).not.toContain(secretOf(key));
      }),
    );
  });

  it('never outputs a key in an Error message or its cause', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');
    const { log, lines } = capture();
    const cause = new Error(`upstream rejected ${apiKey}`);

    // Act
    log.error('failed', { err: new Error(`bad key ${apiKey}`) });
    log.error('failed', { err: new Error('wrapped', { cause }) });

    // Assert
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain(secretOf(apiKey));
    const first = JSON.parse(lines[0] ?? '') as { err: { name: string; message: string } };
    expect(first.err).toMatchObject({ name: 'Error', message: 'bad key [REDACTED KEY]' });
    const second = JSON.parse(lines[1] ?? '') as { err: { cause: { message: string } } };
    expect(second.err.cause.message).toBe('upstream rejected [REDACTED KEY]');
  });

  it('masks authorization header fields whatever their case and content', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');
    const { log, lines } = capture();

    // Act
    log.info('request', { headers: { Authorization: `Bearer ${apiKey}` } });
    log.info('request', { headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' } });
    log.info('request', { AUTHORIZATION: 'opaque-token-123' });

    // Assert
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ headers: { Authorization: '[REDACTED]' } }),
      expect.objectContaining({ headers: { authorization: '[REDACTED]' } }),
      expect.objectContaining({ AUTHORIZATION: '[REDACTED]' }),
    ]);
    const output = lines.join('\n');
    expect(output).not.toContain(secretOf(apiKey));
    expect(output).not.toContain('dXNlcjpwYXNzd29yZA');
    expect(output).not.toContain('opaque-token-123');
  });

  it('never outputs a key passed in base fields', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');
    const { log, lines } = capture({ presented: apiKey });

    // Act
    log.info('hello');

    // Assert
    expect(lines[0]).not.toContain(secretOf(apiKey));
  });

  it('writes valid JSON when a message mentions a bearer token', () => {
    // Arrange
    const { log, lines } = capture({ component: 'gate' });

    // Act
    log.warn('rejected Bearer abc123', { requestId: 'r-1' });

    // Assert
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('abc123');
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'WARN', component: 'gate', requestId: 'r-1' });
  });

  it('writes valid JSON for any message and fields', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
        (message, fields) => {
          // Arrange
          const { log, lines } = capture();

          // Act
          log.info(message, fields);

          // Assert
          expect(lines).toHaveLength(1);
          expect(lines[0]).not.toMatch(/[\r\n]/);
          expect(() => JSON.parse(lines[0] ?? '')).not.toThrow();
        },
      ),
    );
  });
});

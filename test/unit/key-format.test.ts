import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertKeyPrefix,
  DEFAULT_KEY_PREFIX,
  generateApiKey,
  hashApiKey,
  hashesEqual,
  KEY_ID_PATTERN,
  keyDetectionPattern,
  parseApiKey,
  randomId,
} from '../../shared/domain/key-format.js';
import { BASE64URL_ALPHABET, buildKey, documentedChecksum } from './support.js';

const SG_KEY_SHAPE = /^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const BASE64URL_CHARS = [...BASE64URL_ALPHABET];

const keyIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
const random37Arb = fc.stringMatching(/^[A-Za-z0-9_-]{37}$/);
const prefixArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/);
const keyWithPrefixArb = (prefix: string) =>
  fc.tuple(keyIdArb, random37Arb).map(([keyId, random]) => buildKey(prefix, keyId, random));
/** A valid key under an arbitrary valid prefix, built with the documented checksum. */
const anyValidKeyArb = prefixArb.chain((prefix) =>
  keyWithPrefixArb(prefix).map((key) => ({ prefix, key })),
);

function detect(text: string, prefix?: string): string[] {
  return [...text.matchAll(keyDetectionPattern(prefix))].map((m) => m[1] ?? '');
}

describe('generateApiKey', () => {
  it('produces 69-character SG keys of the documented shape whose middle segment is the key ID', () => {
    for (let i = 0; i < 200; i += 1) {
      // Act
      const { apiKey, keyId } = generateApiKey(DEFAULT_KEY_PREFIX);

      // Assert
      expect(apiKey).toHaveLength(69);
      expect(apiKey).toMatch(SG_KEY_SHAPE);
      expect(apiKey.startsWith('SG.')).toBe(true);
      expect(apiKey.split('.')[1]).toBe(keyId);
      expect(keyId).toMatch(KEY_ID_PATTERN);
    }
  });

  it('produces keys that parse back to their own prefix, key ID and secret', () => {
    // Arrange
    const { apiKey, keyId } = generateApiKey('SG');

    // Act
    const parsed = parseApiKey(apiKey, 'SG');

    // Assert
    expect(parsed).toEqual({
      ok: true,
      key: { prefix: 'SG', keyId, secret: apiKey.slice('SG.'.length + 22 + 1) },
    });
  });

  it('ends every key with the documented checksum of everything before it', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');

    // Act
    const checksum = apiKey.slice(-6);

    // Assert
    expect(checksum).toBe(documentedChecksum(apiKey.slice(0, -6)));
  });

  it('produces a different key and key ID every time', () => {
    // Arrange
    const count = 500;

    // Act
    const generated = Array.from({ length: count }, () => generateApiKey('SG'));

    // Assert
    expect(new Set(generated.map((g) => g.apiKey)).size).toBe(count);
    expect(new Set(generated.map((g) => g.keyId)).size).toBe(count);
  });

  it('uses a custom prefix, and the key parses under that prefix only', () => {
    // Arrange
    const { apiKey, keyId } = generateApiKey('Acme_1');

    // Act
    const own = parseApiKey(apiKey, 'Acme_1');
    const other = parseApiKey(apiKey, 'SG');

    // Assert
    expect(apiKey).toMatch(/^Acme_1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toHaveLength('Acme_1'.length + 2 + 22 + 43);
    expect(own.ok && own.key.keyId).toBe(keyId);
    expect(other.ok).toBe(false);
  });

  it('rejects a key of another prefix of the same length as wrong_prefix', () => {
    // Arrange
    const { apiKey } = generateApiKey('XY');

    // Act
    const parsed = parseApiKey(apiKey, 'SG');

    // Assert
    expect(parsed).toEqual({ ok: false, reason: 'wrong_prefix' });
  });

  it('treats the prefix case-sensitively', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');

    // Act
    const parsed = parseApiKey(`sg${apiKey.slice(2)}`, 'SG');

    // Assert
    expect(parsed).toEqual({ ok: false, reason: 'wrong_prefix' });
  });

  it('returns a 22-character base64url ID from randomId', () => {
    // Act
    const ids = Array.from({ length: 100 }, () => randomId());

    // Assert
    for (const id of ids) expect(id).toMatch(KEY_ID_PATTERN);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('parseApiKey', () => {
  it('accepts every key built with the documented format, under any valid prefix', () => {
    fc.assert(
      fc.property(anyValidKeyArb, ({ prefix, key }) => {
        // Act
        const parsed = parseApiKey(key, prefix);

        // Assert
        expect(parsed).toEqual({
          ok: true,
          key: {
            prefix,
            keyId: key.slice(prefix.length + 1, prefix.length + 23),
            secret: key.slice(prefix.length + 24),
          },
        });
      }),
    );
  });

  it('rejects any single-character substitution (to another base64url character)', () => {
    const arb = anyValidKeyArb.chain(({ prefix, key }) =>
      fc.record({
        prefix: fc.constant(prefix),
        key: fc.constant(key),
        index: fc.nat({ max: key.length - 1 }),
        replacement: fc.constantFrom(...BASE64URL_CHARS),
      }),
    );
    fc.assert(
      fc.property(
        arb.filter(({ key, index, replacement }) => key[index] !== replacement),
        ({ prefix, key, index, replacement }) => {
          // Arrange
          const mutated = key.slice(0, index) + replacement + key.slice(index + 1);
          const firstDot = prefix.length;
          const secondDot = prefix.length + 1 + 22;

          // Act
          const parsed = parseApiKey(mutated, prefix);

          // Assert
          expect(parsed.ok).toBe(false);
          if (index <= firstDot) {
            expect(parsed).toEqual({ ok: false, reason: 'wrong_prefix' });
          } else if (index === secondDot) {
            expect(parsed).toEqual({ ok: false, reason: 'malformed' });
          } else {
            expect(parsed).toEqual({ ok: false, reason: 'bad_checksum' });
          }
        },
      ),
    );
  });

  it('rejects a key ID or secret character replaced by a non-base64url character as malformed', () => {
    const arb = keyWithPrefixArb('SG').chain((key) =>
      fc.record({
        key: fc.constant(key),
        // Positions 3..24 are the key ID, 26..68 the secret.
        index: fc.oneof(fc.integer({ min: 3, max: 24 }), fc.integer({ min: 26, max: 68 })),
        replacement: fc.constantFrom('.', '+', '/', '=', ' ', '%', '\n', 'é', '\u0000'),
      }),
    );
    fc.assert(
      fc.property(arb, ({ key, index, replacement }) => {
        // Arrange
        const mutated = key.slice(0, index) + replacement + key.slice(index + 1);

        // Act
        const parsed = parseApiKey(mutated, 'SG');

        // Assert
        expect(parsed).toEqual({ ok: false, reason: 'malformed' });
      }),
    );
  });

  it('never accepts a random string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (value) => {
        // Act
        const parsed = parseApiKey(value, 'SG');

        // Assert
        expect(parsed.ok).toBe(false);
      }),
    );
  });

  it('never accepts a random string of the right shape (the checksum does not match)', () => {
    fc.assert(
      fc.property(fc.stringMatching(SG_KEY_SHAPE), (value) => {
        // Act
        const parsed = parseApiKey(value, 'SG');

        // Assert
        expect(parsed).toEqual({ ok: false, reason: 'bad_checksum' });
      }),
    );
  });

  it('rejects truncated keys as malformed', () => {
    const arb = keyWithPrefixArb('SG').chain((key) =>
      fc.record({
        key: fc.constant(key),
        keep: fc.nat({ max: key.length - 1 }),
        fromStart: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(arb, ({ key, keep, fromStart }) => {
        // Arrange
        const truncated = fromStart ? key.slice(key.length - keep) : key.slice(0, keep);

        // Act
        const parsed = parseApiKey(truncated, 'SG');

        // Assert
        expect(parsed).toEqual({ ok: false, reason: 'malformed' });
      }),
    );
  });

  it('rejects extended keys as malformed', () => {
    fc.assert(
      fc.property(
        keyWithPrefixArb('SG'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (key, extra, atEnd) => {
          // Arrange
          const extended = atEnd ? key + extra : extra + key;

          // Act
          const parsed = parseApiKey(extended, 'SG');

          // Assert
          expect(parsed).toEqual({ ok: false, reason: 'malformed' });
        },
      ),
    );
  });

  it('rejects a key whose second separator is missing even when the length is right', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');
    const noSeparator = `${apiKey.slice(0, 25)}A${apiKey.slice(26)}`;

    // Act
    const parsed = parseApiKey(noSeparator, 'SG');

    // Assert
    expect(parsed).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('hashApiKey', () => {
  it('is deterministic and returns 43 base64url characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        // Act
        const first = hashApiKey(value);
        const second = hashApiKey(value);

        // Assert
        expect(first).toBe(second);
        expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }),
    );
  });

  it('is the base64url SHA-256 of the key', () => {
    // Act
    const hash = hashApiKey('');

    // Assert: the well-known SHA-256 of the empty string.
    expect(hash).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });

  it('differs for different keys', () => {
    fc.assert(
      fc.property(keyWithPrefixArb('SG'), keyWithPrefixArb('SG'), (a, b) => {
        fc.pre(a !== b);

        // Act
        const hashA = hashApiKey(a);
        const hashB = hashApiKey(b);

        // Assert
        expect(hashA).not.toBe(hashB);
        expect(hashesEqual(hashA, hashB)).toBe(false);
      }),
    );
  });

  it('never contains the key it hashes', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');

    // Act
    const hash = hashApiKey(apiKey);

    // Assert
    expect(hash).not.toContain(apiKey.slice(26));
    expect(hash).not.toContain(apiKey.split('.')[1]);
  });
});

describe('hashesEqual', () => {
  it('is true for a hash and itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        // Arrange
        const hash = hashApiKey(value);

        // Act
        const equal = hashesEqual(hash, `${hash}`);

        // Assert
        expect(equal).toBe(true);
      }),
    );
  });

  it('is false for hashes of different values', () => {
    // Arrange
    const a = hashApiKey('SG.one');
    const b = hashApiKey('SG.two');

    // Act
    const equal = hashesEqual(a, b);

    // Assert
    expect(equal).toBe(false);
  });

  it('is false for inputs of different lengths without throwing', () => {
    // Arrange
    const hash = hashApiKey('value');

    // Act
    const outcomes = [
      hashesEqual(hash, hash.slice(0, -1)),
      hashesEqual(hash, `${hash}A`),
      hashesEqual(hash, ''),
      hashesEqual('', hash),
    ];

    // Assert
    expect(outcomes).toEqual([false, false, false, false]);
  });

  it('is false for strings of different lengths that decode to the same bytes', () => {
    // Arrange: the fifth character of 'AAAAA' holds only 6 bits, which base64url decoding drops.
    const short = 'AAAA';
    const long = 'AAAAA';

    // Act
    const equal = hashesEqual(short, long);

    // Assert
    expect(equal).toBe(false);
  });

  it('is false for two stored-format hashes that differ only in their last character', () => {
    // Arrange: a 43-character hash carries 2 unused bits in its last character; flipping the
    // lowest of them gives a different 43-character string.
    const hash = hashApiKey('value');
    const last = BASE64URL_ALPHABET.indexOf(hash.slice(-1));
    const other = hash.slice(0, -1) + BASE64URL_ALPHABET.charAt(last ^ 1);

    // Act
    const equal = hashesEqual(hash, other);

    // Assert
    expect(other).not.toBe(hash);
    expect(equal).toBe(false);
  });
});

describe('keyDetectionPattern', () => {
  it('finds a key in an Authorization header line', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');
    const text = `GET /v3/api_keys HTTP/1.1\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`;

    // Act
    const found = detect(text);

    // Assert
    expect(found).toEqual([apiKey]);
  });

  it('finds every key embedded in JSON', () => {
    // Arrange
    const first = generateApiKey('SG').apiKey;
    const second = generateApiKey('SG').apiKey;
    const text = JSON.stringify({ api_key: first, nested: { keys: [second] }, other: 'SG.short' });

    // Act
    const found = detect(text);

    // Assert
    expect(found).toEqual([first, second]);
  });

  it('finds keys of a custom prefix and not keys of another prefix', () => {
    // Arrange
    const acme = generateApiKey('Acme').apiKey;
    const sg = generateApiKey('SG').apiKey;
    const text = `${acme} and ${sg}`;

    // Act
    const acmeHits = detect(text, 'Acme');
    const sgHits = detect(text, 'SG');

    // Assert
    expect(acmeHits).toEqual([acme]);
    expect(sgHits).toEqual([sg]);
  });

  it('finds any valid key surrounded by non-base64url separators', () => {
    fc.assert(
      fc.property(
        keyWithPrefixArb('SG'),
        fc.constantFrom(' ', '"', "'", '\n', ':', '=', '(', ','),
        fc.constantFrom(' ', '"', "'", '\n', ')', ',', ';', '.'),
        fc.string({ maxLength: 10 }),
        (key, before, after, noise) => {
          // Arrange
          const text = `${noise}${before}${key}${after}${noise}`;

          // Act
          const found = detect(text);

          // Assert
          expect(found).toContain(key);
        },
      ),
    );
  });

  it('does not match a key glued to extra base64url characters', () => {
    fc.assert(
      fc.property(
        keyWithPrefixArb('SG'),
        fc.constantFrom(...BASE64URL_CHARS),
        fc.boolean(),
        (key, glued, atEnd) => {
          // Arrange
          const text = atEnd ? `token ${key}${glued} end` : `token ${glued}${key} end`;

          // Act
          const found = detect(text);

          // Assert
          expect(found).toEqual([]);
        },
      ),
    );
  });

  it('can be used repeatedly without carrying state between calls', () => {
    // Arrange
    const { apiKey } = generateApiKey('SG');

    // Act
    const first = keyDetectionPattern().test(apiKey);
    const second = keyDetectionPattern().test(apiKey);

    // Assert
    expect([first, second]).toEqual([true, true]);
  });
});

describe('assertKeyPrefix', () => {
  it.each([
    ['empty', ''],
    ['containing the separator', 'a.b'],
    ['containing a space', 'with space'],
    ['17 characters long', 'a'.repeat(17)],
    ['starting with a digit', '1SG'],
    ['containing a dash', 'S-G'],
  ])('rejects a prefix %s', (_label, prefix) => {
    // Act
    const act = () => assertKeyPrefix(prefix);

    // Assert
    expect(act).toThrow(/invalid key prefix/);
  });

  it.each(['SG', 'a', 'Acme_1', 'a'.repeat(16)])('accepts and returns %j', (prefix) => {
    // Act
    const result = assertKeyPrefix(prefix);

    // Assert
    expect(result).toBe(prefix);
  });
});

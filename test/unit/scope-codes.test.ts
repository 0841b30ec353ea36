import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { itemScopes } from '../../shared/adapters/dynamodb/keys-repository.js';
import {
  decodeScopes,
  encodeScopes,
  internScopes,
  SCOPE_CODES,
} from '../../shared/domain/scope-codes.js';
import { ALL_SCOPES, AUTO_ASSIGNED_SCOPES } from '../../shared/domain/scopes.js';

/**
 * Every length the registry has been published at, and the SHA-256 of its entries up to that
 * length (joined by newlines). Stored bitmaps refer to these entries forever: appending scopes
 * adds a line here; editing, reordering or removing an entry fails this test.
 */
const PUBLISHED_PREFIXES: Record<number, string> = {
  203: 'c4a0fd168abad0491b4151c8f536cf04b42671f4b3d7a6916c4ddc08487d9efb',
};

describe('scope codes: the stored form of a key’s scopes', () => {
  it.each(Object.entries(PUBLISHED_PREFIXES))(
    'keeps the registry append-only: its first %s entries are as published',
    (length, digest) => {
      const prefix = SCOPE_CODES.slice(0, Number(length));

      expect(prefix).toHaveLength(Number(length));
      expect(createHash('sha256').update(prefix.join('\n')).digest('hex')).toBe(digest);
    },
  );

  it('lists every scope of the catalogue, once (append new ones at the end)', () => {
    expect(new Set(SCOPE_CODES).size).toBe(SCOPE_CODES.length);
    expect(ALL_SCOPES.filter((s) => !SCOPE_CODES.includes(s))).toEqual([]);
  });

  it('stores a full-access key in under 50 characters, within one 4 KB read unit', () => {
    const encoded = encodeScopes(ALL_SCOPES);

    expect(encoded.otherScopes).toBeUndefined();
    expect(encoded.scopeCodes.length).toBeLessThan(50);
    expect(ALL_SCOPES.join('').length).toBeGreaterThan(4096);
  });

  it('round-trips any set of scopes, sorted and unique, names outside the registry included', () => {
    const outside = fc.stringMatching(/^[a-z]{1,8}\.[a-z]{1,8}$/);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...ALL_SCOPES), outside), { maxLength: 300 }),
        (scopes) => {
          const { scopeCodes, otherScopes } = encodeScopes(scopes);

          expect(decodeScopes(scopeCodes, otherScopes)).toEqual([...new Set(scopes)].sort());
        },
      ),
      { seed: 9, numRuns: 300 },
    );
  });

  it('keeps a scope the registry lacks by name, and only that one', () => {
    const unregistered = [...AUTO_ASSIGNED_SCOPES].find((s) => !SCOPE_CODES.includes(s)) ?? 'x.y';

    const encoded = encodeScopes(['mail.send', unregistered]);

    expect(encoded.otherScopes).toEqual([unregistered]);
    expect(decodeScopes(encoded.scopeCodes, encoded.otherScopes)).toEqual(
      ['mail.send', unregistered].sort(),
    );
  });

  it('grants nothing for bits past the registry’s end (an item from a newer release)', () => {
    const beyond = new Uint8Array(Math.ceil(SCOPE_CODES.length / 8) + 2);
    beyond[beyond.length - 1] = 0xff;
    const mailSend = SCOPE_CODES.indexOf('mail.send');
    beyond[mailSend >> 3] = (beyond[mailSend >> 3] ?? 0) | (1 << (mailSend & 7));

    expect(decodeScopes(Buffer.from(beyond).toString('base64url'))).toEqual(['mail.send']);
  });

  it('decodes an empty bitmap to no scopes, and one bitmap to one shared array', () => {
    const codes = encodeScopes(['mail.send', 'alerts.read']).scopeCodes;

    expect(decodeScopes(encodeScopes([]).scopeCodes)).toEqual([]);
    expect(decodeScopes(codes)).toBe(decodeScopes(codes));
    expect(internScopes(['mail.send', 'alerts.read', 'mail.send'])).toBe(decodeScopes(codes));
    expect(internScopes(['zz.unregistered'])).not.toBe(internScopes(['zz.unregistered']));
  });
});

describe('a key item’s scopes, across releases', () => {
  it('trusts a plain list over a stale bitmap: an earlier release wrote the item last', () => {
    const item = { scopes: ['mail.send'], scopeCodes: encodeScopes(ALL_SCOPES).scopeCodes };

    expect(itemScopes(item)).toEqual(['mail.send']);
  });

  it('reads codes (with names outside the registry), and no scopes from an item with neither', () => {
    const { scopeCodes } = encodeScopes(['alerts.read', 'mail.send']);

    expect(itemScopes({ scopeCodes, otherScopes: ['zz.extra'] })).toEqual([
      'alerts.read',
      'mail.send',
      'zz.extra',
    ]);
    expect(itemScopes({})).toEqual([]);
  });

  it('hands out frozen arrays, so no caller can change what the memos keyed on', () => {
    expect(
      Object.isFrozen(itemScopes({ scopeCodes: encodeScopes(['mail.send']).scopeCodes })),
    ).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GRACE_SECONDS,
  describeEvent,
  describeFieldError,
  formErrorFrom,
  GRACE_CHOICES,
  type KeyEvent,
  limitsForRequest,
  localInputToRfc3339,
  NO_LIMITS,
  parseAllowlist,
  rfc3339ToLocalInput,
} from '../../console/src/key-settings.js';
import {
  DEFAULT_GRACE_SECONDS as API_DEFAULT_GRACE,
  MAX_GRACE_SECONDS,
} from '../../shared/schemas/api-keys.js';

/**
 * The console's pure helpers (expiry, allowlist, roll, history). Times are checked against the
 * process's own time zone through Date's local accessors, so the tests hold in any zone.
 */

describe('localInputToRfc3339', () => {
  it('reads a datetime-local value as local wall-clock time and answers RFC 3339 UTC', () => {
    // Act
    const value = localInputToRfc3339('2027-01-31T09:30');

    // Assert
    expect(value).toBe(new Date(2027, 0, 31, 9, 30).toISOString().replace('.000Z', 'Z'));
    expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const back = new Date(value ?? '');
    expect([back.getFullYear(), back.getMonth(), back.getDate()]).toEqual([2027, 0, 31]);
    expect([back.getHours(), back.getMinutes()]).toEqual([9, 30]);
  });

  it('keeps seconds when the browser sends them', () => {
    expect(localInputToRfc3339('2027-06-01T12:00:45')).toBe(
      new Date(2027, 5, 1, 12, 0, 45).toISOString().replace('.000Z', 'Z'),
    );
  });

  it('reads years below 100 as themselves, not as 19xx', () => {
    expect(new Date(localInputToRfc3339('0099-06-15T12:00') ?? '').getFullYear()).toBe(99);
  });

  it.each([
    '',
    '2027-01-31',
    '2027-02-31T10:00',
    '2027-13-01T10:00',
    '2027-01-31T24:00',
    '2027-01-31T10:60',
    '31/01/2027 10:00',
    'tomorrow',
  ])('refuses %j', (value) => {
    expect(localInputToRfc3339(value)).toBeUndefined();
  });
});

describe('rfc3339ToLocalInput', () => {
  it('shows an RFC 3339 time as a datetime-local value, to the minute', () => {
    // Arrange
    const at = new Date(2030, 0, 31, 10, 30, 59);

    // Act / Assert
    expect(rfc3339ToLocalInput(at.toISOString())).toBe('2030-01-31T10:30');
  });

  it('answers empty for no time or an unreadable one', () => {
    expect(rfc3339ToLocalInput(null)).toBe('');
    expect(rfc3339ToLocalInput(undefined)).toBe('');
    expect(rfc3339ToLocalInput('not a date')).toBe('');
  });

  it('round-trips: what the Edit form shows converts back to the same local minute', () => {
    const minutes = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) });
    fc.assert(
      fc.property(minutes, (ms) => {
        const shown = rfc3339ToLocalInput(new Date(ms - (ms % 60_000)).toISOString());
        const sent = localInputToRfc3339(shown);
        expect(sent).toBeDefined();
        expect(rfc3339ToLocalInput(sent)).toBe(shown);
      }),
    );
  });
});

describe('parseAllowlist', () => {
  it('takes one entry per line, trimmed, without blank lines or repeats', () => {
    // Arrange
    const text = ' 10.0.0.0/8\r\n\n203.0.113.7  \n2001:db8::/32\n10.0.0.0/8\n';

    // Act / Assert
    expect(parseAllowlist(text)).toEqual(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32']);
  });

  it('also splits on commas and spaces, as pasted lists often come', () => {
    expect(parseAllowlist('10.0.0.1, 10.0.0.2 10.0.0.3;10.0.0.4')).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
      '10.0.0.4',
    ]);
  });

  it('answers no entries for an empty or blank textarea', () => {
    expect(parseAllowlist('')).toEqual([]);
    expect(parseAllowlist(' \n\t\n')).toEqual([]);
  });
});

describe('limitsForRequest', () => {
  const stored = { expires: '2030-01-31T10:30', allowedIps: '127.0.0.1/32\n10.0.0.0/8' };

  it('Create: leaves out what was left empty', () => {
    expect(limitsForRequest(NO_LIMITS, NO_LIMITS)).toEqual({ ok: true, body: {} });
  });

  it('Create: sends the expiry in UTC and the allowlist as a list', () => {
    // Act
    const result = limitsForRequest(NO_LIMITS, {
      expires: '2030-01-31T10:30',
      allowedIps: '127.0.0.1\n10.0.0.0/8\n',
    });

    // Assert
    expect(result).toEqual({
      ok: true,
      body: {
        expires_at: localInputToRfc3339('2030-01-31T10:30'),
        allowed_ips: ['127.0.0.1', '10.0.0.0/8'],
      },
    });
  });

  it('Edit: leaves out what did not change, even if the lines were re-spaced', () => {
    expect(
      limitsForRequest(stored, { ...stored, allowedIps: '127.0.0.1/32\n\n  10.0.0.0/8  \n' }),
    ).toEqual({ ok: true, body: {} });
  });

  it('Edit: sends null for what was emptied (removes it)', () => {
    expect(limitsForRequest(stored, { expires: '', allowedIps: '  ' })).toEqual({
      ok: true,
      body: { expires_at: null, allowed_ips: null },
    });
  });

  it('Edit: sends a changed expiry and a changed allowlist in full', () => {
    // Act
    const result = limitsForRequest(stored, {
      expires: '2031-02-01T08:00',
      allowedIps: '127.0.0.1/32',
    });

    // Assert
    expect(result).toEqual({
      ok: true,
      body: {
        expires_at: localInputToRfc3339('2031-02-01T08:00'),
        allowed_ips: ['127.0.0.1/32'],
      },
    });
  });

  it('reports an expiry it cannot read against the expiry field instead of sending it', () => {
    const result = limitsForRequest(NO_LIMITS, { expires: '2030-02-30T10:00', allowedIps: '' });

    expect(result).toMatchObject({ ok: false, field: 'expires_at' });
  });
});

describe('grace-period choices', () => {
  it('offer none, 1 hour, 24 hours (the API default) and 7 days (the API maximum)', () => {
    expect(GRACE_CHOICES.map((c) => c.seconds)).toEqual([0, 3600, 86_400, 604_800]);
    expect(DEFAULT_GRACE_SECONDS).toBe(API_DEFAULT_GRACE);
    expect(Math.max(...GRACE_CHOICES.map((c) => c.seconds))).toBe(MAX_GRACE_SECONDS);
    expect(GRACE_CHOICES.map((c) => c.label)).toContain('24 hours');
  });
});

describe('describeFieldError', () => {
  it.each([
    ['expires_at must be in the future', 'The expiry must be in the future'],
    [
      "expires_at is beyond the account's maximum key lifetime of 7776000 seconds",
      "The expiry is beyond the account's maximum key lifetime of 90 days",
    ],
    [
      'keys of this account must expire within 3600 seconds',
      'Keys of this account must expire within 1 hour',
    ],
    ['allowed_ips may list at most 50 entries', 'The IP allowlist may list at most 50 entries'],
    [
      '"10.0.0.300" is not an IP address or CIDR block',
      '"10.0.0.300" is not an IP address or CIDR block',
    ],
    [
      'the owner key cannot expire; roll it instead',
      'The owner key cannot expire; roll it instead',
    ],
  ])('%j → %j', (message, words) => {
    expect(describeFieldError(message)).toBe(words);
  });
});

describe('formErrorFrom', () => {
  it('puts a 400 about the expiry or the allowlist beside that field, in words', () => {
    expect(
      formErrorFrom(
        400,
        [{ field: 'expires_at', message: 'expires_at must be in the future' }],
        'x',
      ),
    ).toEqual({ field: 'expires_at', message: 'The expiry must be in the future' });
    expect(
      formErrorFrom(400, [{ field: 'allowed_ips', message: '"a" is not an IP address' }], 'x'),
    ).toEqual({ field: 'allowed_ips', message: '"a" is not an IP address' });
  });

  it('keeps everything else under the form with the general message', () => {
    const fallback = 'Not allowed: scopes: …';
    expect(formErrorFrom(403, [{ field: 'scopes', message: 'm' }], fallback)).toEqual({
      field: null,
      message: fallback,
    });
    expect(formErrorFrom(400, [{ field: 'name', message: 'm' }], fallback).field).toBeNull();
    expect(
      formErrorFrom(
        400,
        [
          { field: 'expires_at', message: 'a' },
          { field: 'name', message: 'b' },
        ],
        fallback,
      ).field,
    ).toBeNull();
    expect(formErrorFrom(503, [], fallback)).toEqual({ field: null, message: fallback });
  });
});

describe('describeEvent', () => {
  const base: KeyEvent = {
    id: '2027-01-01T00:00:00.000Z#abc',
    time: '2027-01-01T00:00:00.000Z',
    action: 'api_key.created',
    actor_key_id: 'OwnerKeyId000000000000',
    api_key_id: 'TargetKeyId00000000000',
    scopes_added: ['mail.send'],
    scopes_removed: [],
    source_ip: '203.0.113.7',
    details: { name: 'ci' },
  };
  const date = (iso: string) => `<${iso}>`;

  it.each([
    ['api_key.created', 'Created'],
    ['api_key.updated', 'Updated'],
    ['api_key.rolled', 'Rolled: new secret'],
    ['api_key.deleted', 'Deleted'],
    ['api_key.leak_revoked', 'Revoked as leaked'],
    ['api_key.escalation_refused', 'Change refused: it would grant scopes the acting key lacks'],
    ['api_key.something_new', 'api_key.something_new'],
  ])('names %s in words: %s', (action, words) => {
    expect(describeEvent({ ...base, action }, date).action).toBe(words);
  });

  it('names the actor by key ID, with its name when known, and the source address', () => {
    // Act
    const known = describeEvent(base, date, (id) =>
      id === 'OwnerKeyId000000000000' ? 'Owner key' : undefined,
    );
    const unknown = describeEvent(base, date);

    // Assert
    expect(known.actor).toBe('key OwnerKeyId000000000000 (Owner key)');
    expect(unknown.actor).toBe('key OwnerKeyId000000000000');
    expect(known.source).toBe('203.0.113.7');
  });

  it('calls a leaked-key report without an actor an anonymous report', () => {
    const words = describeEvent(
      {
        ...base,
        action: 'api_key.leak_revoked',
        actor_key_id: null,
        source_ip: null,
        details: { revoked: 'key deleted' },
      },
      date,
    );

    expect(words.actor).toBe('anonymous report');
    expect(words.source).toBe('unknown address');
    expect(words.details).toEqual(['Revoked: key deleted']);
  });

  it('puts the details of each kind of change in words', () => {
    // Act
    const updated = describeEvent(
      {
        ...base,
        action: 'api_key.updated',
        details: {
          name: 'deploy',
          expires_at: '2030-01-31T15:30:00.000Z',
          allowed_ips: '127.0.0.1/32 10.0.0.0/8',
        },
      },
      date,
    );
    const cleared = describeEvent(
      { ...base, action: 'api_key.updated', details: { expires_at: 'none', allowed_ips: 'any' } },
      date,
    );
    const rolled = describeEvent(
      {
        ...base,
        action: 'api_key.rolled',
        details: { previous_key_valid_until: '2027-01-02T00:00:00.000Z' },
      },
      date,
    );
    const rolledAtOnce = describeEvent(
      { ...base, action: 'api_key.rolled', details: { previous_key_valid_until: 'none' } },
      date,
    );
    const refused = describeEvent(
      {
        ...base,
        action: 'api_key.escalation_refused',
        details: { missing_scopes: 'billing.read alerts.create' },
      },
      date,
    );
    const other = describeEvent({ ...base, details: { some_fact: 'x' } }, date);

    // Assert
    expect(updated.details).toEqual([
      'Name set to “deploy”',
      'Expires <2030-01-31T15:30:00.000Z>',
      'Allowed from 127.0.0.1/32, 10.0.0.0/8',
    ]);
    expect(cleared.details).toEqual([
      'Expiry removed',
      'Allowlist removed: any address may use it',
    ]);
    expect(rolled.details).toEqual(['The previous key works until <2027-01-02T00:00:00.000Z>']);
    expect(rolledAtOnce.details).toEqual(['The previous key stopped working at once']);
    expect(refused.details).toEqual(['Missing scopes: billing.read, alerts.create']);
    expect(describeEvent(base, date).details).toEqual(['Name: “ci”']);
    expect(other.details).toEqual(['some fact: x']);
  });
});

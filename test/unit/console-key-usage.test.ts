import { describe, expect, it } from 'vitest';
import { formErrorFrom } from '../../console/src/key-settings.js';
import {
  expiryWarning,
  limitsInWords,
  NO_OWN_LIMITS,
  type OwnLimitsText,
  ownLimitsForRequest,
  ownLimitsText,
  parseOwnLimits,
  periodInWords,
} from '../../console/src/key-usage.js';
import { limitsFault } from '../../shared/domain/limits.js';

/**
 * The console's pure helpers for plans and limits: the expiry badge, the key's own limits as the
 * form holds them and as the API takes them (the wire contract's `limits`), and usage in words.
 */

const NOW = Date.parse('2026-12-03T12:00:00.000Z');
const DAY = 86_400_000;
const at = (ms: number) => new Date(NOW + ms).toISOString();
const text = (t: Partial<OwnLimitsText>): OwnLimitsText => ({ ...NO_OWN_LIMITS, ...t });

describe('expiryWarning', () => {
  it.each([
    ['an expiry more than 30 days out', at(31 * DAY), null],
    ['exactly 30 days out', at(30 * DAY), 'Expires within 30 days'],
    ['8 days out', at(8 * DAY), 'Expires within 30 days'],
    ['7 days out', at(7 * DAY), 'Expires within 7 days'],
    ['25 hours out', at(25 * 3600_000), 'Expires within 7 days'],
    ['a day out', at(DAY), 'Expires within 1 day'],
    ['a minute out', at(60_000), 'Expires within 1 day'],
    ['now', at(0), 'Expired'],
    ['a year ago', at(-365 * DAY), 'Expired'],
  ])('labels %s', (_case, expiresAt, label) => {
    expect(expiryWarning(expiresAt, NOW)?.label ?? null).toBe(label);
  });

  it('gives none to a key that never expires, or to an expiry it cannot read', () => {
    expect(expiryWarning(null, NOW)).toBeNull();
    expect(expiryWarning(undefined, NOW)).toBeNull();
    expect(expiryWarning('', NOW)).toBeNull();
    expect(expiryWarning('soon', NOW)).toBeNull();
  });

  it('tells an expired key from one about to expire, and names the threshold', () => {
    expect(expiryWarning(at(-1), NOW)).toEqual({ level: 'expired', label: 'Expired' });
    expect(expiryWarning(at(6 * DAY), NOW)).toMatchObject({ level: 'soon', days: 7 });
  });
});

describe('parseOwnLimits', () => {
  it('reads a rate with its burst and both quotas as the wire contract shapes them', () => {
    expect(
      parseOwnLimits(text({ perSecond: '2.5', burst: '10', perDay: '1000', perMonth: '30000' })),
    ).toEqual({
      ok: true,
      limits: { rate: { per_second: 2.5, burst: 10 }, quota: { per_day: 1000, per_month: 30000 } },
    });
    expect(parseOwnLimits(text({ perMonth: ' 500 ' }))).toEqual({
      ok: true,
      limits: { quota: { per_month: 500 } },
    });
    expect(parseOwnLimits(NO_OWN_LIMITS)).toEqual({ ok: true, limits: {} });
  });

  it.each([
    ['a rate without a burst', { perSecond: '5' }, 'Give both'],
    ['a burst without a rate', { burst: '5' }, 'Give both'],
    ['a rate of 0', { perSecond: '0', burst: '5' }, 'above 0'],
    ['a negative rate', { perSecond: '-1', burst: '5' }, 'above 0'],
    ['a rate in words', { perSecond: 'five', burst: '5' }, 'above 0'],
    ['a rate above the API bound', { perSecond: '1000001', burst: '5' }, 'above 0'],
    ['a fractional burst', { perSecond: '5', burst: '1.5' }, 'burst'],
    ['a burst of 0', { perSecond: '5', burst: '0' }, 'burst'],
    ['a daily quota of 0', { perDay: '0' }, 'daily'],
    ['a fractional monthly quota', { perMonth: '10.5' }, 'monthly'],
    ['a quota in exponent form', { perDay: '1e3' }, 'daily'],
    ['a day above the month', { perDay: '11', perMonth: '10' }, 'cannot be more'],
  ])('refuses %s', (_case, input, words) => {
    const parsed = parseOwnLimits(text(input));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(words);
  });

  it('accepts nothing the API would refuse (its own check agrees on every accepted case)', () => {
    const accepted = [
      text({ perSecond: '0.001', burst: '1' }),
      text({ perSecond: '1000000', burst: '1000000', perDay: '1', perMonth: '1' }),
      text({ perDay: '999999999999' }),
    ].map(parseOwnLimits);
    for (const parsed of accepted) {
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const { rate, quota } = parsed.limits;
      expect(
        limitsFault({
          ...(rate ? { rate: { perSecond: rate.per_second, burst: rate.burst } } : {}),
          ...(quota ? { quota: { perDay: quota.per_day, perMonth: quota.per_month } } : {}),
        }),
      ).toBeUndefined();
    }
  });
});

describe('ownLimitsForRequest', () => {
  it('on create, sends limits only when some are given', () => {
    expect(ownLimitsForRequest(NO_OWN_LIMITS, NO_OWN_LIMITS)).toEqual({ ok: true, body: {} });
    expect(ownLimitsForRequest(NO_OWN_LIMITS, text({ perDay: '100' }))).toEqual({
      ok: true,
      body: { limits: { quota: { per_day: 100 } } },
    });
  });

  it('on edit, omits unchanged limits, sends the whole new object when changed, and null when emptied', () => {
    // Arrange: the form opened on a key's limits, as the API answered them
    const initial = ownLimitsText({ rate: { per_second: 5, burst: 10 }, quota: { per_day: 1000 } });

    // Act
    const unchanged = ownLimitsForRequest(initial, { ...initial, perDay: '1000 ' });
    const changed = ownLimitsForRequest(initial, { ...initial, perMonth: '20000' });
    const emptied = ownLimitsForRequest(initial, NO_OWN_LIMITS);

    // Assert
    expect(initial).toEqual({ perSecond: '5', burst: '10', perDay: '1000', perMonth: '' });
    expect(unchanged).toEqual({ ok: true, body: {} });
    expect(changed).toEqual({
      ok: true,
      body: {
        limits: { rate: { per_second: 5, burst: 10 }, quota: { per_day: 1000, per_month: 20000 } },
      },
    });
    expect(emptied).toEqual({ ok: true, body: { limits: null } });
  });

  it('reads a key without limits ({} or absent) as empty fields', () => {
    expect(ownLimitsText({})).toEqual(NO_OWN_LIMITS);
    expect(ownLimitsText(undefined)).toEqual(NO_OWN_LIMITS);
  });

  it('reports a bad entry against the limits, and sends nothing', () => {
    expect(ownLimitsForRequest(NO_OWN_LIMITS, text({ perSecond: '5' }))).toMatchObject({
      ok: false,
      field: 'limits',
    });
  });
});

describe('formErrorFrom and limits', () => {
  it('puts a refusal of the limits (400, or 403: looser than the signed-in key) beside them', () => {
    const looser = 'rate cannot be looser than the limits of the key that sets it';
    expect(formErrorFrom(403, [{ field: 'limits', message: looser }], 'x')).toEqual({
      field: 'limits',
      message: 'Rate cannot be looser than the limits of the key that sets it',
    });
    expect(formErrorFrom(400, [{ field: 'limits', message: 'bad' }], 'x').field).toBe('limits');
  });
});

describe('usage in words', () => {
  const format = (n: number) => n.toLocaleString('en-US');

  it('says a count against its quota with its share, or alone when only counted', () => {
    expect(periodInWords({ used: 412, limit: 1000, resets_at: '' }, 'today', format)).toBe(
      '412 of 1,000 requests today (41 %)',
    );
    expect(periodInWords({ used: 1, limit: null, resets_at: '' }, 'this month', format)).toBe(
      '1 request this month',
    );
  });

  it('says each limit that applies', () => {
    expect(
      limitsInWords({ rate: { per_second: 1, burst: 20 }, quota: { per_month: 5000 } }, format),
    ).toEqual(['Rate: 1 request per second, bursts of 20', 'Monthly quota: 5,000 requests']);
    expect(limitsInWords({}, format)).toEqual([]);
  });
});

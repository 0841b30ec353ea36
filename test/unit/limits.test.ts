import { describe, expect, it } from 'vitest';
import {
  boundedLimits,
  limitsProblem,
  periodsAt,
  rateRemaining,
  refusalMessage,
  retryAfterSeconds,
  takeRate,
} from '../../shared/domain/limits.js';

const SECOND = 1_000_000;

describe('rate limits (GCRA)', () => {
  it('admits a full burst at once, then one request per interval', () => {
    // Arrange: 5 per second, a burst of 10, all at one instant
    const rate = { perSecond: 5, burst: 10 };
    const now = 1_000 * SECOND;
    let tat: number | undefined;
    const outcomes = [];

    // Act
    for (let i = 0; i < 11; i++) {
      const taken = takeRate(rate, 1, tat, now);
      outcomes.push(taken.admitted);
      if (taken.admitted) tat = taken.tat;
    }
    const later = takeRate(rate, 1, tat, now + SECOND / 5);

    // Assert
    expect(outcomes.filter(Boolean)).toHaveLength(10);
    expect(outcomes[10]).toBe(false);
    expect(later.admitted).toBe(true);
  });

  it('says when a refused request would be admitted, and how many are left', () => {
    // Arrange: a bucket of 2 at 1 per second, emptied
    const rate = { perSecond: 1, burst: 2 };
    const now = 50 * SECOND;
    const first = takeRate(rate, 2, undefined, now);

    // Act
    const refused = takeRate(rate, 1, first.admitted ? first.tat : 0, now + SECOND / 4);

    // Assert
    expect(first.admitted && rateRemaining(rate, first.tat, now)).toBe(0);
    expect(refused).toEqual({ admitted: false, retryAfterMicros: (3 * SECOND) / 4 });
    expect(rateRemaining(rate, now + 2 * SECOND, now + 2 * SECOND)).toBe(2);
  });

  it('charges a route cost as that many requests', () => {
    const rate = { perSecond: 10, burst: 10 };
    expect(takeRate(rate, 10, undefined, 0).admitted).toBe(true);
    expect(takeRate(rate, 11, undefined, 0).admitted).toBe(false);
  });
});

describe('quota periods (UTC calendar)', () => {
  it('resets a day at 00:00Z and a month on the 1st, whatever the local time zone', () => {
    // Act
    const lastMinute = periodsAt(new Date('2026-12-31T23:59:00.000Z'));
    const leapDay = periodsAt(new Date('2028-02-29T08:00:00.000Z'));

    // Assert
    expect(lastMinute).toEqual({
      month: '2026-12',
      dayAttribute: 'd31',
      dayResetsAt: new Date('2027-01-01T00:00:00.000Z'),
      monthResetsAt: new Date('2027-01-01T00:00:00.000Z'),
    });
    expect(leapDay.dayAttribute).toBe('d29');
    expect(leapDay.monthResetsAt.toISOString()).toBe('2028-03-01T00:00:00.000Z');
  });

  it('tells a refused caller which quota and when it resets, and waits until then', () => {
    // Arrange
    const now = new Date('2026-12-03T23:00:00.000Z');
    const refusal = {
      kind: 'quota' as const,
      subject: 'account' as const,
      period: 'day' as const,
      limit: 1000,
      resetsAt: periodsAt(now).dayResetsAt,
    };

    // Act
    const message = refusalMessage(refusal);

    // Assert
    expect(message).toBe(
      'the daily quota of 1000 requests for this account is used up; it resets at 2026-12-04T00:00:00.000Z',
    );
    expect(retryAfterSeconds(refusal, now)).toBe(3600);
    expect(refusalMessage({ kind: 'rate', subject: 'key', retryAfterSeconds: 1, limit: 5 })).toBe(
      'too many requests',
    );
  });
});

describe('limits a key may be given', () => {
  const creator = { rate: { perSecond: 5, burst: 10 }, quota: { perDay: 1000 } };

  it('never looser than the creating key, as scopes', () => {
    expect(boundedLimits(creator, { rate: { perSecond: 6, burst: 10 } }).ok).toBe(false);
    expect(boundedLimits(creator, { rate: { perSecond: 5, burst: 11 } }).ok).toBe(false);
    expect(boundedLimits(creator, { quota: { perDay: 1001 } }).ok).toBe(false);
    expect(boundedLimits(creator, { quota: { perDay: 10 } })).toEqual({
      ok: true,
      value: { rate: creator.rate, quota: { perDay: 10 } },
    });
  });

  it("inherits the creator's limits where the request leaves them out; an unlimited creator sets any", () => {
    expect(boundedLimits(creator, undefined)).toEqual({ ok: true, value: creator });
    expect(boundedLimits(undefined, { quota: { perMonth: 5 } })).toEqual({
      ok: true,
      value: { quota: { perMonth: 5 } },
    });
    expect(boundedLimits(undefined, undefined)).toEqual({ ok: true, value: {} });
  });

  it('refuses limits that cannot work, each with one line', () => {
    expect(limitsProblem({ rate: { perSecond: 0, burst: 1 } }, 'plan starter')).toBe(
      'plan starter: rate.perSecond must be a number above 0, at most 1000000',
    );
    expect(limitsProblem({ rate: { perSecond: 1, burst: 0.5 } }, 'p')).toContain('rate.burst');
    expect(limitsProblem({ quota: { perDay: 10, perMonth: 5 } }, 'p')).toBe(
      'p: quota.perDay cannot exceed quota.perMonth',
    );
    expect(limitsProblem({ quota: { perDay: -1 } }, 'p')).toContain('quota.perDay');
    expect(limitsProblem({ rate: { perSecond: 2.5, burst: 5 }, quota: { perMonth: 9 } }, 'p')).toBe(
      undefined,
    );
  });
});

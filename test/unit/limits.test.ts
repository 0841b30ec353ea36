import { describe, expect, it } from 'vitest';
import { MemoryUsageStore } from '../../shared/adapters/memory/usage-store.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import {
  boundedLimits,
  canonicalLimits,
  enforceLimits,
  type LimitedSubject,
  type Limits,
  limitsFrom,
  limitsProblem,
  limitsWithin,
  periodsAt,
  rateRemaining,
  refusalMessage,
  retryAfterSeconds,
  sameLimits,
  takeRate,
} from '../../shared/domain/limits.js';
import { errorResponse } from '../../shared/http/responses.js';
import { failure } from './support.js';

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
    expect(boundedLimits(undefined, undefined)).toEqual({ ok: true, value: undefined });
    // A period asked and the other inherited can cross: an inherited day is held to the month
    // asked; a day asked above the creator's month is looser than the creator.
    expect(boundedLimits({ quota: { perDay: 100 } }, { quota: { perMonth: 50 } })).toEqual({
      ok: true,
      value: { quota: { perDay: 50, perMonth: 50 } },
    });
    expect(boundedLimits({ quota: { perMonth: 50 } }, { quota: { perDay: 100 } }).ok).toBe(false);
  });

  it('a key is within limits only when no dimension is looser (left out = unlimited)', () => {
    expect(limitsWithin(undefined, undefined)).toBe(true);
    expect(limitsWithin(undefined, creator)).toBe(true);
    expect(limitsWithin(creator, creator)).toBe(true);
    expect(limitsWithin(creator, undefined)).toBe(false);
    expect(limitsWithin(creator, { rate: creator.rate })).toBe(false);
    expect(limitsWithin(creator, { ...creator, rate: { perSecond: 5, burst: 11 } })).toBe(false);
    expect(limitsWithin(creator, { ...creator, quota: { perDay: 999, perMonth: 5 } })).toBe(true);
    expect(limitsWithin({ quota: { perMonth: 10 } }, { quota: { perDay: 10 } })).toBe(false);
    // A quota bounds the other period: a month's caps any day, a day's caps a month at 31 days.
    expect(limitsWithin({ quota: { perMonth: 1_000_000 } }, { quota: { perDay: 1000 } })).toBe(
      true,
    );
    expect(limitsWithin({ quota: { perDay: 1000 } }, { quota: { perMonth: 20_000 } })).toBe(false);
    expect(
      limitsWithin({ quota: { perDay: 1000 } }, { quota: { perDay: 1000, perMonth: 31_000 } }),
    ).toBe(true);
    expect(limitsWithin({ quota: { perMonth: 30_000 } }, { quota: { perDay: 1000 } })).toBe(false);
  });

  it('reads limits back from storage or a context, failing closed on anything else', () => {
    expect(limitsFrom(undefined)).toBe(undefined);
    expect(limitsFrom({})).toBe(undefined);
    expect(limitsFrom(creator)).toEqual(creator);
    for (const bad of [
      'x',
      [],
      { rate: { perSecond: '5', burst: 10 } },
      { rate: { perSecond: 0, burst: 10 } },
      { quota: {} },
      { quota: { perDay: 10, perMonth: 5 } },
      { quota: { perDay: -1 } },
    ]) {
      expect(limitsFrom(bad), JSON.stringify(bad)).toBe(null);
    }
  });

  it('compares limits whatever their property order', () => {
    const reordered = { quota: { perDay: 1000 }, rate: { burst: 10, perSecond: 5 } };
    expect(sameLimits(creator, reordered)).toBe(true);
    expect(sameLimits(creator, { ...creator, quota: { perDay: 999 } })).toBe(false);
    expect(sameLimits(undefined, {})).toBe(true);
    expect(JSON.stringify(canonicalLimits(reordered))).toBe(JSON.stringify(creator));
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

describe('enforceLimits: the answer a limited request gets', () => {
  const NOW = new Date('2026-12-03T10:00:00.000Z');
  const deps = () => ({ usage: new MemoryUsageStore(), now: () => NOW });
  const account = (limits: Limits): LimitedSubject => ({
    subject: 'account',
    counter: 'a#acc',
    limits,
  });

  it('admits with where the caller stands against the limit nearest to refusing it', async () => {
    // Arrange: a day's quota of 3 and a generous rate
    const d = deps();
    const limits = { rate: { perSecond: 100, burst: 100 }, quota: { perDay: 3 } };

    // Act
    const first = await enforceLimits(d, [account(limits)], 1);

    // Assert: the quota binds (2 left), and resets at the next 00:00Z
    expect(first.ok && first.value.standing).toEqual({
      limit: 3,
      remaining: 2,
      resetsAt: new Date('2026-12-04T00:00:00.000Z'),
    });
  });

  it("refuses past a quota with SendGrid's 429: which quota, when it resets, Retry-After and the headers", async () => {
    // Arrange: the day's quota used up
    const d = deps();
    const limits = { quota: { perDay: 2 } };
    await enforceLimits(d, [account(limits)], 2);

    // Act
    const outcome = await enforceLimits(d, [account(limits)], 1);
    const response = errorResponse(failure(outcome));

    // Assert
    expect(response.statusCode).toBe(429);
    expect(JSON.parse(response.body)).toEqual({
      errors: [
        {
          field: null,
          message:
            'the daily quota of 2 requests for this account is used up; it resets at 2026-12-04T00:00:00.000Z',
        },
      ],
    });
    expect(response.headers).toMatchObject({
      'retry-after': String(14 * 3600),
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Date.parse('2026-12-04T00:00:00.000Z') / 1000),
    });
  });

  it('refuses past a rate with "too many requests" and the seconds until the bucket admits again', async () => {
    // Arrange: one request per 10 seconds, a burst of 1, used
    const d = deps();
    const limits = { rate: { perSecond: 0.1, burst: 1 } };
    await enforceLimits(d, [account(limits)], 1);

    // Act
    const response = errorResponse(failure(await enforceLimits(d, [account(limits)], 1)));

    // Assert
    expect(JSON.parse(response.body).errors[0].message).toBe('too many requests');
    expect(response.headers).toMatchObject({ 'retry-after': '10', 'x-ratelimit-remaining': '0' });
  });

  it("counts the key's own limits after its account's, and a route of cost 0 against nothing", async () => {
    // Arrange
    const d = deps();
    const key: LimitedSubject = {
      subject: 'key',
      counter: 'k#key',
      limits: { quota: { perMonth: 1 } },
    };
    const subjects = [account({ quota: { perDay: 100 } }), key];

    // Act
    const first = await enforceLimits(d, subjects, 1);
    const free = await enforceLimits(d, subjects, 0);
    const second = await enforceLimits(d, subjects, 1);

    // Assert: the key's monthly quota of 1 binds
    expect(first.ok && first.value.standing?.remaining).toBe(0);
    expect(free).toEqual({ ok: true, value: { standing: undefined, warnings: [] } });
    expect(failure(second).message).toContain('monthly quota of 1 requests for this API key');
  });

  it('warns once per period at 80, 90 and 100 % of a quota: on the request that crosses each', async () => {
    // Arrange: a month's quota of 10
    const d = deps();
    const subjects = [account({ quota: { perMonth: 10 } })];

    // Act: ten requests of cost 1, then the bigger step a cost of 5 would be on a fresh account
    const warned: number[][] = [];
    for (let i = 1; i <= 10; i++) {
      const counted = await enforceLimits(d, subjects, 1);
      warned.push(counted.ok ? counted.value.warnings.map((w) => w.percent) : []);
    }
    const jump = await enforceLimits(deps(), [account({ quota: { perMonth: 5 } })], 5);

    // Assert: 80 % at the 8th, 90 % at the 9th, 100 % at the 10th, nothing else
    expect(warned).toEqual([[], [], [], [], [], [], [], [80], [90], [100]]);
    expect(jump.ok && jump.value.warnings.map((w) => [w.period, w.percent, w.used])).toEqual([
      ['month', 80, 5],
      ['month', 90, 5],
      ['month', 100, 5],
    ]);
  });

  it('fails closed: a failing store is an error, never an admission', async () => {
    const usage = {
      consume: () => Promise.reject(new ServiceUnavailableError()),
      read: () => Promise.reject(new ServiceUnavailableError()),
    };
    await expect(
      enforceLimits({ usage, now: () => NOW }, [account({ quota: { perDay: 1 } })], 1),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

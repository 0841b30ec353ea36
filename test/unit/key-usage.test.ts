import { describe, expect, it } from 'vitest';
import { MemoryUsageStore } from '../../shared/adapters/memory/usage-store.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { generateApiKey, hashApiKey } from '../../shared/domain/key-format.js';
import type { Limits, Plan } from '../../shared/domain/limits.js';
import type { KeyRecord } from '../../shared/domain/ports.js';
import { getKeyUsage } from '../../shared/domain/usage.js';
import { usageView } from '../../shared/http/wire/usage.js';
import { failure, makeDeps, testEvent, unwrap } from './support.js';

/**
 * Reading where a key and its account stand (`getKeyUsage`, the usage route's operation) on the
 * in-memory adapters: a key of its own limits is counted, one without is not (unknown, not 0),
 * counts restart with each period, and another account's key is not found.
 */

const PLANS: Plan[] = [{ id: 'starter', quota: { perDay: 100, perMonth: 2000 } }];
const NOON = new Date('2026-12-03T12:00:00.000Z');

async function setUp(keyLimits?: Limits) {
  const { deps, repo } = makeDeps();
  const account = unwrap(
    await bootstrapAccount(deps, { name: `acme${Math.random()}`.replace('.', '') }),
  );
  const { keyId } = generateApiKey('SG');
  const key: KeyRecord = {
    keyId,
    accountId: account.accountId,
    name: 'limited',
    scopes: ['mail.send'],
    type: 'general',
    keyHash: hashApiKey(generateApiKey('SG', keyId).apiKey),
    createdAt: NOON.toISOString(),
    updatedAt: NOON.toISOString(),
    version: 1,
    ...(keyLimits ? { limits: keyLimits } : {}),
  };
  expect((await repo.insertKey(key, testEvent(account.accountId, keyId))).ok).toBe(true);
  const usage = new MemoryUsageStore();
  const caller = {
    accountId: account.accountId,
    keyId: account.keyId,
    type: 'owner' as const,
    scopes: [],
  };
  const read = (now: Date, as = caller, plans = PLANS) =>
    getKeyUsage(
      { ...deps, now: () => now },
      { usage: () => usage, plans, defaultPlan: 'starter' },
      as,
      keyId,
    );
  const count = (subject: string, limits: Limits, times: number, now = NOON) =>
    Promise.all(
      Array.from({ length: times }, () => usage.consume({ subject, cost: 1, now, limits })),
    );
  return { account, keyId, usage, caller, read, count };
}

describe('getKeyUsage', () => {
  it("answers a key's own limits and counts beside its account's plan", async () => {
    // Arrange: a key with a daily quota of 10, used 3 times; its account's plan used 5 times
    const limits: Limits = { rate: { perSecond: 5, burst: 10 }, quota: { perDay: 10 } };
    const { keyId, account, read, count } = await setUp(limits);
    await count(`k#${keyId}`, limits, 3);
    await count(`a#${account.accountId}`, PLANS[0] as Plan, 5);

    // Act
    const view = usageView(unwrap(await read(NOON)));

    // Assert
    expect(view).toEqual({
      api_key_id: keyId,
      key: {
        counted: true,
        limits: { rate: { per_second: 5, burst: 10 }, quota: { per_day: 10 } },
        day: { used: 3, limit: 10, resets_at: '2026-12-04T00:00:00.000Z' },
        month: { used: 3, limit: null, resets_at: '2027-01-01T00:00:00.000Z' },
      },
      account: {
        plan: 'starter',
        counted: true,
        limits: { quota: { per_day: 100, per_month: 2000 } },
        day: { used: 5, limit: 100, resets_at: '2026-12-04T00:00:00.000Z' },
        month: { used: 5, limit: 2000, resets_at: '2027-01-01T00:00:00.000Z' },
      },
    });
  });

  it('reads 0 for the day after midnight and for the month after the 1st, the counts kept', async () => {
    // Arrange
    const limits: Limits = { quota: { perMonth: 50 } };
    const { keyId, read, count } = await setUp(limits);
    await count(`k#${keyId}`, limits, 4);

    // Act
    const nextDay = unwrap(await read(new Date('2026-12-04T00:00:00.000Z')));
    const nextMonth = unwrap(await read(new Date('2027-01-01T00:00:00.000Z')));

    // Assert
    expect(nextDay.key.counts?.day.used).toBe(0);
    expect(nextDay.key.counts?.month.used).toBe(4);
    expect(nextMonth.key.counts?.month.used).toBe(0);
    expect(nextMonth.key.counts?.month.resetsAt.toISOString()).toBe('2027-02-01T00:00:00.000Z');
  });

  it('says a key without limits, or an account without a plan, is not counted (never 0)', async () => {
    // Arrange: the store holds counts under the key's subject (as if once limited)
    const { keyId, read, count, caller } = await setUp();
    await count(`k#${keyId}`, { quota: { perDay: 9 } }, 2);

    // Act
    const view = usageView(unwrap(await read(NOON, caller, [])));

    // Assert
    expect(view.key).toEqual({ counted: false, limits: {}, day: null, month: null });
    expect(view.account).toEqual({
      plan: null,
      counted: false,
      limits: {},
      day: null,
      month: null,
    });
  });

  it("shows a key's limits but not counted where no plans are declared (the wrapper counts nothing then)", async () => {
    // Arrange: limits left on a key, the plans since removed from the config
    const limits: Limits = { quota: { perDay: 10 } };
    const { keyId, read, count, caller } = await setUp(limits);
    await count(`k#${keyId}`, limits, 3);

    // Act
    const view = usageView(unwrap(await read(NOON, caller, [])));

    // Assert
    expect(view.key).toEqual({
      counted: false,
      limits: { quota: { per_day: 10 } },
      day: null,
      month: null,
    });
  });

  it('finds no key of another account, and reads none of its counters', async () => {
    // Arrange: a limited key; a caller of another account
    const limits: Limits = { quota: { perDay: 10 } };
    const { read, usage } = await setUp(limits);
    const reads: string[] = [];
    const original = usage.read.bind(usage);
    usage.read = (subject, now) => {
      reads.push(subject);
      return original(subject, now);
    };
    const stranger = {
      accountId: 'another-account',
      keyId: 'k',
      type: 'owner' as const,
      scopes: [],
    };

    // Act
    const result = await read(NOON, stranger);

    // Assert
    expect(failure(result)).toMatchObject({ code: 'not_found', message: 'unable to find API Key' });
    expect(reads).toEqual([]);
  });
});

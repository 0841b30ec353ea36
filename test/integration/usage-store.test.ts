import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClient } from '../../local/dynamodb-local.js';
import { DynamoDbUsageStore } from '../../shared/adapters/dynamodb/usage-store.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import type { Limits, UsageOutcome } from '../../shared/domain/limits.js';
import { createTableInput, USAGE_TABLE } from '../../shared/tables.js';

// The usage counters on DynamoDB Local: a quota admits exactly its number of requests however
// many arrive at once, a rate limit its burst, and a refused request counts nothing.
const client = localClient(inject('dynamodbEndpoint'));
const documents = DynamoDBDocumentClient.from(client);
const tableName = `usage-${randomUUID()}`;
const store = new DynamoDbUsageStore(documents, tableName);

beforeAll(async () => {
  await client.send(new CreateTableCommand(createTableInput(USAGE_TABLE, tableName)));
});
afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
});

const NOON = new Date('2026-12-03T12:00:00.000Z');

async function counters(subject: string, month = '2026-12') {
  const { Item } = await documents.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: `u#${subject}#${month}` },
      ConsistentRead: true,
    }),
  );
  return Item;
}

function consumeMany(subject: string, limits: Limits, count: number, cost = 1, now = NOON) {
  return Promise.all(
    Array.from({ length: count }, () => store.consume({ subject, cost, now, limits })),
  );
}

const admitted = (outcomes: UsageOutcome[]) => outcomes.filter((o) => o.admitted).length;

describe('usage counters on DynamoDB', () => {
  it('admits exactly a daily quota under 10,000 concurrent requests, and counts nothing it refused', async () => {
    // Arrange
    const subject = `a#${randomUUID()}`;
    const limits: Limits = { quota: { perDay: 1000 } };

    // Act
    const outcomes = await consumeMany(subject, limits, 10_000);

    // Assert: zero requests beyond the quota were admitted, and the count is exact
    expect(admitted(outcomes)).toBe(1000);
    expect(outcomes.filter((o) => !o.admitted && o.exceeded === 'day')).toHaveLength(9000);
    expect(await counters(subject)).toMatchObject({ d03: 1000, m: 1000 });
  }, 300_000);

  it('counts a route cost, refusing the request that would pass the quota rather than part of it', async () => {
    // Arrange
    const subject = `k#${randomUUID()}`;
    const limits: Limits = { quota: { perMonth: 10 } };

    // Act: four requests of cost 3 against 10
    const outcomes = await consumeMany(subject, limits, 4, 3);

    // Assert
    expect(admitted(outcomes)).toBe(3);
    expect((await counters(subject))?.m).toBe(9);
  });

  it('resets the daily quota at 00:00Z and the monthly one on the 1st, in items of their own', async () => {
    // Arrange: a day's quota used up just before midnight
    const subject = `a#${randomUUID()}`;
    const limits: Limits = { quota: { perDay: 2, perMonth: 3 } };
    const lastDay = new Date('2026-12-31T23:59:59.999Z');
    const newYear = new Date('2027-01-01T00:00:00.000Z');

    // Act
    const before = await consumeMany(subject, limits, 3, 1, lastDay);
    const after = await store.consume({ subject, cost: 1, now: newYear, limits });

    // Assert
    expect(admitted(before)).toBe(2);
    expect(after).toMatchObject({ admitted: true, day: 1, month: 1 });
    expect(await counters(subject, '2027-01')).toMatchObject({ d01: 1, m: 1 });
  });

  it('reads the counts of the day and month asked, counting nothing; a new day or month reads 0', async () => {
    // Arrange: two requests on 30 November, three on 2 December (one of them refused)
    const subject = `k#${randomUUID()}`;
    const limits: Limits = { quota: { perDay: 2 } };
    await consumeMany(subject, limits, 2, 1, new Date('2026-11-30T10:00:00.000Z'));
    await consumeMany(subject, limits, 3, 1, new Date('2026-12-02T10:00:00.000Z'));

    // Act
    const sameDay = await store.read(subject, new Date('2026-12-02T23:59:59.999Z'));
    const nextDay = await store.read(subject, new Date('2026-12-03T00:00:00.000Z'));
    const november = await store.read(subject, new Date('2026-11-30T12:00:00.000Z'));
    const newMonth = await store.read(subject, new Date('2027-01-01T00:00:00.000Z'));
    const never = await store.read(`k#${randomUUID()}`, NOON);
    const again = await store.read(subject, new Date('2026-12-02T12:00:00.000Z'));

    // Assert: the refused request is not in the counts, and reading changed nothing
    expect(sameDay).toEqual({ day: 2, month: 2 });
    expect(nextDay).toEqual({ day: 0, month: 2 });
    expect(november).toEqual({ day: 2, month: 2 });
    expect(newMonth).toEqual({ day: 0, month: 0 });
    expect(never).toEqual({ day: 0, month: 0 });
    expect(again).toEqual({ day: 2, month: 2 });
    expect(await counters(subject)).toMatchObject({ d02: 2, m: 2 });
  });

  it('fails a read closed too: a storage fault throws ServiceUnavailableError, never a 0', async () => {
    const broken = new DynamoDbUsageStore(documents, `missing-${randomUUID()}`);

    await expect(broken.read(`a#${randomUUID()}`, NOON)).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });

  it('admits a burst at once, then refuses with the time until the bucket admits again', async () => {
    // Arrange: 5 per second, a burst of 10
    const subject = `k#${randomUUID()}`;
    const limits: Limits = { rate: { perSecond: 5, burst: 10 } };

    // Act: 25 at once, then one 200 ms later (one token back)
    const burst = await consumeMany(subject, limits, 25);
    const later = await store.consume({
      subject,
      cost: 1,
      now: new Date(NOON.getTime() + 200),
      limits,
    });

    // Assert
    expect(admitted(burst)).toBe(10);
    const refused = burst.find((o) => !o.admitted);
    expect(refused).toMatchObject({ exceeded: 'rate' });
    // The 11th request fits once one interval (200 ms) has passed.
    expect(
      refused && !refused.admitted && refused.exceeded === 'rate' && refused.retryAfterMicros,
    ).toBe(200_000);
    expect(later.admitted).toBe(true);
  });

  it('fails closed: a storage fault throws ServiceUnavailableError, never an admission', async () => {
    // Arrange: a table that does not exist stands for any fault DynamoDB answers
    const broken = new DynamoDbUsageStore(documents, `missing-${randomUUID()}`);

    // Act
    const outcome = broken.consume({
      subject: `a#${randomUUID()}`,
      cost: 1,
      now: NOON,
      limits: { quota: { perDay: 5 } },
    });

    // Assert
    await expect(outcome).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('checks the rate and both quotas in one write: the first limit reached refuses', async () => {
    // Arrange
    const subject = `a#${randomUUID()}`;
    const limits: Limits = { rate: { perSecond: 100, burst: 100 }, quota: { perDay: 7 } };

    // Act
    const outcomes = await consumeMany(subject, limits, 20);

    // Assert
    expect(admitted(outcomes)).toBe(7);
    expect(
      outcomes.filter((o) => !o.admitted).every((o) => !o.admitted && o.exceeded === 'day'),
    ).toBe(true);
  });
});

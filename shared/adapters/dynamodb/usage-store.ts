import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  gcraOf,
  periodsAt,
  takeRate,
  type UsageCheck,
  type UsageOutcome,
  type UsageStore,
} from '../../domain/limits.js';
import { toStorageError } from './keys-repository.js';

/** Attempts of the rate branches before a refusal (each failed one was raced by another write). */
const ATTEMPTS = 3;
/** How long a month's counters are kept after it ends (the console shows the last months). */
const KEEP_SECONDS = 62 * 24 * 3600;

/**
 * Usage counters on DynamoDB: one item per subject and UTC month (`u#<subject>#2026-12`) with the
 * month's count `m`, the day's `d01`…`d31` and the rate limit's TAT (`tat`, microseconds), so one
 * `UpdateItem` checks the rate and both quotas and counts the request, or changes nothing.
 * DynamoDB applies a write's condition and its update atomically on the item
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.SpecifyingConditions.html),
 * which is what makes concurrent requests unable to pass a quota together.
 *
 * GCRA's TAT moves to `max(tat, now) + cost·T`, and an update expression has no `max`: an idle
 * bucket (`tat < now`) is set to `now + cost·T`, a busy one advanced by `cost·T`, each under its
 * own condition. Which one applies is guessed, and a failed guess reads the item (strongly
 * consistent) to decide: refused, or the other branch.
 */
export class DynamoDbUsageStore implements UsageStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async consume(check: UsageCheck): Promise<UsageOutcome> {
    const periods = periodsAt(check.now);
    const key = { pk: `u#${check.subject}#${periods.month}` };
    const nowMicros = check.now.getTime() * 1000;
    const quota = check.limits.quota;
    if (quota?.perDay !== undefined && check.cost > quota.perDay)
      return { admitted: false, exceeded: 'day' };
    if (quota?.perMonth !== undefined && check.cost > quota.perMonth) {
      return { admitted: false, exceeded: 'month' };
    }
    // A request larger than the bucket never fits (the config refuses such a cost; a key's own
    // smaller burst can still meet one).
    if (check.limits.rate && check.cost > check.limits.rate.burst) {
      return { admitted: false, exceeded: 'rate', retryAfterMicros: 1_000_000 };
    }
    // An idle bucket first: most requests of a limited key arrive below its rate.
    let idle = true;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const update = this.updateFor(check, periods, nowMicros, idle);
      try {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            ...update,
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return {
          admitted: true,
          day: Number(Attributes?.[periods.dayAttribute] ?? 0),
          month: Number(Attributes?.m ?? 0),
          tat: Attributes?.tat === undefined ? undefined : Number(Attributes.tat),
        };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw toStorageError(error);
      }
      const stored = await this.getItem(key);
      const day = Number(stored?.[periods.dayAttribute] ?? 0);
      const month = Number(stored?.m ?? 0);
      if (quota?.perDay !== undefined && day + check.cost > quota.perDay) {
        return { admitted: false, exceeded: 'day' };
      }
      if (quota?.perMonth !== undefined && month + check.cost > quota.perMonth) {
        return { admitted: false, exceeded: 'month' };
      }
      const rate = check.limits.rate;
      if (!rate) continue;
      const tat = stored?.tat === undefined ? undefined : Number(stored.tat);
      const taken = takeRate(rate, check.cost, tat, nowMicros);
      if (!taken.admitted)
        return { admitted: false, exceeded: 'rate', retryAfterMicros: taken.retryAfterMicros };
      idle = tat === undefined || tat < nowMicros;
    }
    // Raced on every attempt: refusing only ever under-admits (never serves past a limit).
    return { admitted: false, exceeded: 'rate', retryAfterMicros: 1_000_000 };
  }

  /**
   * One strongly consistent `GetItem` of the month's item: its `m` and the day's `dNN`. Another
   * month's item is another key, and a day without requests has no attribute, so both read 0.
   */
  async read(subject: string, now: Date): Promise<{ day: number; month: number }> {
    const periods = periodsAt(now);
    const stored = await this.getItem({ pk: `u#${subject}#${periods.month}` });
    return { day: Number(stored?.[periods.dayAttribute] ?? 0), month: Number(stored?.m ?? 0) };
  }

  private updateFor(
    check: UsageCheck,
    periods: ReturnType<typeof periodsAt>,
    nowMicros: number,
    idle: boolean,
  ) {
    const names: Record<string, string> = { '#m': 'm', '#d': periods.dayAttribute, '#ttl': 'ttl' };
    const values: Record<string, unknown> = {
      ':cost': check.cost,
      ':ttl': Math.floor(periods.monthResetsAt.getTime() / 1000) + KEEP_SECONDS,
    };
    const conditions: string[] = [];
    const sets = ['#ttl = :ttl'];
    const { quota, rate } = check.limits;
    if (quota?.perDay !== undefined) {
      conditions.push('(attribute_not_exists(#d) OR #d <= :dMax)');
      values[':dMax'] = quota.perDay - check.cost;
    }
    if (quota?.perMonth !== undefined) {
      conditions.push('(attribute_not_exists(#m) OR #m <= :mMax)');
      values[':mMax'] = quota.perMonth - check.cost;
    }
    if (rate) {
      const { increment, tolerance } = gcraOf(rate, check.cost);
      // In the idle branch the request always fits (`cost ≤ burst` was checked above).
      names['#tat'] = 'tat';
      values[':now'] = nowMicros;
      if (idle) {
        conditions.push('(attribute_not_exists(#tat) OR #tat < :now)');
        sets.push('#tat = :idleTat');
        values[':idleTat'] = nowMicros + increment;
      } else {
        conditions.push('#tat BETWEEN :now AND :tatMax');
        sets.push('#tat = #tat + :inc');
        values[':inc'] = increment;
        values[':tatMax'] = nowMicros + tolerance - increment;
      }
    }
    return {
      UpdateExpression: `SET ${sets.join(', ')} ADD #d :cost, #m :cost`,
      ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  private async getItem(key: { pk: string }): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      throw toStorageError(error);
    }
  }
}

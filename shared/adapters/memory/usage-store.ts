import {
  periodsAt,
  takeRate,
  type UsageCheck,
  type UsageOutcome,
  type UsageStore,
} from '../../domain/limits.js';

/**
 * The usage counters in memory, with the DynamoDB store's semantics (`../dynamodb/usage-store.ts`):
 * per subject and UTC month, the month's and the day's counts and the rate limit's TAT, checked
 * and counted together or not at all. For unit tests; one process only.
 */
export class MemoryUsageStore implements UsageStore {
  private readonly items = new Map<
    string,
    { days: Map<string, number>; month: number; tat?: number }
  >();

  async consume(check: UsageCheck): Promise<UsageOutcome> {
    const periods = periodsAt(check.now);
    const key = `u#${check.subject}#${periods.month}`;
    const item = this.items.get(key) ?? { days: new Map<string, number>(), month: 0 };
    const day = item.days.get(periods.dayAttribute) ?? 0;
    const { quota, rate } = check.limits;
    if (quota?.perDay !== undefined && day + check.cost > quota.perDay) {
      return { admitted: false, exceeded: 'day' };
    }
    if (quota?.perMonth !== undefined && item.month + check.cost > quota.perMonth) {
      return { admitted: false, exceeded: 'month' };
    }
    let tat = item.tat;
    if (rate) {
      const taken = takeRate(rate, check.cost, item.tat, check.now.getTime() * 1000);
      if (!taken.admitted) {
        return { admitted: false, exceeded: 'rate', retryAfterMicros: taken.retryAfterMicros };
      }
      tat = taken.tat;
    }
    item.days.set(periods.dayAttribute, day + check.cost);
    item.month += check.cost;
    if (tat !== undefined) item.tat = tat;
    this.items.set(key, item);
    return {
      admitted: true,
      day: day + check.cost,
      month: item.month,
      tat: rate ? tat : undefined,
    };
  }

  async read(subject: string, now: Date): Promise<{ day: number; month: number }> {
    const periods = periodsAt(now);
    const item = this.items.get(`u#${subject}#${periods.month}`);
    return { day: item?.days.get(periods.dayAttribute) ?? 0, month: item?.month ?? 0 };
  }
}

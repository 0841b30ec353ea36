import type { Limits } from '../../domain/limits.js';
import type { KeyUsage, PeriodUsage, SubjectUsage } from '../../domain/usage.js';
import type { ApiKeyUsageView, LimitsView } from '../../schemas/usage.js';

/** Limits in the wire contract's snake_case (`{}` when there are none). */
export function limitsView({ rate, quota }: Limits): LimitsView {
  return {
    ...(rate ? { rate: { per_second: rate.perSecond, burst: rate.burst } } : {}),
    ...(quota
      ? {
          quota: {
            ...(quota.perDay === undefined ? {} : { per_day: quota.perDay }),
            ...(quota.perMonth === undefined ? {} : { per_month: quota.perMonth }),
          },
        }
      : {}),
  };
}

function periodView(period: PeriodUsage) {
  return {
    used: period.used,
    limit: period.limit ?? null,
    resets_at: period.resetsAt.toISOString(),
  };
}

function standingView(usage: SubjectUsage) {
  return {
    counted: usage.counts !== undefined,
    limits: limitsView(usage.limits),
    day: usage.counts ? periodView(usage.counts.day) : null,
    month: usage.counts ? periodView(usage.counts.month) : null,
  };
}

/** `GET /v3/api_keys/{api_key_id}/usage`'s answer. */
export function usageView(usage: KeyUsage): ApiKeyUsageView {
  return {
    api_key_id: usage.keyId,
    key: standingView(usage.key),
    account: { plan: usage.account.plan ?? null, ...standingView(usage.account) },
  };
}

import type { KeyUsage, PeriodUsage, SubjectUsage } from '../../domain/usage.js';
import type { ApiKeyUsageView } from '../../schemas/usage.js';
import { limitsView } from './api-keys.js';

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

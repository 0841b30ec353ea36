import { getApiKey } from './api-keys.js';
import type { Caller } from './caller.js';
import { ok, type Result } from './errors.js';
import {
  canonicalLimits,
  type DeclaredPlans,
  type Limits,
  periodsAt,
  planOf,
  type UsageStore,
} from './limits.js';
import type { Deps } from './ports.js';

/**
 * Where a key and its account stand against their limits (issue 17): what `GET
 * /v3/api_keys/{id}/usage` answers and the console shows. Reading counts nothing.
 */

/** A quota period's count, its limit (none: the period is counted, not limited) and its reset. */
export interface PeriodUsage {
  used: number;
  limit: number | undefined;
  resetsAt: Date;
}

/**
 * A subject's limits and, when it has any, its counts. A subject without limits is never counted
 * (the route wrapper skips it), so its use is unknown: `counts` is absent, never a made-up 0.
 */
export interface SubjectUsage {
  limits: Limits;
  counts?: { day: PeriodUsage; month: PeriodUsage };
}

export interface KeyUsage {
  keyId: string;
  key: SubjectUsage;
  /** The account's plan (none when the team declared no plans) and its usage. */
  account: SubjectUsage & { plan: string | undefined };
}

/** What reading usage needs beyond storage: the counters and the team's plans. */
export interface UsageDeps extends DeclaredPlans {
  usage: () => UsageStore;
}

/**
 * A key of the caller's account and where it stands: its own limits and counts, and its
 * account's plan and counts. Another account's key is not found, exactly as an unknown one (the
 * same read, the same answer), and nothing is read of its counters.
 */
export async function getKeyUsage(
  deps: Deps,
  usageDeps: UsageDeps,
  caller: Caller,
  keyId: string,
): Promise<Result<KeyUsage>> {
  const found = await getApiKey(deps, caller, keyId);
  if (!found.ok) return found;
  const key = found.value;
  const now = deps.now();
  const account = await deps.repo.getAccount(caller.accountId);
  const plan = planOf(usageDeps.plans, usageDeps.defaultPlan, account?.plan);
  // The route wrapper counts nothing where the team declares no plans, a key's own limits
  // included (limits left on a key from before the plans were removed are not enforced).
  const counting = usageDeps.plans.length > 0;
  const [keyUsage, accountUsage] = await Promise.all([
    subjectUsage(usageDeps, `k#${key.keyId}`, key.limits ?? {}, counting, now),
    subjectUsage(usageDeps, `a#${caller.accountId}`, canonicalLimits(plan) ?? {}, counting, now),
  ]);
  return ok({ keyId: key.keyId, key: keyUsage, account: { ...accountUsage, plan: plan?.id } });
}

/**
 * Counted exactly when the route wrapper counts it (`checkPlan`): the deployment declares plans
 * and the subject has a rate limit or a quota.
 */
async function subjectUsage(
  { usage }: UsageDeps,
  subject: string,
  limits: Limits,
  counting: boolean,
  now: Date,
): Promise<SubjectUsage> {
  if (!counting || (!limits.rate && !limits.quota)) return { limits };
  const counts = await usage().read(subject, now);
  const periods = periodsAt(now);
  return {
    limits,
    counts: {
      day: { used: counts.day, limit: limits.quota?.perDay, resetsAt: periods.dayResetsAt },
      month: { used: counts.month, limit: limits.quota?.perMonth, resetsAt: periods.monthResetsAt },
    },
  };
}

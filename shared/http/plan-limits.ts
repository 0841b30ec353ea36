import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deployment } from '../deployment/deployment.js';
import { auditEvent } from '../domain/audit.js';
import type { Caller } from '../domain/caller.js';
import {
  enforceLimits,
  type LimitedSubject,
  planOf,
  type QuotaWarning,
  type Standing,
  type UsageStore,
} from '../domain/limits.js';
import type { KeyRepository } from '../domain/ports.js';
import { logger } from '../observability/logger.js';
import type { RouteDefinition } from '../routes.js';
import { withStanding } from './rate-limit-headers.js';

/**
 * How long a container trusts an account's plan it read: a plan changed by the operator applies
 * within this bound (the usage counted meanwhile is exact; only which limits apply lags).
 */
export const PLAN_CACHE_MS = 30_000;

const MAX_CACHED_PLANS = 10_000;
const plans = new Map<string, { plan: string | undefined; until: number }>();

async function accountPlan(repo: KeyRepository, accountId: string, now: number) {
  const known = plans.get(accountId);
  if (known && known.until > now) return known.plan;
  const plan = (await repo.getAccount(accountId))?.plan;
  // Bounded: a long-lived process (the local runtime) sees accounts come and go.
  if (plans.size >= MAX_CACHED_PLANS) plans.clear();
  plans.set(accountId, { plan, until: now + PLAN_CACHE_MS });
  return plan;
}

export interface PlanLimitsDeps {
  deployment: Deployment;
  repo: KeyRepository;
  usage: () => UsageStore;
  now: () => Date;
}

/** Whose request is counted: the account it acts in, and the key with its own limits. */
export type LimitedCaller = Pick<Caller, 'accountId' | 'keyId' | 'limits' | 'parentAccountId'>;

/**
 * Counts a request against the key's own limits and its account's plan before the operation
 * runs (issue 17), so a cached authorizer result cannot skip it (the key's limits travel in the
 * authorizer's context) and a refused request costs no work: 429 with SendGrid's envelope,
 * `Retry-After` and `X-RateLimit-*`, or, admitted, the same headers on the answer (the limit
 * nearest to refusing). Without plans in the team's config nothing is counted, as before. A
 * counting fault refuses (503): never free service.
 *
 * The key is counted first: a key over its own limit is refused without spending its account's
 * quota, so one leaked, limited key cannot use up what the account's other keys need.
 */
export async function checkPlan(
  deps: PlanLimitsDeps,
  route: Pick<RouteDefinition, 'cost'>,
  caller: LimitedCaller,
): Promise<Standing | undefined> {
  const declared = deps.deployment.spec.plans ?? [];
  const cost = route.cost ?? 1;
  if (declared.length === 0 || cost === 0) return undefined;
  const now = deps.now();
  const { accountId } = caller;
  const plan = planOf(
    declared,
    deps.deployment.spec.defaultPlan,
    await accountPlan(deps.repo, accountId, now.getTime()),
  );
  const subjects: LimitedSubject[] = [
    ...(caller.limits
      ? [{ subject: 'key' as const, counter: `k#${caller.keyId}`, limits: caller.limits }]
      : []),
    ...(plan ? [{ subject: 'account' as const, counter: `a#${accountId}`, limits: plan }] : []),
  ];
  if (subjects.length === 0) return undefined;
  const counted = await enforceLimits({ usage: deps.usage(), now: () => now }, subjects, cost);
  if (!counted.ok) throw counted.error;
  for (const warning of counted.value.warnings) {
    await recordWarning(deps, caller, plan?.id, warning);
  }
  return counted.value.standing;
}

/**
 * A quota threshold crossed, in the account's audit log, and so on the event bus for the team's
 * systems (`account.quota_warning`). Only the request that crossed it records it; a failed write
 * is logged, never the request's failure (it was served: the count stands).
 */
async function recordWarning(
  deps: PlanLimitsDeps,
  caller: LimitedCaller,
  plan: string | undefined,
  warning: QuotaWarning,
): Promise<void> {
  const ofKey = warning.subject === 'key';
  // A key's warning goes to the key's own account: a parent's key acting for its subuser is the
  // parent's.
  const accountId = ofKey ? (caller.parentAccountId ?? caller.accountId) : caller.accountId;
  const event = auditEvent(deps, {
    accountId,
    action: ofKey ? 'api_key.quota_warning' : 'account.quota_warning',
    actor: null,
    targetKeyId: ofKey ? caller.keyId : '-',
    details: {
      ...(ofKey || plan === undefined ? {} : { plan }),
      quota: warning.period === 'day' ? 'daily' : 'monthly',
      percent: String(warning.percent),
      limit: String(warning.limit),
      used: String(warning.used),
      resets_at: warning.resetsAt.toISOString(),
    },
  });
  try {
    await deps.repo.appendEvent(event);
  } catch (error) {
    logger.error('quota warning not recorded', { accountId, action: event.action, error });
  }
}

type Middleware<TContext extends Context> = MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  TContext
>;

/** {@link checkPlan} as a middleware of the key routes, after the caller (and `on-behalf-of`). */
export function planLimits<TContext extends Context & { caller: LimitedCaller }>(
  route: Pick<RouteDefinition, 'cost'>,
  deps: () => PlanLimitsDeps,
  /** Whether the deployment declares plans: without them a request costs one check, no wiring. */
  plansDeclared: () => boolean,
): Middleware<TContext> {
  // Per request: the local runtime serves concurrent requests with one handler.
  const standings = new WeakMap<object, Standing>();
  return {
    before: async function planLimitsBefore(request) {
      if (route.cost === 0 || !plansDeclared()) return;
      const standing = await checkPlan(deps(), route, request.context.caller);
      if (standing) standings.set(request, standing);
    },
    after: function planLimitsAfter(request) {
      const standing = standings.get(request);
      if (standing && request.response) request.response = withStanding(request.response, standing);
    },
  };
}

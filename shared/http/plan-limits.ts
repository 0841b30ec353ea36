import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deployment } from '../deployment/deployment.js';
import { enforceLimits, planOf, type Standing, type UsageStore } from '../domain/limits.js';
import type { KeyRepository } from '../domain/ports.js';
import type { RouteDefinition } from '../routes.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/**
 * How long a container trusts an account's plan it read: a plan changed by the operator applies
 * within this bound (the usage counted meanwhile is exact; only which limits apply lags).
 */
export const PLAN_CACHE_MS = 30_000;

const plans = new Map<string, { plan: string | undefined; until: number }>();

async function accountPlan(repo: KeyRepository, accountId: string, now: number) {
  const known = plans.get(accountId);
  if (known && known.until > now) return known.plan;
  const plan = (await repo.getAccount(accountId))?.plan;
  plans.set(accountId, { plan, until: now + PLAN_CACHE_MS });
  return plan;
}

export interface PlanLimitsDeps {
  deployment: Deployment;
  repo: KeyRepository;
  usage: () => UsageStore;
  now: () => Date;
}

/**
 * Counts a request against its account's plan before the operation runs (issue 17), so a cached
 * authorizer result cannot skip it and a refused request costs no work: 429 with SendGrid's
 * envelope, `Retry-After` and `X-RateLimit-*`, or, admitted, the same headers on the answer.
 * Without plans in the team's config nothing is counted, as before. A counting fault refuses
 * (503): never free service.
 */
export async function checkPlan(
  deps: PlanLimitsDeps,
  route: Pick<RouteDefinition, 'cost'>,
  accountId: string,
): Promise<Standing | undefined> {
  const declared = deps.deployment.spec.plans ?? [];
  const cost = route.cost ?? 1;
  if (declared.length === 0 || cost === 0) return undefined;
  const now = deps.now();
  const plan = planOf(
    declared,
    deps.deployment.spec.defaultPlan,
    await accountPlan(deps.repo, accountId, now.getTime()),
  );
  if (!plan) return undefined;
  const counted = await enforceLimits(
    { usage: deps.usage(), now: () => now },
    [{ subject: 'account', counter: `a#${accountId}`, limits: plan }],
    cost,
  );
  if (!counted.ok) throw counted.error;
  return counted.value;
}

/** The answer with where the caller stands (nothing when unlimited). */
export function withStanding(
  response: APIGatewayProxyResult,
  standing: Standing | undefined,
): APIGatewayProxyResult {
  if (!standing) return response;
  return { ...response, headers: { ...response.headers, ...rateLimitHeaders(standing) } };
}

type Middleware<TContext extends Context> = MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  TContext
>;

/** {@link checkPlan} as a middleware of the key routes, after the caller (and `on-behalf-of`). */
export function planLimits<TContext extends Context & { caller: { accountId: string } }>(
  route: Pick<RouteDefinition, 'cost'>,
  deps: () => PlanLimitsDeps,
): Middleware<TContext> {
  // Per request: the local runtime serves concurrent requests with one handler.
  const standings = new WeakMap<object, Standing>();
  return {
    before: async function planLimitsBefore(request) {
      const standing = await checkPlan(deps(), route, request.context.caller.accountId);
      if (standing) standings.set(request, standing);
    },
    after: function planLimitsAfter(request) {
      if (request.response) {
        request.response = withStanding(request.response, standings.get(request));
      }
    },
  };
}

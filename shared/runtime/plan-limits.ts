import { DynamoDbUsageStore } from '../adapters/dynamodb/usage-store.js';
import type { UsageStore } from '../domain/limits.js';
import { checkPlan, type LimitedCaller, type PlanLimitsDeps } from '../http/plan-limits.js';
import type { RouteDefinition } from '../routes.js';
import { activeDeployment } from './deployment.js';
import { dynamoDocumentClient, keyRepository, runtimeConfig } from './storage.js';

let usage: UsageStore | undefined;

/**
 * The usage counters (plans and limits), here rather than beside storage so the authorizer, which
 * never counts, does not bundle them. Without its table a deployment with plans cannot count, and
 * refuses rather than serve unlimited: a wiring error, 500 with the cause in the log.
 */
export function usageStore(): UsageStore {
  if (usage) return usage;
  const table = runtimeConfig().usageTable;
  if (!table) throw new Error('KEYGATE_USAGE_TABLE must be set where the deployment has plans');
  usage = new DynamoDbUsageStore(dynamoDocumentClient(), table);
  return usage;
}

/** Plans' wiring: the deployment's plans, the account's plan from storage, the usage counters. */
export function planLimitDeps(): PlanLimitsDeps {
  return {
    deployment: activeDeployment(),
    repo: keyRepository(),
    usage: usageStore,
    now: () => new Date(),
  };
}

/** A team route's plan check, for `wrapTeamHandler` (only where the team declared plans). */
export function teamPlanCheck(route: Pick<RouteDefinition, 'cost'>) {
  return (caller: LimitedCaller) => checkPlan(planLimitDeps(), route, caller);
}

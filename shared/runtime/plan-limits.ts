import { checkPlan, type PlanLimitsDeps } from '../http/plan-limits.js';
import type { RouteDefinition } from '../routes.js';
import { activeDeployment } from './deployment.js';
import { keyRepository, usageStore } from './storage.js';

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
  return (accountId: string) => checkPlan(planLimitDeps(), route, accountId);
}

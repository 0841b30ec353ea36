import { BadRequestError, ForbiddenError, fail, ok, type Result } from './errors.js';
import { type DeclaredPlans, limitsWithin, type Plan, planOf } from './limits.js';

export type { DeclaredPlans };

import type { AccountRecord } from './ports.js';

/**
 * A parent choosing its subuser's plan (issue 17, additive `plan` on SendGrid's Subusers routes).
 * The choice is bounded as scopes are: a plan the team declared, and never looser than the plan
 * that applies to the parent itself, compared per dimension ({@link limitsWithin}). So a parent
 * on `starter` cannot sell its customer `pro`, and a leaked parent key cannot lift a subuser
 * beyond what the parent pays for.
 */

/** Without plans there is nothing to choose: `plan` is refused rather than ignored. */
export const NO_PLANS = 'plan cannot be set: this deployment declares no plans';
/** Names nothing: which plans exist is the team's to tell its customers. */
export const UNKNOWN_PLAN = 'plan must be one of the plans this deployment declares';
export const LOOSER_PLAN =
  "plan cannot be looser than your own account's plan: you cannot grant more than you have";

/**
 * The plan that applies to an account, as the route wrapper counts it: its own when the team
 * declared it, else the default plan; null when none applies (no plans: not limited).
 */
export function appliedPlanId(
  declared: DeclaredPlans,
  account: Pick<AccountRecord, 'plan'>,
): string | null {
  return planOf(declared.plans, declared.defaultPlan, account.plan)?.id ?? null;
}

/**
 * The plan `parent` may put a subuser on when it asks for `asked`: 400 when the team declared no
 * plans or not that one, 403 when it is looser than the parent's own in any dimension (a parent
 * no plan applies to is unlimited, and may give any).
 */
export function grantablePlan(
  declared: DeclaredPlans,
  parent: Pick<AccountRecord, 'plan'>,
  asked: string,
): Result<string> {
  if (declared.plans.length === 0) return fail(new BadRequestError(NO_PLANS, 'plan'));
  const plan = declared.plans.find((p) => p.id === asked);
  if (!plan) return fail(new BadRequestError(UNKNOWN_PLAN, 'plan'));
  const own = planOf(declared.plans, declared.defaultPlan, parent.plan);
  if (!limitsWithin(own, plan)) return fail(new ForbiddenError(LOOSER_PLAN, 'plan'));
  return ok(plan.id);
}

/**
 * The plans `parent` may give its subusers (`GET /v3/plans`, the console's plan select): those
 * {@link grantablePlan} would accept, in the team's order, and the plan that applies to the
 * parent itself. None declared: no plans and no own plan.
 */
export function grantablePlans(
  declared: DeclaredPlans,
  parent: Pick<AccountRecord, 'plan'>,
): { plans: Plan[]; ownPlan: string | null } {
  const own = planOf(declared.plans, declared.defaultPlan, parent.plan);
  return {
    plans: declared.plans.filter((plan) => limitsWithin(own, plan)),
    ownPlan: own?.id ?? null,
  };
}

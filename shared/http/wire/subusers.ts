import type { Plan } from '../../domain/limits.js';
import type { AccountRecord } from '../../domain/ports.js';
import { appliedPlanId, type DeclaredPlans } from '../../domain/subuser-plans.js';
import type {
  CreatedSubuserView,
  GrantablePlanListView,
  SubuserViewType,
} from '../../schemas/subusers.js';
import { limitsView } from './api-keys.js';

/**
 * SendGrid's Subusers wire format. Every Keygate subuser is `global`; the region is shown when
 * the request asks for it (`include_region`), as SendGrid's answers do. Keygate adds `plan`: the
 * plan that applies to the subuser (null without plans).
 */

export function createdSubuserView(
  subuser: AccountRecord,
  withRegion: boolean,
  declared: DeclaredPlans,
): CreatedSubuserView {
  return {
    username: subuser.name,
    user_id: subuser.userId ?? 0,
    email: subuser.email ?? '',
    credit_allocation: { type: 'unlimited' },
    ...(withRegion ? { region: 'global' as const } : {}),
    plan: appliedPlanId(declared, subuser),
  };
}

export function subuserView(
  account: AccountRecord,
  withRegion: boolean,
  declared: DeclaredPlans,
): SubuserViewType {
  return {
    disabled: account.disabled === true,
    id: account.userId ?? 0,
    username: account.name,
    email: account.email ?? '',
    ...(withRegion ? { region: 'global' as const } : {}),
    plan: appliedPlanId(declared, account),
  };
}

/** `GET /v3/plans`: each plan's limits as a key's are written (snake_case). */
export function grantablePlansView(grantable: {
  plans: readonly Plan[];
  ownPlan: string | null;
}): GrantablePlanListView {
  return {
    plans: grantable.plans.map(({ id, rate, quota }) => ({ id, ...limitsView({ rate, quota }) })),
    own_plan: grantable.ownPlan,
  };
}

import type { AccountRecord } from '../../domain/ports.js';
import { appliedPlanId, type DeclaredPlans } from '../../domain/subuser-plans.js';
import type { CreatedSubuserView, SubuserViewType } from '../../schemas/subusers.js';

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

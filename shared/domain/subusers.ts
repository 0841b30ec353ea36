import { randomInt } from 'node:crypto';
import { PLAN_NAME_MESSAGE, PLAN_NAME_PATTERN } from './accounts.js';
import { auditEvent } from './audit.js';
import type { Caller } from './caller.js';
import {
  BadRequestError,
  ForbiddenError,
  fail,
  NotFoundError,
  ok,
  type Result,
  ServiceUnavailableError,
} from './errors.js';
import { randomId } from './key-format.js';
import type { Plan } from './limits.js';
import type { AccountRecord, AuditEvent, Deps } from './ports.js';
import { INVALID_USERNAME, SUBUSER_NAME_PATTERN } from './subuser-names.js';
import { type DeclaredPlans, grantablePlan, grantablePlans } from './subuser-plans.js';

// Where the request schema and these operations both read them (no import cycle).
export { INVALID_USERNAME, SUBUSER_NAME_PATTERN };

/**
 * Subusers (SendGrid's contract): accounts a parent account creates for its customers, manages
 * the keys of with the `on-behalf-of` header, disables, enables and deletes. A subuser has no
 * owner key: its parent creates its keys (only with scopes the parent's key holds), and a
 * subuser's keys with `api_keys.*` scopes manage the subuser's own keys. Subusers cannot have
 * subusers, and their keys cannot use `on-behalf-of`.
 */

/**
 * SendGrid's answer when a key may not reach what it asks for. The same for every refused
 * `on-behalf-of` (an unknown name, another parent's subuser, a subuser's own key, a subuser
 * being deleted): which of them it was is not the caller's business.
 */
export const ON_BEHALF_OF_REFUSED = 'access forbidden';

/** SendGrid's documented 403 of the Subusers routes: a subuser's key calling them. */
export const NOT_A_PARENT = 'you dont have permission to access this resource';

/** Another parent's subuser answers exactly as one that does not exist (as keys do). */
export const SUBUSER_NOT_FOUND = 'No user found';

export const DEFAULT_SUBUSERS_LIMIT = 100;
export const USERNAME_EXISTS = 'username exists';
export const NO_FIELDS = 'no fields provided';

/** A new subuser's numeric ID: random, safe in JSON, reserved (`userid#…`) so unique. */
const USER_ID_RANGE = [1_000_000, 2 ** 48] as const;
const USER_ID_ATTEMPTS = 3;

/**
 * The caller to act as: the caller itself, or, with `on-behalf-of`, the named subuser's account
 * with the parent's key (its scopes, type and restrictions bound everything it does there).
 * Anything but the caller's own live subuser is refused alike.
 */
export async function actingCaller(deps: Deps, caller: Caller): Promise<Result<Caller>> {
  if (caller.onBehalfOf === undefined) return ok(caller);
  const subuser = await subuserOf(deps, caller.accountId, caller.onBehalfOf);
  if (!subuser) return fail(new ForbiddenError(ON_BEHALF_OF_REFUSED));
  const { onBehalfOf: _, ...rest } = caller;
  return ok({ ...rest, accountId: subuser.accountId, parentAccountId: caller.accountId });
}

/**
 * Creates a subuser of the caller's account (`POST /v3/subusers`), on the plan the request asks
 * for (one of `declared`, within the parent's own) or else on its parent's.
 */
export async function createSubuser(
  deps: Deps,
  caller: Caller,
  input: { username: string; email: string; plan?: string | undefined },
  declared: DeclaredPlans,
): Promise<Result<AccountRecord>> {
  const parent = await parentOf(deps, caller);
  if (!parent.ok) return parent;
  const chosen =
    input.plan === undefined ? undefined : grantablePlan(declared, parent.value, input.plan);
  if (chosen && !chosen.ok) return chosen;
  const plan = chosen ? chosen.value : parent.value.plan;
  const limit = parent.value.subuserLimit ?? deps.config.defaultSubuserLimit;
  for (let attempt = 1; ; attempt++) {
    const now = deps.now().toISOString();
    // A subuser starts with its parent's limits, and its plan unless the request chose one: the
    // team's settings for its customers.
    const subuser: AccountRecord = {
      accountId: randomId(),
      name: input.username,
      keyLimit: parent.value.keyLimit,
      keyCount: 0,
      ...(plan === undefined ? {} : { plan }),
      ...(parent.value.maxKeyLifetimeSeconds === undefined
        ? {}
        : { maxKeyLifetimeSeconds: parent.value.maxKeyLifetimeSeconds }),
      createdAt: now,
      parentAccountId: parent.value.accountId,
      userId: randomInt(...USER_ID_RANGE),
      email: input.email,
      stateVersion: 0,
    };
    const event = subuserEvent(deps, caller, 'subuser.created', subuser, chosen?.value);
    const created = await deps.repo.createSubuser(parent.value.accountId, limit, subuser, [event]);
    if (created.ok) return ok(subuser);
    switch (created.reason) {
      case 'name_taken':
        return fail(new BadRequestError(USERNAME_EXISTS, 'username'));
      case 'limit_reached':
        return fail(new ForbiddenError(`Cannot create more than ${created.limit} subusers`));
      case 'not_a_parent':
        return fail(new ForbiddenError(NOT_A_PARENT));
      case 'user_id_taken':
        if (attempt >= USER_ID_ATTEMPTS) return fail(new ServiceUnavailableError());
    }
  }
}

/** The caller's subusers, by name (`GET /v3/subusers`). */
export async function listSubusers(
  deps: Deps,
  caller: Caller,
  input: { prefix?: string; limit?: number; offset?: number },
): Promise<Result<AccountRecord[]>> {
  const parent = await parentOf(deps, caller);
  if (!parent.ok) return parent;
  return ok(
    await deps.repo.listSubusers(parent.value.accountId, {
      ...(input.prefix ? { prefix: input.prefix } : {}),
      limit: input.limit ?? DEFAULT_SUBUSERS_LIMIT,
      offset: input.offset ?? 0,
    }),
  );
}

/**
 * The plans the caller may put its subusers on, and its own (`GET /v3/plans`, Keygate's
 * addition): what the console's plan select offers. A subuser's key is refused as on the other
 * Subusers routes, since a subuser has no subusers to give a plan to.
 */
export async function listGrantablePlans(
  deps: Deps,
  caller: Caller,
  declared: DeclaredPlans,
): Promise<Result<{ plans: Plan[]; ownPlan: string | null }>> {
  const parent = await parentOf(deps, caller);
  if (!parent.ok) return parent;
  return ok(grantablePlans(declared, parent.value));
}

/**
 * Disables or enables a subuser, or puts it on another plan, or both (`PATCH
 * /v3/subusers/{name}`). Disabling answers only once every key of the subuser is marked and the
 * gateway's cache of authorizer results is flushed, so its keys are refused from the next
 * request, cached allows included. A plan (one of `declared`, within the parent's own) is written
 * in the same transaction as the state, so a request with both never half-applies; the subuser's
 * requests count against it within a container's plan cache (`PLAN_CACHE_MS`, 30 s).
 */
export async function updateSubuser(
  deps: Deps,
  caller: Caller,
  name: string,
  input: { disabled?: boolean | undefined; plan?: string | undefined },
  declared: DeclaredPlans,
): Promise<Result<true>> {
  if (!SUBUSER_NAME_PATTERN.test(name)) return fail(new BadRequestError(INVALID_USERNAME));
  // SendGrid's rule, with Keygate's `plan` counted as a field.
  if (input.disabled === undefined && input.plan === undefined) {
    return fail(new BadRequestError(NO_FIELDS));
  }
  const parent = await parentOf(deps, caller);
  if (!parent.ok) return parent;
  // Checked before the look-up: the answer cannot tell another parent's subuser from none.
  const chosen =
    input.plan === undefined ? undefined : grantablePlan(declared, parent.value, input.plan);
  if (chosen && !chosen.ok) return chosen;
  const subuser = await subuserOf(deps, parent.value.accountId, name);
  if (!subuser) return fail(new NotFoundError(SUBUSER_NOT_FOUND));
  const plan = chosen?.value;
  const planEvents = plan === undefined ? [] : [planChangedEvent(deps, caller, subuser, plan)];
  const { disabled } = input;
  if (disabled === undefined) {
    // The plan alone: authorizer results do not carry it, so there is no cache to flush.
    const planned =
      plan === undefined
        ? 'done'
        : await deps.repo.setAccountPlan(subuser.accountId, plan, planEvents);
    return planned === 'done' ? ok(true) : fail(new NotFoundError(SUBUSER_NOT_FOUND));
  }
  const outcome = await deps.repo.setAccountDisabled(
    subuser.accountId,
    disabled,
    [
      subuserEvent(deps, caller, disabled ? 'subuser.disabled' : 'subuser.enabled', subuser),
      auditEvent(deps, {
        accountId: subuser.accountId,
        action: disabled ? 'account.disabled' : 'account.enabled',
        actor: { ...caller, parentAccountId: caller.accountId },
        targetKeyId: '-',
        details: { username: subuser.name },
      }),
      ...planEvents,
    ],
    plan === undefined ? {} : { plan },
  );
  if (outcome === 'not_found') return fail(new NotFoundError(SUBUSER_NOT_FOUND));
  // `superseded`: a concurrent change came later and holds; this one happened before it.
  await deps.authorizerCache.flush();
  return ok(true);
}

/**
 * Deletes a subuser and every key it has (`DELETE /v3/subusers/{name}`); its name is free again
 * once the account is gone. A delete that failed half-way is finished by deleting it again.
 */
export async function deleteSubuser(
  deps: Deps,
  caller: Caller,
  name: string,
): Promise<Result<true>> {
  if (!SUBUSER_NAME_PATTERN.test(name)) return fail(new BadRequestError(INVALID_USERNAME));
  const parent = await parentOf(deps, caller);
  if (!parent.ok) return parent;
  const subuser = await subuserOf(deps, parent.value.accountId, name, { deleting: true });
  if (!subuser) return fail(new NotFoundError(SUBUSER_NOT_FOUND));
  const outcome = await deps.repo.deleteSubuser(subuser, [
    subuserEvent(deps, caller, 'subuser.deleted', subuser),
  ]);
  if (outcome === 'not_found') return fail(new NotFoundError(SUBUSER_NOT_FOUND));
  await deps.authorizerCache.flush();
  return ok(true);
}

/**
 * Disables or enables any account, parent or subuser: operators (the CLI), not API callers. A
 * disabled parent's own keys are refused; its subusers keep working until disabled themselves.
 */
export async function setAccountDisabledByOperator(
  deps: Deps,
  accountName: string,
  disabled: boolean,
): Promise<Result<AccountRecord>> {
  const accountId = await deps.repo.findAccountIdByName(accountName);
  const account = accountId ? await deps.repo.getAccount(accountId) : undefined;
  if (!account || account.deleting)
    return fail(new NotFoundError(`no account named "${accountName}"`));
  const events: AuditEvent[] = [
    auditEvent(deps, {
      accountId: account.accountId,
      action: disabled ? 'account.disabled' : 'account.enabled',
      actor: null,
      targetKeyId: '-',
      details: { by: 'operator' },
    }),
  ];
  const outcome = await deps.repo.setAccountDisabled(account.accountId, disabled, events);
  if (outcome === 'not_found') return fail(new NotFoundError(`no account named "${accountName}"`));
  await deps.authorizerCache.flush();
  return ok({ ...account, disabled });
}

/**
 * An operator puts an account (parent or subuser) on another plan. Its requests count against
 * the new plan's limits within a container's plan cache (30 s), its usage so far kept.
 */
export async function setAccountPlanByOperator(
  deps: Deps,
  accountName: string,
  plan: string,
): Promise<Result<AccountRecord>> {
  if (!PLAN_NAME_PATTERN.test(plan)) {
    return fail(new BadRequestError(PLAN_NAME_MESSAGE, 'plan'));
  }
  const accountId = await deps.repo.findAccountIdByName(accountName);
  const account = accountId ? await deps.repo.getAccount(accountId) : undefined;
  if (!account || account.deleting) {
    return fail(new NotFoundError(`no account named "${accountName}"`));
  }
  const event = auditEvent(deps, {
    accountId: account.accountId,
    action: 'account.plan_changed',
    actor: null,
    targetKeyId: '-',
    details: { by: 'operator', plan, ...(account.plan ? { previous: account.plan } : {}) },
  });
  const outcome = await deps.repo.setAccountPlan(account.accountId, plan, [event]);
  if (outcome === 'not_found') return fail(new NotFoundError(`no account named "${accountName}"`));
  return ok({ ...account, plan });
}

/** The caller's own account, which must be a parent (subusers cannot manage subusers). */
async function parentOf(deps: Deps, caller: Caller): Promise<Result<AccountRecord>> {
  const account = await deps.repo.getAccount(caller.accountId);
  // The authorizer vouched for the account moments ago.
  if (!account) return fail(new ServiceUnavailableError());
  if (account.parentAccountId !== undefined) return fail(new ForbiddenError(NOT_A_PARENT));
  return ok(account);
}

/** `name`, if it is a live subuser of `parentId` (or one being deleted, when asked for). */
async function subuserOf(
  deps: Deps,
  parentId: string,
  name: string,
  options: { deleting?: boolean } = {},
): Promise<AccountRecord | undefined> {
  // A name that cannot exist costs no read.
  if (!SUBUSER_NAME_PATTERN.test(name)) return undefined;
  const accountId = await deps.repo.findAccountIdByName(name);
  if (accountId === undefined) return undefined;
  const account = await deps.repo.getAccount(accountId);
  if (!account || account.parentAccountId !== parentId) return undefined;
  if (account.deleting && options.deleting !== true) return undefined;
  return account;
}

function subuserEvent(
  deps: Pick<Deps, 'now'>,
  caller: Caller,
  action: 'subuser.created' | 'subuser.disabled' | 'subuser.enabled' | 'subuser.deleted',
  subuser: AccountRecord,
  /** The plan the parent chose on create, if it chose one. */
  plan?: string,
): AuditEvent {
  return auditEvent(deps, {
    accountId: caller.accountId,
    action,
    actor: caller,
    targetKeyId: '-',
    details: {
      username: subuser.name,
      user_id: String(subuser.userId),
      ...(plan === undefined ? {} : { plan }),
    },
  });
}

/**
 * In the subuser's log, as an operator's change is: the parent's key as the actor, the parent as
 * its account (`actor_account_id`).
 */
function planChangedEvent(
  deps: Pick<Deps, 'now'>,
  caller: Caller,
  subuser: AccountRecord,
  plan: string,
): AuditEvent {
  return auditEvent(deps, {
    accountId: subuser.accountId,
    action: 'account.plan_changed',
    actor: { ...caller, parentAccountId: caller.accountId },
    targetKeyId: '-',
    details: {
      username: subuser.name,
      plan,
      ...(subuser.plan === undefined ? {} : { previous: subuser.plan }),
    },
  });
}

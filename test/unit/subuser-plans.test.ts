import { describe, expect, it } from 'vitest';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import type { Caller } from '../../shared/domain/caller.js';
import { type Limits, limitsWithin, type Plan } from '../../shared/domain/limits.js';
import {
  appliedPlanId,
  type DeclaredPlans,
  grantablePlan,
  grantablePlans,
  LOOSER_PLAN,
  NO_PLANS,
  UNKNOWN_PLAN,
} from '../../shared/domain/subuser-plans.js';
import { createSubuser, SUBUSER_NOT_FOUND, updateSubuser } from '../../shared/domain/subusers.js';
import { failure, makeDeps, unwrap } from './support.js';

const STARTER: Plan = { id: 'starter', rate: { perSecond: 5, burst: 10 }, quota: { perDay: 1000 } };
const PRO: Plan = {
  id: 'pro',
  rate: { perSecond: 50, burst: 100 },
  quota: { perDay: 100_000 },
};
const TINY: Plan = { id: 'tiny', rate: { perSecond: 1, burst: 2 }, quota: { perDay: 10 } };
const DECLARED: DeclaredPlans = { plans: [STARTER, PRO, TINY], defaultPlan: 'starter' };
const NONE: DeclaredPlans = { plans: [], defaultPlan: undefined };

describe('limitsWithin', () => {
  it.each<[string, Limits | undefined, Limits | undefined, boolean]>([
    ['anything within no limits', undefined, PRO, true],
    ['no limits within no limits', undefined, undefined, true],
    ['the same limits', STARTER, { ...STARTER }, true],
    ['tighter in every dimension', STARTER, TINY, true],
    ['a faster rate', STARTER, { ...STARTER, rate: { perSecond: 6, burst: 10 } }, false],
    ['a larger burst', STARTER, { ...STARTER, rate: { perSecond: 5, burst: 11 } }, false],
    ['a larger daily quota', STARTER, { ...STARTER, quota: { perDay: 1001 } }, false],
    ['no rate under a rate', STARTER, { quota: { perDay: 10 } }, false],
    // A monthly quota caps any day: 10 a month is within 1,000 a day; 5,000 a month is not.
    [
      'a monthly quota within the day',
      STARTER,
      { rate: STARTER.rate, quota: { perMonth: 10 } },
      true,
    ],
    [
      'a monthly quota past the day',
      STARTER,
      { rate: STARTER.rate, quota: { perMonth: 5000 } },
      false,
    ],
    ['no limits at all under some', STARTER, undefined, false],
    [
      'a monthly quota the outer lacks',
      STARTER,
      { ...TINY, quota: { perDay: 5, perMonth: 99 } },
      true,
    ],
    [
      'a larger monthly quota',
      { quota: { perMonth: 1000 } },
      { quota: { perDay: 1, perMonth: 1001 } },
      false,
    ],
    // A daily quota caps a month at 31 days' worth: 1 a day fits 1,000 a month; 40 a day does not.
    [
      'a daily quota within the month',
      { quota: { perMonth: 1000 } },
      { quota: { perDay: 1 } },
      true,
    ],
    [
      'a daily quota past the month',
      { quota: { perMonth: 1000 } },
      { quota: { perDay: 40 } },
      false,
    ],
  ])('%s: %s', (_case, outer, inner, within) => {
    // Act / Assert
    expect(limitsWithin(outer, inner)).toBe(within);
  });
});

describe('grantablePlan', () => {
  it('gives a plan no looser than the parent’s own, its own included', () => {
    // Act / Assert
    expect(unwrap(grantablePlan(DECLARED, { plan: 'starter' }, 'tiny'))).toBe('tiny');
    expect(unwrap(grantablePlan(DECLARED, { plan: 'starter' }, 'starter'))).toBe('starter');
  });

  it('refuses a looser plan with 403 on field plan (a parent on starter cannot give pro)', () => {
    // Act
    const error = failure(grantablePlan(DECLARED, { plan: 'starter' }, 'pro'));

    // Assert
    expect(error.code).toBe('forbidden');
    expect(error.errors).toEqual([{ field: 'plan', message: LOOSER_PLAN }]);
  });

  it('bounds a parent whose stored plan is undeclared by the default plan (what limits it)', () => {
    // Act / Assert: 'free' is not declared, so 'starter' applies to the parent
    expect(failure(grantablePlan(DECLARED, { plan: 'free' }, 'pro')).code).toBe('forbidden');
    expect(unwrap(grantablePlan(DECLARED, {}, 'tiny'))).toBe('tiny');
  });

  it('lets a parent no plan applies to (no default, its own undeclared) give any plan', () => {
    // Act / Assert
    const declared = { plans: [STARTER, PRO], defaultPlan: undefined };
    expect(unwrap(grantablePlan(declared, { plan: 'free' }, 'pro'))).toBe('pro');
  });

  it('refuses an undeclared plan, and any plan without plans, with 400 naming no plan', () => {
    // Act
    const unknown = failure(grantablePlan(DECLARED, { plan: 'pro' }, 'enterprise'));
    const none = failure(grantablePlan(NONE, { plan: 'pro' }, 'pro'));

    // Assert
    expect(unknown.code).toBe('bad_request');
    expect(unknown.errors).toEqual([{ field: 'plan', message: UNKNOWN_PLAN }]);
    expect(UNKNOWN_PLAN).not.toMatch(/starter|pro|tiny/);
    expect(none.code).toBe('bad_request');
    expect(none.errors).toEqual([{ field: 'plan', message: NO_PLANS }]);
  });
});

describe('appliedPlanId', () => {
  it("is the account's plan when declared, else the default, else null", () => {
    // Act / Assert
    expect(appliedPlanId(DECLARED, { plan: 'pro' })).toBe('pro');
    expect(appliedPlanId(DECLARED, { plan: 'free' })).toBe('starter');
    expect(appliedPlanId({ plans: [PRO], defaultPlan: undefined }, { plan: 'free' })).toBeNull();
    expect(appliedPlanId(NONE, { plan: 'pro' })).toBeNull();
  });
});

/** A parent on `plan` and its owner key as the caller, on an in-memory repository. */
async function parentOn(plan: string) {
  const { deps, repo } = makeDeps();
  const account = unwrap(await bootstrapAccount(deps, { name: `acme-${plan}`, plan }));
  const owner = await repo.getKey(account.keyId);
  const caller: Caller = {
    accountId: account.accountId,
    keyId: account.keyId,
    type: 'owner',
    scopes: owner?.scopes ?? [],
  };
  return { deps, repo, caller };
}

/** `parent` creates the subuser `username`, on `plan` when given. */
function create(
  parent: Pick<Awaited<ReturnType<typeof parentOn>>, 'deps' | 'caller'>,
  username: string,
  plan?: string,
) {
  const input = { username, email: `${username}@example.com`, ...(plan ? { plan } : {}) };
  return createSubuser(parent.deps, parent.caller, input, DECLARED);
}

describe('a parent choosing its subuser’s plan', () => {
  it('creates a subuser on a chosen plan, or on the parent’s, and records the choice', async () => {
    // Arrange
    const parent = await parentOn('starter');
    const { repo, caller } = parent;

    // Act
    const chosen = unwrap(await create(parent, 'a', 'tiny'));
    const inherited = unwrap(await create(parent, 'b'));

    // Assert
    expect(chosen.plan).toBe('tiny');
    expect(inherited.plan).toBe('starter');
    const { events } = await repo.listEvents(caller.accountId, { limit: 10 });
    const created = events.filter((e) => e.action === 'subuser.created').map((e) => e.details);
    expect(created).toContainEqual({ username: 'a', user_id: String(chosen.userId), plan: 'tiny' });
    expect(created).toContainEqual({ username: 'b', user_id: String(inherited.userId) });
  });

  it('refuses a looser plan on create, and creates nothing', async () => {
    // Arrange
    const parent = await parentOn('starter');
    const { repo } = parent;

    // Act
    const error = failure(await create(parent, 'a', 'pro'));

    // Assert
    expect(error.code).toBe('forbidden');
    expect(await repo.findAccountIdByName('a')).toBeUndefined();
  });

  it('changes the plan alone, recorded as account.plan_changed in the subuser’s log with the parent as actor', async () => {
    // Arrange
    const parent = await parentOn('pro');
    const { deps, repo, caller } = parent;
    const subuser = unwrap(await create(parent, 'a', 'tiny'));

    // Act
    unwrap(await updateSubuser(deps, caller, 'a', { plan: 'starter' }, DECLARED));

    // Assert
    const stored = await repo.getAccount(subuser.accountId);
    expect(stored?.plan).toBe('starter');
    expect(stored?.disabled).toBeUndefined();
    const { events } = await repo.listEvents(subuser.accountId, { limit: 10 });
    expect(events.find((e) => e.action === 'account.plan_changed')).toMatchObject({
      actorKeyId: caller.keyId,
      actorAccountId: caller.accountId,
      targetKeyId: '-',
      details: { username: 'a', plan: 'starter', previous: 'tiny' },
    });
  });

  it('changes the plan and the state together', async () => {
    // Arrange
    const parent = await parentOn('pro');
    const { deps, repo, caller } = parent;
    const subuser = unwrap(await create(parent, 'a'));

    // Act
    unwrap(await updateSubuser(deps, caller, 'a', { disabled: true, plan: 'tiny' }, DECLARED));

    // Assert
    const stored = await repo.getAccount(subuser.accountId);
    expect([stored?.disabled, stored?.plan]).toEqual([true, 'tiny']);
    const { events } = await repo.listEvents(subuser.accountId, { limit: 10 });
    expect(events.map((e) => e.action).sort()).toEqual([
      'account.disabled',
      'account.plan_changed',
    ]);
  });

  it('refuses a looser plan with the state, and changes neither', async () => {
    // Arrange
    const parent = await parentOn('starter');
    const { deps, repo, caller } = parent;
    const subuser = unwrap(await create(parent, 'a'));

    // Act
    const error = failure(
      await updateSubuser(deps, caller, 'a', { disabled: true, plan: 'pro' }, DECLARED),
    );

    // Assert
    expect(error.code).toBe('forbidden');
    const stored = await repo.getAccount(subuser.accountId);
    expect([stored?.disabled, stored?.plan]).toEqual([undefined, 'starter']);
  });

  it('answers "no fields provided" only when neither disabled nor plan is given', async () => {
    // Arrange
    const parent = await parentOn('starter');
    const { deps, caller } = parent;

    // Act
    const error = failure(await updateSubuser(deps, caller, 'a', {}, DECLARED));

    // Assert
    expect(error.errors).toEqual([{ field: null, message: 'no fields provided' }]);
  });

  it('answers a plan change of another parent’s subuser exactly as an unknown name', async () => {
    // Arrange: two parents on pro in one store; the other has a subuser
    const parent = await parentOn('pro');
    const { deps, repo, caller } = parent;
    const other = unwrap(await bootstrapAccount(deps, { name: 'other', plan: 'pro' }));
    const otherCaller: Caller = { ...caller, accountId: other.accountId, keyId: other.keyId };
    const theirs = unwrap(
      await createSubuser(
        deps,
        otherCaller,
        { username: 'theirs', email: 't@example.com', plan: 'pro' },
        DECLARED,
      ),
    );

    // Act
    const foreign = failure(
      await updateSubuser(deps, caller, 'theirs', { plan: 'tiny' }, DECLARED),
    );
    const unknown = failure(
      await updateSubuser(deps, caller, 'nobody', { plan: 'tiny' }, DECLARED),
    );

    // Assert
    expect(foreign.code).toBe('not_found');
    expect(foreign.errors).toEqual([{ field: null, message: SUBUSER_NOT_FOUND }]);
    expect(unknown.code).toBe('not_found');
    expect(unknown.errors).toEqual(foreign.errors);
    expect((await repo.getAccount(theirs.accountId))?.plan).toBe('pro');
  });
});

describe('grantablePlans', () => {
  it('offers exactly the plans grantablePlan accepts, in the declared order, with the own plan', () => {
    // A plan as fast as starter but with a larger burst: looser in one dimension only
    const bursty: Plan = { id: 'bursty', rate: { perSecond: 5, burst: 11 }, quota: { perDay: 10 } };
    const declared: DeclaredPlans = { ...DECLARED, plans: [...DECLARED.plans, bursty] };

    const offered = grantablePlans(declared, { plan: 'free' });

    expect(offered).toEqual({ plans: [STARTER, TINY], ownPlan: 'starter' });
    for (const plan of declared.plans) {
      expect(grantablePlan(declared, { plan: 'free' }, plan.id).ok).toBe(
        offered.plans.includes(plan),
      );
    }
  });

  it('offers every plan to a parent on the loosest, and nothing without plans', () => {
    expect(grantablePlans(DECLARED, { plan: 'pro' })).toEqual({
      plans: [STARTER, PRO, TINY],
      ownPlan: 'pro',
    });
    expect(grantablePlans(NONE, { plan: 'pro' })).toEqual({ plans: [], ownPlan: null });
  });
});

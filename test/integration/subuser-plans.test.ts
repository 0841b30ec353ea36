import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SPEC } from '../../shared/deployment/deployment.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { LOOSER_PLAN, UNKNOWN_PLAN } from '../../shared/domain/subuser-plans.js';
import { PLAN_CACHE_MS } from '../../shared/http/plan-limits.js';
import { useDeployment } from '../../shared/runtime/deployment.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { CreatedSubuser, GrantablePlanList, SubuserList } from '../../shared/schemas/subusers.js';
import { createGateway } from '../helpers/gateway.js';
import { accountState } from '../helpers/invariants.js';

/**
 * A parent choosing its subuser's plan through SendGrid's Subusers routes (Keygate's additive
 * `plan`), through the API Gateway emulator (the real authorizer, its cache on, DynamoDB Local),
 * on a deployment with plans. The quotas differ only in size, so `X-RateLimit-Limit` tells which
 * plan a request was counted against. The abuse cases first: a looser plan, an undeclared one, a
 * subuser's own key, another parent's subuser.
 */

const PLANS_SPEC = {
  ...DEFAULT_SPEC,
  plans: [
    { id: 'tiny', quota: { perDay: 50 } },
    { id: 'starter', quota: { perDay: 1000 } },
    { id: 'pro', quota: { perDay: 100_000 } },
  ],
  defaultPlan: 'starter',
};
useDeployment(PLANS_SPEC);
const { call } = createGateway({ cacheTtlSeconds: 300 });

const uniqueName = (prefix = 'sub') => `${prefix}-${randomBytes(5).toString('hex')}`;
const subuserBody = (username: string, plan?: unknown) => ({
  username,
  email: `${username}@example.com`,
  password: 'unused-Passw0rd',
  ips: [],
  ...(plan === undefined ? {} : { plan }),
});

/** A parent account on `plan` (none: the stored default, `free`, so the default plan applies). */
async function parentOn(plan?: string) {
  const created = await bootstrapAccount(defaultDeps(), {
    name: `parent-${randomBytes(6).toString('hex')}`,
    subuserLimit: 100,
    ...(plan ? { plan } : {}),
  });
  if (!created.ok) throw created.error;
  return {
    accountId: created.value.accountId,
    keyId: created.value.keyId,
    key: created.value.apiKey,
  };
}

type Parent = Awaited<ReturnType<typeof parentOn>>;

async function createSubuser(parent: Parent, plan?: string) {
  const username = uniqueName();
  const res = await call(
    'POST',
    '/v3/subusers',
    { key: parent.key, body: subuserBody(username, plan) },
    CreatedSubuser,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return username;
}

async function storedAccount(username: string) {
  const { repo } = defaultDeps();
  const id = await repo.findAccountIdByName(username);
  return id ? repo.getAccount(id) : undefined;
}

async function listed(parent: Parent, username: string) {
  const res = await call(
    'GET',
    '/v3/subusers',
    { key: parent.key, query: { username } },
    SubuserList,
  );
  expect(res.status).toBe(200);
  return res.body.find((s) => s.username === username);
}

/** A key of the subuser's own (made by its parent acting for it) with every subusers scope. */
async function subuserKey(parent: Parent, username: string) {
  const res = await call(
    'POST',
    '/v3/api_keys',
    {
      key: parent.key,
      headers: { 'on-behalf-of': username },
      body: {
        name: 'own',
        scopes: ['subusers.create', 'subusers.read', 'subusers.update', 'subusers.delete'],
      },
    },
    CreatedApiKey,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.api_key;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('choosing a subuser’s plan: what it refuses', () => {
  it('never lets a parent on starter put its subuser on pro, on create or after, and changes nothing', async () => {
    // Arrange: a parent on starter (the default plan) with a subuser on it
    const parent = await parentOn();
    const existing = await createSubuser(parent);
    const refusedName = uniqueName();

    // Act
    const created = await call('POST', '/v3/subusers', {
      key: parent.key,
      body: subuserBody(refusedName, 'pro'),
    });
    const patched = await call('PATCH', `/v3/subusers/${existing}`, {
      key: parent.key,
      body: { plan: 'pro' },
    });
    const both = await call('PATCH', `/v3/subusers/${existing}`, {
      key: parent.key,
      body: { disabled: true, plan: 'pro' },
    });

    // Assert: 403 on `plan`, no subuser made, the existing one neither moved nor disabled
    for (const res of [created, patched, both]) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ errors: [{ field: 'plan', message: LOOSER_PLAN }] });
    }
    expect(await storedAccount(refusedName)).toBeUndefined();
    const stored = await storedAccount(existing);
    expect([stored?.plan, stored?.disabled]).toEqual(['free', undefined]);
  });

  it.each([
    ['an undeclared plan', 'enterprise', UNKNOWN_PLAN],
    ['a plan that is not a string', 7, 'plan must be a string'],
    ['null', null, 'plan must be a string'],
  ])('answers 400 on field plan to %s, and changes nothing', async (_case, plan, message) => {
    // Arrange
    const parent = await parentOn('pro');
    const existing = await createSubuser(parent);
    const refusedName = uniqueName();

    // Act
    const created = await call('POST', '/v3/subusers', {
      key: parent.key,
      body: subuserBody(refusedName, plan),
    });
    const patched = await call('PATCH', `/v3/subusers/${existing}`, {
      key: parent.key,
      body: { disabled: true, plan },
    });

    // Assert
    for (const res of [created, patched]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ field: 'plan', message }] });
    }
    expect(await storedAccount(refusedName)).toBeUndefined();
    const stored = await storedAccount(existing);
    expect([stored?.plan, stored?.disabled]).toEqual(['pro', undefined]);
  });

  it("refuses a subuser's own key (SendGrid's 403) and its parent acting for it", async () => {
    // Arrange: a subuser on tiny holding a key with every subusers scope
    const parent = await parentOn('pro');
    const username = await createSubuser(parent, 'tiny');
    const own = await subuserKey(parent, username);

    // Act
    const byOwnKey = await call('PATCH', `/v3/subusers/${username}`, {
      key: own,
      body: { plan: 'tiny' },
    });
    const byParentActingForIt = await call('PATCH', `/v3/subusers/${username}`, {
      key: parent.key,
      headers: { 'on-behalf-of': username },
      body: { plan: 'pro' },
    });
    const creating = await call('POST', '/v3/subusers', {
      key: own,
      body: subuserBody(uniqueName(), 'tiny'),
    });

    // Assert: the Subusers routes are a parent's own, and take no on-behalf-of
    const notAParent = {
      errors: [{ field: null, message: 'you dont have permission to access this resource' }],
    };
    for (const res of [byOwnKey, creating]) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual(notAParent);
    }
    expect(byParentActingForIt.status).toBe(400);
    expect(byParentActingForIt.body).toEqual({
      errors: [
        {
          field: 'on-behalf-of',
          message: 'the on-behalf-of header is not supported on this route',
        },
      ],
    });
    expect((await storedAccount(username))?.plan).toBe('tiny');
  });

  it("answers a plan change of another parent's subuser byte for byte as an unknown name", async () => {
    // Arrange
    const parent = await parentOn('pro');
    const other = await parentOn('pro');
    const theirs = await createSubuser(other, 'pro');

    // Act
    const foreign = await call('PATCH', `/v3/subusers/${theirs}`, {
      key: parent.key,
      body: { plan: 'tiny' },
    });
    const unknown = await call('PATCH', `/v3/subusers/${uniqueName()}`, {
      key: parent.key,
      body: { plan: 'tiny' },
    });

    // Assert
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(unknown.text);
    expect(foreign.headers).toEqual(unknown.headers);
    expect((await storedAccount(theirs))?.plan).toBe('pro');
  });
});

describe('choosing a subuser’s plan', () => {
  it('creates subusers on a chosen plan or on the parent’s, and lists the plan that applies', async () => {
    // Arrange: a parent on the default plan (stored `free`, so `starter` applies)
    const parent = await parentOn();

    // Act
    const chosenName = uniqueName();
    const chosen = await call(
      'POST',
      '/v3/subusers',
      { key: parent.key, body: subuserBody(chosenName, 'tiny') },
      CreatedSubuser,
    );
    const inherited = await createSubuser(parent);

    // Assert: SendGrid's shape (the contract, checked by the gateway helper) plus `plan`
    expect(chosen.status).toBe(200);
    expect(chosen.body).toEqual({
      username: chosenName,
      user_id: expect.any(Number),
      email: `${chosenName}@example.com`,
      credit_allocation: { type: 'unlimited' },
      plan: 'tiny',
    });
    expect((await listed(parent, chosenName))?.plan).toBe('tiny');
    expect(await listed(parent, inherited)).toMatchObject({ plan: 'starter', disabled: false });
    expect((await storedAccount(inherited))?.plan).toBe('free');
  });

  it("moves a subuser to another plan: recorded in its log, its key counted against the new plan once the plan cache's 30 s are over", async () => {
    // Arrange: a parent on pro, its subuser on starter with a key of its own, counted once
    vi.useFakeTimers({ toFake: ['Date'] });
    const parent = await parentOn('pro');
    const username = await createSubuser(parent, 'starter');
    const key = await subuserKey(parent, username);
    const before = await call('GET', '/v3/scopes', { key });

    // Act
    const moved = await call('PATCH', `/v3/subusers/${username}`, {
      key: parent.key,
      body: { plan: 'tiny' },
    });
    const cached = await call('GET', '/v3/scopes', { key });
    vi.setSystemTime(Date.now() + PLAN_CACHE_MS + 1000);
    const after = await call('GET', '/v3/scopes', { key });

    // Assert: the plan, the answer, and the counting (the cached plan until its time is up)
    expect(moved.status).toBe(204);
    expect((await listed(parent, username))?.plan).toBe('tiny');
    expect(before.headers['x-ratelimit-limit']).toBe('1000');
    expect(cached.headers['x-ratelimit-limit']).toBe('1000');
    expect(after.status).toBe(200);
    expect(after.headers['x-ratelimit-limit']).toBe('50');
    // The day's count is the subuser's, kept across the change: its key's creation (its parent
    // acting for it) and its three requests
    expect(after.headers['x-ratelimit-remaining']).toBe('46');
    const subuser = await storedAccount(username);
    const { events } = await defaultDeps().repo.listEvents(subuser?.accountId ?? '', { limit: 20 });
    const changed = events.filter((e) => e.action === 'account.plan_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      actorKeyId: parent.keyId,
      actorAccountId: parent.accountId,
      targetKeyId: '-',
      details: { username, plan: 'tiny', previous: 'starter' },
    });
  });

  it('changes the state and the plan together, and neither is lost to a racing change of the state', async () => {
    // Arrange: a subuser on pro with keys
    const parent = await parentOn('pro');
    const username = await createSubuser(parent, 'pro');
    for (let i = 0; i < 3; i++) await subuserKey(parent, username);
    const accountId = (await storedAccount(username))?.accountId ?? '';

    for (const plan of ['tiny', 'starter', 'tiny']) {
      // Act: changes of its state racing one that also moves it (started among them, so that
      // it often reads a state another one then changes; each of them can win over it once)
      const patch = (body: object) =>
        call('PATCH', `/v3/subusers/${username}`, { key: parent.key, body });
      const toggles = (from: number) =>
        Array.from({ length: 4 }, (_, i) => patch({ disabled: (from + i) % 2 === 0 }));
      const results = await Promise.all([
        ...toggles(0),
        patch({ disabled: true, plan }),
        ...toggles(1),
      ]);

      // Assert: every change answered, the plan written, and the keys say what the account says
      expect(results.map((r) => r.status)).toEqual(Array(9).fill(204));
      const state = await accountState(accountId);
      expect(state.account?.plan).toBe(plan);
      const disabled = state.account?.disabled === true;
      expect(state.keys.map((k) => k.accountDisabled === true)).toEqual(Array(3).fill(disabled));
    }
    const { events } = await defaultDeps().repo.listEvents(accountId, { limit: 100 });
    expect(events.filter((e) => e.action === 'account.plan_changed')).toHaveLength(3);
  });

  it('disables and moves a subuser in one request', async () => {
    // Arrange
    const parent = await parentOn('pro');
    const username = await createSubuser(parent);

    // Act
    const res = await call('PATCH', `/v3/subusers/${username}`, {
      key: parent.key,
      body: { disabled: true, plan: 'starter' },
    });

    // Assert
    expect(res.status).toBe(204);
    expect(await listed(parent, username)).toMatchObject({ disabled: true, plan: 'starter' });
  });
});

describe('GET /v3/plans: what the console offers', () => {
  it("answers only the plans within the parent's own, with their limits, and counts against its plan", async () => {
    // Arrange
    const onStarter = await parentOn();
    const onPro = await parentOn('pro');

    // Act
    const starter = await call('GET', '/v3/plans', { key: onStarter.key }, GrantablePlanList);
    const pro = await call('GET', '/v3/plans', { key: onPro.key }, GrantablePlanList);

    // Assert: pro is never offered to a starter parent; the call counts as any key route
    expect(starter.status, JSON.stringify(starter.body)).toBe(200);
    expect(starter.body).toEqual({
      plans: [
        { id: 'tiny', quota: { per_day: 50 } },
        { id: 'starter', quota: { per_day: 1000 } },
      ],
      own_plan: 'starter',
    });
    expect(starter.headers['x-ratelimit-limit']).toBe('1000');
    expect(starter.headers['x-ratelimit-remaining']).toBe('999');
    expect(pro.body).toEqual({
      plans: [
        { id: 'tiny', quota: { per_day: 50 } },
        { id: 'starter', quota: { per_day: 1000 } },
        { id: 'pro', quota: { per_day: 100_000 } },
      ],
      own_plan: 'pro',
    });
  });

  it('offers no plan the PATCH would refuse', async () => {
    // Arrange
    const parent = await parentOn();
    const username = await createSubuser(parent, 'tiny');
    const offered = await call('GET', '/v3/plans', { key: parent.key }, GrantablePlanList);
    const offeredIds = new Set(offered.body.plans.map((p) => p.id));

    // Act + Assert: every declared plan is offered exactly when the PATCH accepts it
    for (const plan of ['tiny', 'starter', 'pro']) {
      const res = await call('PATCH', `/v3/subusers/${username}`, {
        key: parent.key,
        body: { plan },
      });
      expect([plan, res.status]).toEqual([plan, offeredIds.has(plan) ? 204 : 403]);
    }
  });

  it("refuses a subuser's own key with SendGrid's 403, and the on-behalf-of header with 400", async () => {
    // Arrange
    const parent = await parentOn('pro');
    const username = await createSubuser(parent, 'tiny');
    const own = await subuserKey(parent, username);

    // Act
    const byOwnKey = await call('GET', '/v3/plans', { key: own });
    const actingForIt = await call('GET', '/v3/plans', {
      key: parent.key,
      headers: { 'on-behalf-of': username },
    });

    // Assert: a subuser learns nothing of its parent's plans
    expect(byOwnKey.status).toBe(403);
    expect(byOwnKey.body).toEqual({
      errors: [{ field: null, message: 'you dont have permission to access this resource' }],
    });
    expect(actingForIt.status).toBe(400);
    expect(JSON.stringify(actingForIt.body)).not.toContain('pro');
  });

  it('answers no plans and no own plan where the deployment declares none', async () => {
    // Arrange: the same parent, then the deployment without plans
    const parent = await parentOn('pro');
    const spec = useDeployment({ ...DEFAULT_SPEC }).spec;
    try {
      // Act
      const res = await call('GET', '/v3/plans', { key: parent.key }, GrantablePlanList);

      // Assert
      expect(spec.plans ?? []).toEqual([]);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ plans: [], own_plan: null });
    } finally {
      useDeployment(PLANS_SPEC);
    }
  });
});

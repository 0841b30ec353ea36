import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { useDeployment } from '../../shared/runtime/deployment.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { ApiKeyView, CreatedApiKey, RolledApiKey } from '../../shared/schemas/api-keys.js';
import { loadInvoicesExample } from '../helpers/examples.js';
import { createGateway } from '../helpers/gateway.js';

/**
 * A key's own limits (issue 17) through the API Gateway emulator (the real authorizer with its
 * cache on, Keygate's handlers and the team's wrapped ones, DynamoDB Local): set through
 * SendGrid's key routes as an additive `limits`, carried in the authorizer's context, counted
 * before the account's plan, and never looser than the key that sets them.
 */

// DynamoDB Local serialises writes: the exactness race below queues hundreds of them, longer than
// the 2 s a request waits by default (it would then answer 503: closed, never served, but not
// what that test measures). Read when the process's client is made, after this line.
process.env.KEYGATE_DYNAMODB_TIMEOUT_MS = '30000';
const loaded = await loadInvoicesExample();
useDeployment(
  { ...loaded.spec, plans: [{ id: 'team', quota: { perDay: 100 } }], defaultPlan: 'team' },
  loaded.configDir,
);
const { call } = createGateway({ cacheTtlSeconds: 300 });

const CAPPED = { rate: { per_second: 5, burst: 10 }, quota: { per_day: 20 } };

async function ownerKey(): Promise<string> {
  const created = await bootstrapAccount(defaultDeps(), {
    name: `key-limits-${randomBytes(6).toString('hex')}`,
  });
  if (!created.ok) throw created.error;
  return created.value.apiKey;
}

async function createKey(key: string, body: Record<string, unknown>) {
  return call('POST', '/v3/api_keys', { key, body }, CreatedApiKey);
}

/** A create that is expected to be refused (its answer is the error envelope). */
async function refusedCreate(key: string, body: Record<string, unknown>) {
  return call('POST', '/v3/api_keys', { key, body });
}

/** A key that may manage keys, with `limits` of its own. */
async function cappedAdmin(owner: string) {
  const created = await createKey(owner, {
    name: 'capped admin',
    scopes: ['api_keys.create', 'api_keys.read', 'api_keys.update', 'api_keys.delete'],
    limits: CAPPED,
  });
  expect(created.status).toBe(201);
  return created.body;
}

describe('limits of a key of its own', () => {
  it("refuses a key past its own quota, naming the key, without spending its account's quota", async () => {
    // Arrange: the account's plan allows 100 a day; the key 2
    const owner = await ownerKey();
    const created = await createKey(owner, {
      name: 'two a day',
      scopes: ['alerts.read'],
      limits: { quota: { per_day: 2 } },
    });
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);

    // Act: two admitted (cached allows after the first), then five refused
    const admitted = [
      await call('GET', '/v3/scopes', { key: created.body.api_key }),
      await call('GET', '/v3/scopes', { key: created.body.api_key }),
    ];
    const refused = [];
    for (let i = 0; i < 5; i++)
      refused.push(await call('GET', '/v3/scopes', { key: created.body.api_key }));
    const ownerAfter = await call('GET', '/v3/scopes', { key: owner });

    // Assert
    expect(created.status).toBe(201);
    expect(created.body.limits).toEqual({ quota: { per_day: 2 } });
    expect(admitted.map((a) => a.status)).toEqual([200, 200]);
    expect(admitted.map((a) => a.headers['x-ratelimit-remaining'])).toEqual(['1', '0']);
    expect(admitted[0]?.headers['x-ratelimit-limit']).toBe('2');
    expect(refused.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
    expect(refused[0]?.body).toEqual({
      errors: [
        {
          field: null,
          message: `the daily quota of 2 requests for this API key is used up; it resets at ${midnight.toISOString()}`,
        },
      ],
    });
    expect(Number(refused[0]?.headers['retry-after'])).toBeGreaterThan(0);
    // The account counted the create, the key's two admitted requests and the owner's, never the
    // five refused.
    expect(ownerAfter.headers['x-ratelimit-remaining']).toBe('96');
  });

  it("holds on a cached authorizer result: tightening a key's limits reaches its very next request", async () => {
    // Arrange: a key used once (its allow is cached), with a quota of 5
    const owner = await ownerKey();
    const created = await createKey(owner, {
      name: 'tightened',
      scopes: ['alerts.read'],
      limits: { quota: { per_day: 5 } },
    });
    const key = created.body.api_key;
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);

    // Act: the owner cuts the quota to 1 (already used)
    const put = await call(
      'PUT',
      `/v3/api_keys/${created.body.api_key_id}`,
      {
        key: owner,
        body: { name: 'tightened', scopes: ['alerts.read'], limits: { quota: { per_day: 1 } } },
      },
      ApiKeyView,
    );
    const next = await call('GET', '/v3/scopes', { key });

    // Assert
    expect(put.status).toBe(200);
    expect(put.body.limits).toEqual({ quota: { per_day: 1 } });
    expect(next.status).toBe(429);
  });

  it("records the key's own quota thresholds as api_key.quota_warning events, once each", async () => {
    // Arrange
    const owner = await ownerKey();
    const created = await createKey(owner, {
      name: 'warned',
      scopes: ['alerts.read'],
      limits: { quota: { per_day: 10 } },
    });

    // Act: 12 requests: 8, 9 and 10 cross 80, 90 and 100 %; the refused ones cross nothing
    for (let i = 0; i < 12; i++) await call('GET', '/v3/scopes', { key: created.body.api_key });

    // Assert
    const stored = await defaultDeps().repo.getKey(created.body.api_key_id);
    const { events } = await defaultDeps().repo.listEvents(stored?.accountId ?? '', { limit: 50 });
    const warnings = events.filter((e) => e.action === 'api_key.quota_warning');
    expect(warnings.map((e) => e.details.percent).sort()).toEqual(['100', '80', '90']);
    expect(warnings.every((e) => e.targetKeyId === created.body.api_key_id)).toBe(true);
    expect(warnings.find((e) => e.details.percent === '80')?.details).toMatchObject({
      quota: 'daily',
      limit: '10',
      used: '8',
    });
  });

  it('counts a key on the team’s routes too', async () => {
    // Arrange
    const owner = await ownerKey();
    const created = await createKey(owner, {
      name: 'invoices',
      scopes: ['invoices.read'],
      limits: { quota: { per_day: 1 } },
    });

    // Act
    const first = await call('GET', '/v1/invoices', { key: created.body.api_key });
    const second = await call('GET', '/v1/invoices', { key: created.body.api_key });

    // Assert
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('1');
    expect(second.status).toBe(429);
  });
});

describe("another account's key", () => {
  it("cannot lift, clear or read a key's limits: the same 404 as an unknown ID, nothing changed", async () => {
    // Arrange: a victim key with a quota of 1, used up; an attacker with its own owner key
    const victimOwner = await ownerKey();
    const victim = await createKey(victimOwner, {
      name: 'victim',
      scopes: ['alerts.read'],
      limits: { quota: { per_day: 1 } },
    });
    expect((await call('GET', '/v3/scopes', { key: victim.body.api_key })).status).toBe(200);
    const attacker = await ownerKey();
    const unknownId = `${victim.body.api_key_id.slice(0, -2)}${victim.body.api_key_id.endsWith('AA') ? 'BB' : 'AA'}`;
    const body = { name: 'victim', scopes: ['alerts.read'], limits: null };

    // Act
    const lifted = await call('PUT', `/v3/api_keys/${victim.body.api_key_id}`, {
      key: attacker,
      body,
    });
    const unknown = await call('PUT', `/v3/api_keys/${unknownId}`, { key: attacker, body });
    const read = await call('GET', `/v3/api_keys/${victim.body.api_key_id}`, { key: attacker });
    const still = await call('GET', '/v3/scopes', { key: victim.body.api_key });

    // Assert
    expect(lifted.status).toBe(404);
    expect(lifted.body).toEqual(unknown.body);
    expect(read.status).toBe(404);
    expect(still.status).toBe(429);
  });
});

describe('the creation rule: a key never gives limits looser than its own', () => {
  it("inherits the creating key's limits where the request leaves them out, and takes tighter ones", async () => {
    // Arrange
    const admin = await cappedAdmin(await ownerKey());

    // Act
    const inherited = await createKey(admin.api_key, { name: 'child', scopes: ['api_keys.read'] });
    const tighter = await createKey(admin.api_key, {
      name: 'tighter',
      scopes: ['api_keys.read'],
      limits: { quota: { per_day: 5 } },
    });

    // Assert
    expect(inherited.status).toBe(201);
    expect(inherited.body.limits).toEqual(CAPPED);
    expect(tighter.status).toBe(201);
    expect(tighter.body.limits).toEqual({ rate: CAPPED.rate, quota: { per_day: 5 } });
  });

  it('refuses a looser limit on create, a PUT that lifts its own limits, and a roll of an unlimited key (403, nothing changed)', async () => {
    // Arrange: a capped admin, and an unlimited key of the same account
    const owner = await ownerKey();
    const admin = await cappedAdmin(owner);
    const unlimited = await createKey(owner, { name: 'unlimited', scopes: ['api_keys.read'] });
    const body = { name: 'capped admin', scopes: admin.scopes };

    // Act
    const looser = await refusedCreate(admin.api_key, {
      name: 'looser',
      scopes: ['api_keys.read'],
      limits: { quota: { per_day: 21 } },
    });
    const faster = await refusedCreate(admin.api_key, {
      name: 'faster',
      scopes: ['api_keys.read'],
      limits: { rate: { per_second: 6, burst: 10 } },
    });
    const cleared = await call('PUT', `/v3/api_keys/${admin.api_key_id}`, {
      key: admin.api_key,
      body: { ...body, limits: null },
    });
    const lifted = await call('PUT', `/v3/api_keys/${admin.api_key_id}`, {
      key: admin.api_key,
      body: { ...body, limits: { rate: CAPPED.rate, quota: { per_day: 1000 } } },
    });
    const otherLifted = await call('PUT', `/v3/api_keys/${unlimited.body.api_key_id}`, {
      key: admin.api_key,
      body: { name: 'unlimited', scopes: ['api_keys.read'] },
    });
    const rolled = await call('POST', `/v3/api_keys/${unlimited.body.api_key_id}/roll`, {
      key: admin.api_key,
      body: {},
    });
    const after = await call('GET', `/v3/api_keys/${admin.api_key_id}`, { key: owner }, ApiKeyView);

    // Assert
    for (const refused of [looser, faster, cleared, lifted, otherLifted, rolled]) {
      expect(refused.status).toBe(403);
      expect((refused.body as { errors: { field: string }[] }).errors[0]?.field).toBe('limits');
    }
    expect(after.body.limits).toEqual(CAPPED);
    expect(after.body.updated_at).toBe(admin.updated_at);
  });

  it('holds an inherited daily quota to a smaller monthly one asked for, so the key can always be read back', async () => {
    // Arrange: a creator with 20 a day; the request asks for 10 a month, leaving the day inherited
    const owner = await ownerKey();
    const admin = await cappedAdmin(owner);

    // Act
    const created = await createKey(admin.api_key, {
      name: 'crossed',
      scopes: ['api_keys.read'],
      limits: { quota: { per_month: 10 } },
    });
    const listed = await call('GET', '/v3/api_keys', { key: owner });
    const read = await call('GET', `/v3/api_keys/${created.body.api_key_id}`, { key: owner });

    // Assert: the day is held to the month (never 20 a day under 10 a month), and the account's
    // keys still list
    expect(created.status).toBe(201);
    expect(created.body.limits).toEqual({
      rate: CAPPED.rate,
      quota: { per_day: 10, per_month: 10 },
    });
    expect(listed.status).toBe(200);
    expect(read.status).toBe(200);
  });

  it('lets a capped key roll a key within its limits, which keeps them', async () => {
    // Arrange
    const owner = await ownerKey();
    const admin = await cappedAdmin(owner);
    const child = await createKey(admin.api_key, { name: 'child', scopes: ['api_keys.read'] });

    // Act
    const rolled = await call(
      'POST',
      `/v3/api_keys/${child.body.api_key_id}/roll`,
      { key: admin.api_key, body: { grace_seconds: 0 } },
      RolledApiKey,
    );

    // Assert
    expect(rolled.status).toBe(200);
    expect(rolled.body.limits).toEqual(CAPPED);
  });

  it('keeps the owner key unlimited but for its plan, and lets it set any limits', async () => {
    // Arrange
    const owner = await ownerKey();
    const self = await call('GET', '/v3/api_keys', { key: owner });
    const ownerId = (self.body as { result: { api_key_id: string; type: string }[] }).result.find(
      (k) => k.type === 'owner',
    )?.api_key_id;

    // Act
    const limitedOwner = await call('PUT', `/v3/api_keys/${ownerId}`, {
      key: owner,
      body: { name: 'owner', scopes: [], limits: { quota: { per_day: 5 } } },
    });
    const generous = await createKey(owner, {
      name: 'generous',
      scopes: ['alerts.read'],
      limits: { rate: { per_second: 1000, burst: 5000 }, quota: { per_month: 1_000_000 } },
    });

    // Assert
    expect(limitedOwner.status).toBe(400);
    expect(limitedOwner.body).toEqual({
      errors: [
        {
          field: 'limits',
          message: "the owner key cannot have limits of its own; its account's plan applies",
        },
      ],
    });
    expect(generous.status).toBe(201);
  });

  it('answers limits that cannot work with a clear 400, creating nothing', async () => {
    // Arrange
    const owner = await ownerKey();
    const bodies = [
      { limits: 'fast' },
      { limits: { rate: { per_second: 0, burst: 1 } } },
      { limits: { rate: { per_second: 1 } } },
      { limits: { rate: { per_second: 1, burst: 1.5 } } },
      { limits: { quota: {} } },
      { limits: { quota: { per_day: 0 } } },
      { limits: { quota: { per_day: 10, per_month: 5 } } },
    ];

    // Act
    const answers = [];
    for (const extra of bodies) answers.push(await refusedCreate(owner, { name: 'bad', ...extra }));
    const listed = await call('GET', '/v3/api_keys', { key: owner });

    // Assert
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      const [error] = (answer.body as { errors: { field: string; message: string }[] }).errors;
      expect(error?.field).toMatch(/^limits/);
      expect(error?.message).toMatch(/limits/);
    }
    expect((listed.body as { result: unknown[] }).result).toHaveLength(1);
  });
});

describe('exactness end to end', () => {
  // The store's own race (test/integration/usage-store.test.ts) runs 10,000 concurrent writes;
  // this one goes through the emulator: authorizer cache, wrapper, headers.
  it('serves exactly its quota to 500 concurrent requests of one key: none beyond it, none short', async () => {
    // Arrange: a key with 50 a day of its own (its account's plan allows 100), its authorizer
    // result cached by a first request
    const owner = await ownerKey();
    const created = await createKey(owner, {
      name: 'raced',
      scopes: ['alerts.read'],
      limits: { quota: { per_day: 50 } },
    });
    const key = created.body.api_key;
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);

    // Act
    const answers = await Promise.all(
      Array.from({ length: 500 }, () => call('GET', '/v3/scopes', { key })),
    );

    // Assert
    const statuses = answers.map((a) => a.status);
    const counts = Object.fromEntries(
      [...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]),
    );
    expect(counts).toEqual({ 200: 49, 429: 451 });
  });
});

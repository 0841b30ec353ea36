import { afterEach, describe, expect, it, vi } from 'vitest';
import { type EmulatorRoute, loadRouteHandler } from '../../local/emulator.js';
import { REFUSALS_RECORDED_PER_HOUR } from '../../shared/domain/api-keys.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { EXTRA_ROUTES_ENV, serializeExtraRoutes } from '../../shared/runtime/extra-routes.js';
import { AuditEventList, CreatedApiKey, RolledApiKey } from '../../shared/schemas/api-keys.js';
import { countDynamoCommands, createGateway } from '../helpers/gateway.js';
import { newAccount } from '../helpers/harness.js';

/**
 * The second outside attack on Keygate (issue #12): each hole it found, as the abuse it allowed,
 * through the API Gateway emulator (authorizer cache on, TTL 300 s) with the real authorizer and
 * handlers on DynamoDB Local. Items tested elsewhere: the audit cursor
 * (`audit-cursor.test.ts`), mail substitutions (`mail-send.test.ts`), a hung store
 * (`hung-storage.test.ts`), the local runtime (`local-hardening.test.ts`), exact policies for
 * generated route tables and the gateway's own answers (`test/unit/policy.test.ts`,
 * `test/unit/emulator.test.ts`), and the deployed gateway responses, access log and WAF
 * (`test/infra`).
 */

/** A route a deployment added with `addRoute` and a function Keygate did not build. */
const REPORTS = {
  method: 'GET',
  path: '/v3/reports',
  scopes: ['stats.read'],
  keyTypes: ['owner', 'general'],
} as const;
// The authorizer reads the deployment's added routes from its environment, as on AWS.
process.env[EXTRA_ROUTES_ENV] = serializeExtraRoutes([REPORTS]);
const reportsRoute: EmulatorRoute = {
  id: 'GET /v3/reports',
  method: REPORTS.method,
  path: REPORTS.path,
  handler: 'reports',
  summary: 'added with addRoute',
  access: { kind: 'key', scopes: REPORTS.scopes, keyTypes: REPORTS.keyTypes },
  // What the construct gives a method whose handler it cannot wrap.
  uncachedAuthorizer: true,
};

const { call } = createGateway({
  cacheTtlSeconds: 300,
  routes: [...ROUTE_LIST, reportsRoute],
  loadHandler: async (route) =>
    route.id === reportsRoute.id
      ? async () => ({ statusCode: 200, body: '{"reports":[]}' })
      : loadRouteHandler(route),
});

afterEach(() => {
  vi.useRealTimers();
});

const MINUTE = 60_000;

async function created(owner: string, body: Record<string, unknown>) {
  const res = await call(
    'POST',
    '/v3/api_keys',
    { key: owner, body: { name: 'k', ...body } },
    CreatedApiKey,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function rolled(owner: string, keyId: string, graceSeconds = 86_400) {
  const res = await call(
    'POST',
    `/v3/api_keys/${keyId}/roll`,
    { key: owner, body: { grace_seconds: graceSeconds } },
    RolledApiKey,
  );
  expect(res.status).toBe(200);
  return res.body;
}

describe('1. a secret in its roll grace period cannot take the key over', () => {
  it('refuses the old owner secret every way of managing keys, and the new secret survives', async () => {
    // Arrange: the owner rolls its own key (it leaked) with the console's default grace period
    const { ownerKey: k1, owner } = await newAccount();
    const { api_key: k2 } = await rolled(k1, owner.keyId);
    const victim = await created(k2, { scopes: ['mail.send'] });

    // Act: the leaked K1 tries every way to mint a secret of its own or end K2
    const attempts = {
      roll: await call('POST', `/v3/api_keys/${owner.keyId}/roll`, {
        key: k1,
        body: { grace_seconds: 0 },
      }),
      put: await call('PUT', `/v3/api_keys/${owner.keyId}`, {
        key: k1,
        body: { name: 'mine', scopes: ['mail.send'] },
      }),
      patch: await call('PATCH', `/v3/api_keys/${owner.keyId}`, {
        key: k1,
        body: { name: 'mine' },
      }),
      delete: await call('DELETE', `/v3/api_keys/${victim.api_key_id}`, { key: k1 }),
      create: await call('POST', '/v3/api_keys', { key: k1, body: { name: 'backdoor' } }),
      revokeByValue: await call('POST', '/v3/api_keys/revoke', { key: k1, body: { keys: [k2] } }),
      rollOther: await call('POST', `/v3/api_keys/${victim.api_key_id}/roll`, {
        key: k1,
        body: {},
      }),
    };

    // Assert
    for (const [what, res] of Object.entries(attempts)) expect(res.status, what).toBe(403);
    expect((await call('GET', '/v3/scopes', { key: k2 })).status).toBe(200);
    // Reading and using the API still work during the grace period.
    expect((await call('GET', '/v3/api_keys', { key: k1 })).status).toBe(200);
    expect((await call('GET', `/v3/api_keys/${victim.api_key_id}`, { key: k2 })).status).toBe(200);
  });

  it('lets the old secret report itself as leaked, which ends only its own grace period', async () => {
    const { ownerKey } = await newAccount();
    const key = await created(ownerKey, { scopes: ['mail.send'] });
    const { api_key: newer } = await rolled(ownerKey, key.api_key_id);

    const report = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [key.api_key] },
      sourceIp: '203.0.113.50',
    });

    expect(report.status).toBe(202);
    expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(401);
    expect((await call('GET', '/v3/scopes', { key: newer })).status).toBe(200);
  });
});

describe('5. a key cannot grant more than it has: expiry, allowlist, and minting secrets', () => {
  const soon = () => new Date(Date.now() + 10 * MINUTE).toISOString();
  const admin = ['api_keys.create', 'api_keys.read', 'api_keys.update', 'api_keys.delete'];

  it('never lets a key lift its own expiry or allowlist', async () => {
    // Arrange: an admin key that expires in 10 minutes and works from one address
    const { ownerKey } = await newAccount();
    const expiresAt = soon();
    const key = await created(ownerKey, {
      scopes: admin,
      expires_at: expiresAt,
      allowed_ips: ['127.0.0.1'],
    });
    const self = `/v3/api_keys/${key.api_key_id}`;
    const put = (extra: Record<string, unknown>) =>
      call('PUT', self, { key: key.api_key, body: { name: 'k', scopes: admin, ...extra } });

    // Act
    const lifted = {
      bothNull: await put({ expires_at: null, allowed_ips: null }),
      noExpiry: await put({ expires_at: null }),
      later: await put({ expires_at: new Date(Date.now() + 60 * MINUTE).toISOString() }),
      anyAddress: await put({ allowed_ips: null }),
      widerAllowlist: await put({ allowed_ips: ['0.0.0.0/0'] }),
    };
    const narrowed = await put({ expires_at: new Date(Date.now() + 5 * MINUTE).toISOString() });

    // Assert
    for (const [what, res] of Object.entries(lifted)) expect(res.status, what).toBe(403);
    expect(lifted.noExpiry.body).toMatchObject({ errors: [{ field: 'expires_at' }] });
    expect(lifted.anyAddress.body).toMatchObject({ errors: [{ field: 'allowed_ips' }] });
    expect(narrowed.status).toBe(200);
    const after = await call('GET', self, { key: ownerKey });
    expect(after.body).toMatchObject({ allowed_ips: ['127.0.0.1/32'] });
  });

  it('makes the keys it creates expire no later than it does, within its allowlist', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const expiresAt = soon();
    const admin2 = await created(ownerKey, {
      scopes: admin,
      expires_at: expiresAt,
      allowed_ips: ['127.0.0.0/24'],
    });

    // Act
    const inherited = await call('POST', '/v3/api_keys', {
      key: admin2.api_key,
      body: { name: 'child', scopes: ['api_keys.read'] },
    });
    const narrower = await call('POST', '/v3/api_keys', {
      key: admin2.api_key,
      body: { name: 'child', scopes: ['api_keys.read'], allowed_ips: ['127.0.0.1'] },
    });
    const longer = await call('POST', '/v3/api_keys', {
      key: admin2.api_key,
      body: {
        name: 'child',
        scopes: ['api_keys.read'],
        expires_at: new Date(Date.now() + 24 * 60 * MINUTE).toISOString(),
      },
    });
    const elsewhere = await call('POST', '/v3/api_keys', {
      key: admin2.api_key,
      body: { name: 'child', scopes: ['api_keys.read'], allowed_ips: ['10.0.0.0/8'] },
    });

    // Assert
    expect(inherited.status).toBe(201);
    expect(inherited.body).toMatchObject({ expires_at: expiresAt, allowed_ips: ['127.0.0.0/24'] });
    expect(narrower.status).toBe(201);
    expect(narrower.body).toMatchObject({ expires_at: expiresAt, allowed_ips: ['127.0.0.1/32'] });
    expect(longer.status).toBe(403);
    expect(elsewhere.status).toBe(403);
  });

  it('needs api_keys.create as well as api_keys.update to roll (a roll mints a secret)', async () => {
    const { ownerKey } = await newAccount();
    const updater = await created(ownerKey, { scopes: ['api_keys.read', 'api_keys.update'] });
    const target = await created(ownerKey, { scopes: ['api_keys.read'] });

    const res = await call('POST', `/v3/api_keys/${target.api_key_id}/roll`, {
      key: updater.api_key,
      body: { grace_seconds: 7 * 24 * 3600 },
    });

    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ field: null, message: 'access forbidden' }] });
    expect((await call('GET', '/v3/scopes', { key: target.api_key })).status).toBe(200);
  });

  it('refuses a restricted key the roll of a key that outlives it', async () => {
    const { ownerKey } = await newAccount();
    const shortLived = await created(ownerKey, { scopes: admin, expires_at: soon() });
    const forever = await created(ownerKey, { scopes: ['api_keys.read'] });
    const within = await created(shortLived.api_key, { scopes: ['api_keys.read'] });

    const outliving = await call('POST', `/v3/api_keys/${forever.api_key_id}/roll`, {
      key: shortLived.api_key,
      body: {},
    });
    const bounded = await call('POST', `/v3/api_keys/${within.api_key_id}/roll`, {
      key: shortLived.api_key,
      body: { grace_seconds: 0 },
    });

    expect(outliving.status).toBe(403);
    expect(bounded.status).toBe(200);
  });

  it('leaves the owner key unrestricted', async () => {
    const { ownerKey } = await newAccount();

    const key = await created(ownerKey, { scopes: ['mail.send'] });

    expect(key.expires_at).toBeNull();
    expect(key.allowed_ips).toEqual([]);
  });
});

describe('6. no route, built-in or added, serves an expired or retired secret from a cached allow', () => {
  it('refuses a key on an added route right after it expires, with the cache TTL at 300 s', async () => {
    // Arrange: a key that expires in 2 s, allowed on the added route (and cached, were it cached)
    const { ownerKey } = await newAccount();
    const key = await created(ownerKey, {
      scopes: ['stats.read'],
      expires_at: new Date(Date.now() + 2000).toISOString(),
    });
    expect((await call('GET', '/v3/reports', { key: key.api_key })).status).toBe(200);
    expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(200);

    // Act: the clocks of the gateway, the authorizer and the handlers move 3 s on
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3000);
    const added = await call('GET', '/v3/reports', { key: key.api_key });
    const builtIn = await call('GET', '/v3/scopes', { key: key.api_key });

    // Assert
    expect(added.status).toBe(401);
    expect(builtIn.status).toBe(401);
  });

  it('refuses a retired secret on an added route the moment its grace period ends', async () => {
    const { ownerKey } = await newAccount();
    const key = await created(ownerKey, { scopes: ['stats.read'] });
    await rolled(ownerKey, key.api_key_id, 2);
    expect((await call('GET', '/v3/reports', { key: key.api_key })).status).toBe(200);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3000);

    expect((await call('GET', '/v3/reports', { key: key.api_key })).status).toBe(401);
  });
});

describe('8. nobody can starve the leaked-key report', () => {
  it('gets a genuine report through while junk floods from another address', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const leaked = await created(ownerKey, { scopes: ['mail.send'] });
    const junk = () =>
      call('POST', '/v3/api_keys/revoke-leaked', {
        body: { keys: ['SG.junk'] },
        sourceIp: '198.51.100.66',
      });
    const flood: number[] = [];
    for (let i = 0; i < 15; i++) flood.push((await junk()).status);

    // Act
    const genuine = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [leaked.api_key] },
      sourceIp: '203.0.113.7',
    });

    // Assert
    expect(flood.at(-1)).toBe(429);
    expect(genuine.status).toBe(202);
    expect((await call('GET', '/v3/scopes', { key: leaked.api_key })).status).toBe(401);
  });

  it('lets keys that fail the checksum cost nothing downstream', async () => {
    const commands = countDynamoCommands();

    const res = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [`SG.${'A'.repeat(22)}.${'B'.repeat(43)}`, 'SG.x.y', 'not a key'] },
      sourceIp: '198.51.100.77',
    });

    expect(res.status).toBe(202);
    expect(commands.count).toBe(0);
  });

  it("lets an authenticated owner revoke its account's keys by value, past the public limit", async () => {
    // Arrange: the public route is exhausted for this address
    const { ownerKey } = await newAccount();
    const other = await newAccount();
    const leaked = await created(ownerKey, { scopes: ['mail.send'] });
    const foreign = await created(other.ownerKey, { scopes: ['mail.send'] });
    const rolledKey = await created(ownerKey, { scopes: ['mail.send'] });
    const { api_key: rolledNew } = await rolled(ownerKey, rolledKey.api_key_id);
    const sourceIp = '198.51.100.88';
    for (let i = 0; i < 11; i++) {
      await call('POST', '/v3/api_keys/revoke-leaked', { body: { keys: ['x'] }, sourceIp });
    }

    // Act
    const res = await call('POST', '/v3/api_keys/revoke', {
      key: ownerKey,
      sourceIp,
      body: { keys: [leaked.api_key, foreign.api_key, rolledKey.api_key, 'SG.junk'] },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 4, revoked: 2 });
    expect((await call('GET', '/v3/scopes', { key: leaked.api_key })).status).toBe(401);
    expect((await call('GET', '/v3/scopes', { key: rolledKey.api_key })).status).toBe(401);
    expect((await call('GET', '/v3/scopes', { key: rolledNew })).status).toBe(200);
    expect((await call('GET', '/v3/scopes', { key: foreign.api_key })).status).toBe(200);
  });
});

describe('13. refused attempts: what was asked, and a bound', () => {
  it("records a refused PUT with the scopes it asked for, not the key's current ones", async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const admin = await created(ownerKey, {
      scopes: ['api_keys.read', 'api_keys.update', 'mail.send'],
    });
    const target = await created(ownerKey, { scopes: ['mail.send'] });

    // Act
    const refused = await call('PUT', `/v3/api_keys/${target.api_key_id}`, {
      key: admin.api_key,
      body: { name: 'k', scopes: ['mail.send', 'alerts.read'] },
    });
    const events = await call(
      'GET',
      '/v3/api_keys/events',
      { key: ownerKey, query: { api_key_id: target.api_key_id } },
      AuditEventList,
    );

    // Assert
    expect(refused.status).toBe(403);
    const [event] = events.body.result;
    expect(event).toMatchObject({
      action: 'api_key.escalation_refused',
      scopes_added: ['alerts.read', 'mail.send'],
      details: { missing_scopes: 'alerts.read' },
    });
  });

  it(`records at most ${REFUSALS_RECORDED_PER_HOUR} refusals per key and hour, and refuses them all`, async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const admin = await created(ownerKey, { scopes: ['api_keys.create', 'api_keys.read'] });

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < REFUSALS_RECORDED_PER_HOUR + 5; i++) {
      const res = await call('POST', '/v3/api_keys', {
        key: admin.api_key,
        body: { name: 'escalate', scopes: ['alerts.read'] },
      });
      statuses.push(res.status);
    }
    const events = await call(
      'GET',
      '/v3/api_keys/events',
      { key: ownerKey, query: { limit: '100' } },
      AuditEventList,
    );

    // Assert
    expect(statuses.every((s) => s === 403)).toBe(true);
    const refusals = events.body.result
      .filter((e) => e.action === 'api_key.escalation_refused')
      .filter((e) => e.actor_key_id === admin.api_key_id);
    expect(refusals).toHaveLength(REFUSALS_RECORDED_PER_HOUR);
  });
});

describe('15. key names show what they hold', () => {
  it.each([
    ['a right-to-left override', 'invoice\u202Etxt.exe'],
    ['a zero-width space', 'prod\u200Bkey'],
    ['a C1 control', 'next\u0085line'],
    ['a bidirectional isolate', 'a\u2066b\u2069'],
    ['a zero-width no-break space inside', 'na\uFEFFme'],
  ])('refuses a name with %s', async (_case, name) => {
    const { ownerKey } = await newAccount();

    const res = await call('POST', '/v3/api_keys', { key: ownerKey, body: { name } });

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errors: [{ field: 'name' }] });
  });

  it('refuses a name holding a key split by spaces or invisible characters', async () => {
    const { ownerKey } = await newAccount();
    const [prefix, id, secret] = ownerKey.split('.') as [string, string, string];

    const spaced = await call('POST', '/v3/api_keys', {
      key: ownerKey,
      body: { name: `${prefix}. ${id.slice(0, 11)} ${id.slice(11)} .${secret}` },
    });
    const tabbed = await call('POST', '/v3/api_keys', {
      key: ownerKey,
      body: { name: `my key ${prefix}.${id}.\t${secret}` },
    });

    expect(spaced.status).toBe(400);
    expect(tabbed.status).toBe(400);
    expect(spaced.body).toEqual({
      errors: [{ field: 'name', message: 'name must not contain an API key' }],
    });
  });
});

describe('16. paths are checked as they are routed', () => {
  it('serves an encoded path as the route it decodes to, under that route’s scopes', async () => {
    const { ownerKey } = await newAccount();
    const reader = await created(ownerKey, { scopes: ['api_keys.read'] });

    const encoded = await call('GET', '/v3/api_keys/%65vents', { key: reader.api_key });
    const slashed = await call('GET', '/v3/scopes/', { key: reader.api_key });

    expect(encoded.status).toBe(200);
    expect(encoded.body).toMatchObject({ result: expect.any(Array) });
    expect(slashed.status).toBe(200);
  });
});

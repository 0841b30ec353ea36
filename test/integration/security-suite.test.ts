import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, isBillingScope } from '../../shared/domain/scopes.js';
import { ROUTE_LIST, type RouteDefinition, type RouteId } from '../../shared/routes.js';
import { type CallOptions, countDynamoCommands, createGateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';

/**
 * The shared security suite: generated from the route table, run through the API Gateway
 * emulator with the real authorizer and handlers on DynamoDB Local. Adding a route to the table
 * adds it here; TypeScript then demands its fixture below.
 */

const gateway = createGateway({ cacheTtlSeconds: 300 });
const call = gateway.call;

interface Request {
  path: string;
  body?: unknown;
  query?: Record<string, string>;
}

interface Fixture {
  /**
   * A valid request for `account`, and the status it succeeds with. `scopes` are the route's
   * required scopes: every caller that passes the gate holds them, so resources the request
   * touches are made with them (a caller may only manage keys it could have granted).
   */
  request(account: TestAccount, scopes: readonly string[]): Promise<Request>;
  success: number;
  /** A request for a resource of `other` (another account), where the route has one. */
  crossAccount?(other: TestAccount, scopes: readonly string[]): Promise<Request>;
}

async function createKey(owner: string, scopes: string[] | undefined, name = 'fixture') {
  const res = await call('POST', '/v3/api_keys', { key: owner, body: { name, scopes } });
  expect(res.status).toBe(201);
  return res.body as { api_key: string; api_key_id: string };
}

const someKeyOf = async (account: TestAccount, scopes: readonly string[]) =>
  (await createKey(account.ownerKey, [...scopes], 'target')).api_key_id;

const MINIMAL_MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello, World!',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

const FIXTURES: Record<RouteId, Fixture> = {
  createApiKey: {
    request: async (_a, scopes) => ({ path: '/v3/api_keys', body: { name: 'new', scopes } }),
    success: 201,
  },
  listApiKeys: { request: async () => ({ path: '/v3/api_keys' }), success: 200 },
  getApiKey: {
    request: async (a, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(a, scopes)}` }),
    crossAccount: async (o, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(o, scopes)}` }),
    success: 200,
  },
  renameApiKey: {
    request: async (a, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(a, scopes)}`,
      body: { name: 'renamed' },
    }),
    crossAccount: async (o, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(o, scopes)}`,
      body: { name: 'renamed' },
    }),
    success: 200,
  },
  replaceApiKey: {
    request: async (a, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(a, scopes)}`,
      body: { name: 'replaced', scopes },
    }),
    crossAccount: async (o, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(o, scopes)}`,
      body: { name: 'replaced', scopes },
    }),
    success: 200,
  },
  deleteApiKey: {
    request: async (a, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(a, scopes)}` }),
    crossAccount: async (o, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(o, scopes)}` }),
    success: 204,
  },
  listApiKeyEvents: { request: async () => ({ path: '/v3/api_keys/events' }), success: 200 },
  rollApiKey: {
    request: async (a, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(a, scopes)}/roll`,
      body: { grace_seconds: 0 },
    }),
    crossAccount: async (o, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(o, scopes)}/roll`,
      body: { grace_seconds: 0 },
    }),
    success: 200,
  },
  revokeApiKeysByValue: {
    request: async (a, scopes) => ({
      path: '/v3/api_keys/revoke',
      body: { keys: [(await createKey(a.ownerKey, [...scopes], 'leaked')).api_key] },
    }),
    success: 200,
  },
  revokeLeakedApiKeys: {
    request: async () => ({ path: '/v3/api_keys/revoke-leaked', body: { keys: ['SG.not-a-key'] } }),
    success: 202,
  },
  listScopes: { request: async () => ({ path: '/v3/scopes' }), success: 200 },
  listScopeAreas: { request: async () => ({ path: '/v3/scopes/areas' }), success: 200 },
  sendMail: { request: async () => ({ path: '/v3/mail/send', body: MINIMAL_MAIL }), success: 202 },
  getBillingProfile: { request: async () => ({ path: '/v3/billing/profile' }), success: 200 },
  updateBillingProfile: {
    request: async () => ({ path: '/v3/billing/profile', body: { company: 'Acme' } }),
    success: 200,
  },
  getHealth: { request: async () => ({ path: '/health' }), success: 200 },
  getOpenApi: { request: async () => ({ path: '/openapi.json' }), success: 200 },
};

const GENERAL_SCOPES = ALL_SCOPES.filter((s) => !isBillingScope(s));
const BILLING_SCOPES = ALL_SCOPES.filter(isBillingScope);

/**
 * The least a key needs for a route: its required scopes, or, for "any key" routes, one scope
 * of a key type the route allows.
 */
function exactScopes(access: { scopes: readonly string[]; keyTypes: readonly string[] }) {
  if (access.scopes.length > 0) return [...access.scopes];
  return access.keyTypes.includes('general') ? ['mail.send'] : ['billing.read'];
}

function send(route: RouteDefinition, request: Request, options: CallOptions) {
  return call(route.method, request.path, { body: request.body, query: request.query, ...options });
}

const keyed = ROUTE_LIST.flatMap((route) =>
  route.access.kind === 'key'
    ? [[`${route.method} ${route.path}`, route, route.access] as const]
    : [],
);
const publicRoutes = ROUTE_LIST.filter((r) => r.access.kind === 'public');

describe.each(keyed)('%s', (_name, route, access) => {
  const fixture = FIXTURES[route.id];
  const request = (account: TestAccount) => fixture.request(account, access.scopes);
  let account: TestAccount;

  beforeAll(async () => {
    account = await newAccount();
  });

  it('answers 401 without a key', async () => {
    const res = await send(route, await request(account), {});

    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ field: null, message: 'authorization required' }] });
  });

  it.each([
    ['too short', 'Bearer SG.abc.def'],
    ['wrong checksum', `Bearer SG.${'A'.repeat(22)}.${'B'.repeat(43)}`],
    ['wrong scheme', `Basic ${'A'.repeat(40)}`],
    ['no scheme', `SG.${'A'.repeat(22)}.${'B'.repeat(43)}`],
  ])(
    'answers 401 to a malformed key (%s) without reading DynamoDB',
    async (_case, authorization) => {
      // Arrange
      const req = await request(account);
      const reads = countDynamoCommands();

      // Act
      const res = await send(route, req, { authorization });

      // Assert
      expect(res.status).toBe(401);
      expect(reads.count).toBe(0);
    },
  );

  it('answers 401 to a deleted key, even right after it was allowed', async () => {
    // Arrange
    const scopes = exactScopes(access);
    const key = await createKey(account.ownerKey, scopes, 'doomed');
    const req = await request(account);
    expect((await send(route, req, { key: key.api_key })).status).not.toBe(401);
    expect(
      (await call('DELETE', `/v3/api_keys/${key.api_key_id}`, { key: account.ownerKey })).status,
    ).toBe(204);

    // Act
    const res = await send(route, await request(account), { key: key.api_key });

    // Assert
    expect(res.status).toBe(401);
  });

  if (access.scopes.length > 0) {
    it('answers 403 to a key of an allowed type that lacks the scope', async () => {
      // Arrange: everything its type can hold, except what the route needs.
      const pool = access.keyTypes.includes('general') ? GENERAL_SCOPES : BILLING_SCOPES;
      const scopes = pool.filter((s) => !access.scopes.includes(s));
      const key = await createKey(account.ownerKey, scopes, 'almost');

      // Act
      const res = await send(route, await request(account), { key: key.api_key });

      // Assert
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ errors: [{ field: null, message: 'access forbidden' }] });
    });
  }

  if (!access.keyTypes.includes('billing')) {
    it('answers 403 to a billing key, whatever its scopes', async () => {
      const key = await createKey(account.ownerKey, BILLING_SCOPES, 'billing');

      const res = await send(route, await request(account), { key: key.api_key });

      expect(res.status).toBe(403);
    });
  }

  if (!access.keyTypes.includes('general')) {
    it('answers 403 to a general key, even one with every general scope', async () => {
      const key = await createKey(account.ownerKey, undefined, 'full');

      const res = await send(route, await request(account), { key: key.api_key });

      expect(res.status).toBe(403);
    });
  }

  if (fixture.crossAccount) {
    const crossAccount = fixture.crossAccount;
    it("answers 404 for another account's resource", async () => {
      // Arrange
      const other = await newAccount();
      const req = await crossAccount(other, access.scopes);

      // Act
      const res = await send(route, req, { key: account.ownerKey });

      // Assert
      expect(res.status).toBe(404);
    });
  }

  it('succeeds for a key holding exactly the required scopes', async () => {
    // Arrange
    const scopes = exactScopes(access);
    const key = await createKey(account.ownerKey, scopes, 'exact');

    // Act
    const res = await send(route, await request(account), { key: key.api_key });

    // Assert
    expect(res.status).toBe(fixture.success);
  });

  it('succeeds for the owner key', async () => {
    const res = await send(route, await request(account), { key: account.ownerKey });

    expect(res.status).toBe(fixture.success);
  });

  it(
    access.managesKeys
      ? 'answers 403 to a secret in its roll grace period: a retiring secret manages no key'
      : 'serves a secret in its roll grace period (reading and using the API)',
    async () => {
      // Arrange: the owner rolls a key that holds the route's scopes; its old secret still works
      const key = await createKey(account.ownerKey, exactScopes(access), 'rolled');
      const rolled = await call('POST', `/v3/api_keys/${key.api_key_id}/roll`, {
        key: account.ownerKey,
        body: { grace_seconds: 86_400 },
      });
      expect(rolled.status).toBe(200);
      expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(200);

      // Act
      const res = await send(route, await request(account), { key: key.api_key });

      // Assert
      expect(res.status).toBe(access.managesKeys ? 403 : fixture.success);
    },
  );
});

describe.each(publicRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
  'public %s',
  (_name, route) => {
    it('answers without a key, and ignores a bad one', async () => {
      const req = await FIXTURES[route.id].request(undefined as never, []);

      const anonymous = await send(route, req, {});
      const garbage = await send(route, req, { authorization: 'Bearer nonsense' });

      expect(anonymous.status).toBe(FIXTURES[route.id].success);
      expect(garbage.status).toBe(FIXTURES[route.id].success);
    });
  },
);

describe('routing', () => {
  it.each([
    ['GET', '/v3/nope'],
    ['DELETE', '/v3/api_keys'],
    ['POST', '/v3/scopes'],
    ['GET', '/v3/api_keys/a/b'],
  ])('answers %s %s (not in the route table) with 404 in the envelope', async (method, path) => {
    const res = await call(method, path, {});

    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ field: null, message: 'not found' }] });
  });
});

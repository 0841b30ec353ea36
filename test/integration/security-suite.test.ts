import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES, isBillingScope } from '../../shared/domain/scopes.js';
import { ROUTE_LIST, type RouteId } from '../../shared/routes.js';
import { createGateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';
import { keyCreator, type SuiteFixture, securitySuite } from '../helpers/security-suite.js';

/**
 * The shared security suite (`test/helpers/security-suite.ts`) over Keygate's own route table,
 * run through the API Gateway emulator with the real authorizer and handlers on DynamoDB Local.
 * Adding a route to the table adds it here; TypeScript then demands its fixture below. The same
 * suite runs over a team's routes (`examples-security-suite.test.ts`).
 */

const gateway = createGateway({ cacheTtlSeconds: 300 });
const call = gateway.call;

const createKey = keyCreator(call);

const someKeyOf = async (account: TestAccount, scopes: readonly string[], subuser?: string) =>
  (await createKey(account.ownerKey, [...scopes], 'target', subuser)).api_key_id;

const uniqueName = () => `sub-${randomBytes(6).toString('hex')}`;
const subuserBody = (username: string) => ({
  username,
  email: `${username}@example.com`,
  password: 'correct horse battery staple 1',
  ips: [],
});

/** A new subuser of `account`, made through the API with its owner key: its username. */
async function subuserOf(account: TestAccount): Promise<string> {
  const username = uniqueName();
  const res = await call('POST', '/v3/subusers', {
    key: account.ownerKey,
    body: subuserBody(username),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return username;
}

const MINIMAL_MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello, World!',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

const FIXTURES: Record<RouteId, SuiteFixture> = {
  createApiKey: {
    request: async (_a, scopes) => ({ path: '/v3/api_keys', body: { name: 'new', scopes } }),
    success: 201,
  },
  listApiKeys: { request: async () => ({ path: '/v3/api_keys' }), success: 200 },
  getApiKey: {
    request: async (a, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(a, scopes)}` }),
    crossAccount: async (o, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(o, scopes)}` }),
    onBehalfOf: async (p, sub, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(p, scopes, sub)}`,
    }),
    success: 200,
  },
  getApiKeyUsage: {
    request: async (a, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(a, scopes)}/usage` }),
    crossAccount: async (o, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(o, scopes)}/usage`,
    }),
    onBehalfOf: async (p, sub, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(p, scopes, sub)}/usage`,
    }),
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
    onBehalfOf: async (p, sub, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(p, scopes, sub)}`,
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
    onBehalfOf: async (p, sub, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(p, scopes, sub)}`,
      body: { name: 'replaced', scopes },
    }),
    success: 200,
  },
  deleteApiKey: {
    request: async (a, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(a, scopes)}` }),
    crossAccount: async (o, scopes) => ({ path: `/v3/api_keys/${await someKeyOf(o, scopes)}` }),
    onBehalfOf: async (p, sub, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(p, scopes, sub)}`,
    }),
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
    onBehalfOf: async (p, sub, scopes) => ({
      path: `/v3/api_keys/${await someKeyOf(p, scopes, sub)}/roll`,
      body: { grace_seconds: 0 },
    }),
    success: 200,
  },
  revokeApiKeysByValue: {
    request: async (a, scopes) => ({
      path: '/v3/api_keys/revoke',
      body: { keys: [(await createKey(a.ownerKey, [...scopes], 'leaked')).api_key] },
    }),
    onBehalfOf: async (p, sub, scopes) => ({
      path: '/v3/api_keys/revoke',
      body: { keys: [(await createKey(p.ownerKey, [...scopes], 'leaked', sub)).api_key] },
    }),
    success: 200,
  },
  revokeLeakedApiKeys: {
    request: async () => ({ path: '/v3/api_keys/revoke-leaked', body: { keys: ['SG.not-a-key'] } }),
    success: 202,
  },
  listScopes: { request: async () => ({ path: '/v3/scopes' }), success: 200 },
  listScopeAreas: { request: async () => ({ path: '/v3/scopes/areas' }), success: 200 },
  listSubusers: { request: async () => ({ path: '/v3/subusers' }), success: 200 },
  listPlans: { request: async () => ({ path: '/v3/plans' }), success: 200 },
  createSubuser: {
    request: async () => ({ path: '/v3/subusers', body: subuserBody(uniqueName()) }),
    success: 200,
  },
  updateSubuser: {
    request: async (a) => ({
      path: `/v3/subusers/${await subuserOf(a)}`,
      body: { disabled: true },
    }),
    crossAccount: async (o) => ({
      path: `/v3/subusers/${await subuserOf(o)}`,
      body: { disabled: true },
    }),
    success: 204,
  },
  deleteSubuser: {
    request: async (a) => ({ path: `/v3/subusers/${await subuserOf(a)}` }),
    crossAccount: async (o) => ({ path: `/v3/subusers/${await subuserOf(o)}` }),
    success: 204,
  },
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

securitySuite({
  call,
  routes: ROUTE_LIST,
  fixture: (route) => FIXTURES[route.id],
  pools: { general: GENERAL_SCOPES, billing: BILLING_SCOPES },
  anyKeyScope: { general: 'mail.send', billing: 'billing.read' },
  subuserOf,
});

/**
 * The Subusers routes are a parent's own (`functions/subusers/`: SendGrid's four and Keygate's
 * `GET /v3/plans`): a subuser's own key, whatever its subusers scopes, gets SendGrid's 403, so a
 * customer never lists, makes or changes subusers, nor learns its parent's plans.
 */
const SUBUSER_ROUTES = ROUTE_LIST.filter((r) => r.handler.startsWith('subusers/'));
const SUBUSERS_SCOPES = ALL_SCOPES.filter((s) => s.startsWith('subusers.'));

describe("a subuser's own key on the Subusers routes", () => {
  it.each(SUBUSER_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'answers %s with 403',
    async (_name, route) => {
      // Arrange: a subuser's key with every subusers scope, and a request its parent could make
      const parent = await newAccount();
      const subuser = await subuserOf(parent);
      const own = await createKey(parent.ownerKey, SUBUSERS_SCOPES, 'own', subuser);
      const request = await FIXTURES[route.id].request(parent, SUBUSERS_SCOPES);

      // Act
      const res = await call(route.method, request.path, {
        key: own.api_key,
        body: request.body,
        query: request.query,
      });

      // Assert
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        errors: [{ field: null, message: 'you dont have permission to access this resource' }],
      });
    },
  );

  it('covers the five Subusers routes', () => {
    expect(SUBUSER_ROUTES.map((r) => r.id).sort()).toEqual([
      'createSubuser',
      'deleteSubuser',
      'listPlans',
      'listSubusers',
      'updateSubuser',
    ]);
  });
});

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

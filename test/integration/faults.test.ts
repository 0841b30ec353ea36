import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { type EmulatorRoute, loadRouteHandler } from '../../local/emulator.js';
import { hashApiKey } from '../../shared/domain/key-format.js';
import { METRIC_NAMES, metricCount } from '../../shared/observability/metrics.js';
import { ROUTE_LIST, ROUTES, type RouteDefinition, type RouteId } from '../../shared/routes.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import {
  type FaultSpec,
  injectFault,
  internalServerError,
  networkError,
  redirectDynamoDb,
  removeAllFaults,
  throttled,
  throughputExceeded,
  transactionCancelled,
  WRITE_COMMANDS,
} from '../helpers/faults.js';
import { type CallResult, createGateway, type Gateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';
import { expectConsistentAccount } from '../helpers/invariants.js';

/**
 * Storage faults, through the API Gateway emulator (real authorizer, real handlers, DynamoDB
 * Local): DynamoDB unreachable, throttled, failing on writes only, or cancelling a transaction
 * for a reason other than a condition. The authorizer fails closed (503, never an allow, never a
 * 401); handlers answer 503 in SendGrid's envelope with `Retry-After`; once the fault is gone,
 * storage holds no partial change and the same request succeeds.
 *
 * Faults are SDK middlewares on the process's DynamoDB client (`test/helpers/faults.ts`), removed
 * after each test. Most sit above the SDK's retry layer: the error is what the SDK surfaces once
 * its own retries are spent, so the outcome does not depend on the SDK's backoff or its retry
 * quota. The first describe block puts faults below that layer to show the retries themselves;
 * it runs first, while this file's client still has its whole retry quota.
 */

const UNAVAILABLE = {
  errors: [{ field: null, message: 'service temporarily unavailable, retry later' }],
};

function expectUnavailable(res: CallResult) {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.body).toEqual(UNAVAILABLE);
}

/** The handlers the gateway ran, in order (a request refused by the gateway runs none). */
const invoked: EmulatorRoute['id'][] = [];
let clockOffset = 0;
let gateway: Gateway;

beforeEach(() => {
  invoked.length = 0;
  clockOffset = 0;
  // A fresh gateway per test: an empty authorizer cache and full throttling buckets.
  gateway = createGateway({
    cacheTtlSeconds: 300,
    now: () => Date.now() + clockOffset,
    loadHandler: async (route) => {
      const handler = await loadRouteHandler(route);
      return (event, context) => {
        invoked.push(route.id);
        return handler(event, context);
      };
    },
  });
});

afterEach(() => {
  removeAllFaults();
  gateway.emulator.close();
});

const call: Gateway['call'] = (...args) => gateway.call(...args);

interface Target {
  api_key: string;
  api_key_id: string;
}

async function createKey(ownerKey: string, scopes = ['mail.send', 'alerts.read']): Promise<Target> {
  const res = await call(
    'POST',
    '/v3/api_keys',
    { key: ownerKey, body: { name: 'target', scopes } },
    CreatedApiKey,
  );
  expect(res.status).toBe(201);
  return res.body;
}

const subuserBody = (username: string) => ({
  username,
  email: 'customer@example.com',
  password: 'unused password 1',
  ips: [],
});

let subusers = 0;

/** A subuser of `account` with a key, made through the API: its username. */
async function subuserOf(account: TestAccount): Promise<string> {
  const username = `sub-${Date.now().toString(36)}-${++subusers}`;
  const res = await call('POST', '/v3/subusers', {
    key: account.ownerKey,
    body: subuserBody(username),
  });
  expect(res.status).toBe(200);
  const key = await call('POST', '/v3/api_keys', {
    key: account.ownerKey,
    headers: { 'on-behalf-of': username },
    body: { name: 'customer', scopes: ['mail.send'] },
  });
  expect(key.status).toBe(201);
  return username;
}

const MINIMAL_MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello, World!',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

/**
 * What a route's handler does with storage: nothing, reads only, reads then one item write, or
 * reads then a transaction. Checked by every case below (a fault that hit nothing would prove
 * nothing), and typed by route ID, so a new route does not compile until it is described here.
 */
type Storage = 'none' | 'reads' | 'item-write' | 'transaction';

interface Fixture {
  request(
    account: TestAccount,
    target: Target,
  ): { path: string; body?: unknown } | Promise<{ path: string; body?: unknown }>;
  success: number;
  storage: Storage;
}

const FIXTURES: Record<RouteId, Fixture> = {
  createApiKey: {
    request: () => ({ path: '/v3/api_keys', body: { name: 'new', scopes: ['mail.send'] } }),
    success: 201,
    storage: 'transaction',
  },
  listApiKeys: { request: () => ({ path: '/v3/api_keys' }), success: 200, storage: 'reads' },
  getApiKey: {
    request: (_a, t) => ({ path: `/v3/api_keys/${t.api_key_id}` }),
    success: 200,
    storage: 'reads',
  },
  renameApiKey: {
    request: (_a, t) => ({ path: `/v3/api_keys/${t.api_key_id}`, body: { name: 'renamed' } }),
    success: 200,
    storage: 'transaction',
  },
  replaceApiKey: {
    request: (_a, t) => ({
      path: `/v3/api_keys/${t.api_key_id}`,
      body: { name: 'replaced', scopes: ['mail.send', 'stats.read'] },
    }),
    success: 200,
    storage: 'transaction',
  },
  getApiKeyUsage: {
    request: (_a, t) => ({ path: `/v3/api_keys/${t.api_key_id}/usage` }),
    success: 200,
    storage: 'reads',
  },
  listApiKeyEvents: {
    request: () => ({ path: '/v3/api_keys/events' }),
    success: 200,
    storage: 'reads',
  },
  rollApiKey: {
    request: (_a, t) => ({
      path: `/v3/api_keys/${t.api_key_id}/roll`,
      body: { grace_seconds: 60 },
    }),
    success: 200,
    storage: 'transaction',
  },
  revokeApiKeysByValue: {
    request: (_a, t) => ({ path: '/v3/api_keys/revoke', body: { keys: [t.api_key] } }),
    success: 200,
    storage: 'transaction',
  },
  revokeLeakedApiKeys: {
    request: (_a, t) => ({ path: '/v3/api_keys/revoke-leaked', body: { keys: [t.api_key] } }),
    success: 202,
    storage: 'transaction',
  },
  deleteApiKey: {
    request: (_a, t) => ({ path: `/v3/api_keys/${t.api_key_id}` }),
    success: 204,
    storage: 'transaction',
  },
  listScopes: { request: () => ({ path: '/v3/scopes' }), success: 200, storage: 'none' },
  listScopeAreas: {
    request: () => ({ path: '/v3/scopes/areas' }),
    success: 200,
    storage: 'none',
  },
  listSubusers: { request: () => ({ path: '/v3/subusers' }), success: 200, storage: 'reads' },
  listPlans: { request: () => ({ path: '/v3/plans' }), success: 200, storage: 'reads' },
  createSubuser: {
    request: () => ({ path: '/v3/subusers', body: subuserBody(`new-${Date.now().toString(36)}`) }),
    success: 200,
    storage: 'transaction',
  },
  updateSubuser: {
    request: async (a) => ({
      path: `/v3/subusers/${await subuserOf(a)}`,
      body: { disabled: true },
    }),
    success: 204,
    storage: 'transaction',
  },
  deleteSubuser: {
    request: async (a) => ({ path: `/v3/subusers/${await subuserOf(a)}` }),
    success: 204,
    storage: 'transaction',
  },
  sendMail: {
    request: () => ({ path: '/v3/mail/send', body: MINIMAL_MAIL }),
    success: 202,
    storage: 'none',
  },
  getBillingProfile: {
    request: () => ({ path: '/v3/billing/profile' }),
    success: 200,
    storage: 'reads',
  },
  updateBillingProfile: {
    request: () => ({ path: '/v3/billing/profile', body: { company: 'Acme' } }),
    success: 200,
    storage: 'item-write',
  },
  getHealth: { request: () => ({ path: '/health' }), success: 200, storage: 'none' },
  getOpenApi: { request: () => ({ path: '/openapi.json' }), success: 200, storage: 'none' },
};

interface Variant {
  name: string;
  applies(storage: Storage): boolean;
  fault: FaultSpec;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'DynamoDB unreachable',
    applies: () => true,
    fault: { error: () => networkError() },
  },
  {
    name: 'throttled beyond the SDK retries',
    applies: () => true,
    fault: { error: () => throttled(4) },
  },
  {
    name: 'reads work, writes fail',
    applies: (s) => s === 'item-write' || s === 'transaction',
    fault: { commands: WRITE_COMMANDS, error: () => internalServerError() },
  },
  {
    name: 'transaction cancelled after its first item (not a condition)',
    applies: (s) => s === 'transaction',
    fault: {
      commands: ['TransactWriteItemsCommand'],
      error: transactionCancelled('ValidationError'),
    },
  },
];

function send(route: RouteDefinition, request: { path: string; body?: unknown }, key: string) {
  return call(route.method, request.path, {
    ...(route.access.kind === 'key' ? { key } : {}),
    body: request.body,
  });
}

/**
 * Caches the key's allow for the route (the gateway caches per key, address and route) with a
 * request its handler answers before any storage: a read as is, a body of the wrong media type
 * (415), or, for a route without a body, a key ID that cannot exist (404 without a read).
 */
async function cacheAllow(route: RouteDefinition, request: { path: string }, key: string) {
  const res =
    route.method === 'GET'
      ? await call(route.method, request.path, { key })
      : route.method === 'DELETE'
        ? await call(route.method, route.path.replace(/\{[^}]+\}/g, 'no-such-key'), { key })
        : await call(route.method, request.path, {
            key,
            headers: { 'Content-Type': 'text/plain' },
          });
  expect([200, 404, 415], `${route.method} ${route.path}`).toContain(res.status);
}

describe("the SDK's own retries", () => {
  it('a throttle that the SDK retries away never reaches the client', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const fault = injectFault({
      layer: 'below-retries',
      commands: ['GetItemCommand'],
      times: 1,
      error: () => throughputExceeded(),
    });

    // Act: the authorizer's one read is throttled once, then retried by the SDK.
    const res = await call('GET', '/v3/scopes', { key: ownerKey });

    // Assert
    expect(res.status).toBe(200);
    expect(fault.failed).toEqual(['GetItemCommand']);
    expect(fault.passed.filter((c) => c === 'GetItemCommand')).toHaveLength(1);
  });

  it('throttling that outlasts the SDK retries: 503 after its last attempt, then it works', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    expect((await call('GET', '/v3/scopes', { key: ownerKey })).status).toBe(200); // allow cached
    const maxAttempts = await dynamoDocumentClient().config.maxAttempts();
    const fault = injectFault({
      layer: 'below-retries',
      commands: ['QueryCommand'],
      error: () => throughputExceeded(),
    });

    // Act
    const during = await call('GET', '/v3/api_keys', { key: ownerKey });
    fault.remove();
    const after = await call('GET', '/v3/api_keys', { key: ownerKey });

    // Assert: every attempt the SDK makes was throttled, and only then did the handler give up.
    expectUnavailable(during);
    expect(fault.failed).toEqual(Array(maxAttempts).fill('QueryCommand'));
    expect(after.status).toBe(200);
  });

  it('DynamoDB really unreachable (connection refused): 503 from the handler and the authorizer', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey);
    expect((await call('GET', '/v3/scopes', { key: ownerKey })).status).toBe(200); // allow cached
    const fault = redirectDynamoDb(await freePort());

    // Act
    const handlerRead = await call('GET', `/v3/api_keys/${key.api_key_id}`, { key: ownerKey });
    invoked.length = 0;
    const authorizerRead = await call('GET', '/v3/scopes', { key: key.api_key });
    const handlersRun = [...invoked];
    fault.remove();
    const recovered = await call('GET', '/v3/scopes', { key: key.api_key });

    // Assert
    expectUnavailable(handlerRead);
    expectUnavailable(authorizerRead);
    expect(handlersRun).toEqual([]);
    expect(fault.failed).toEqual(['GetItemCommand', 'GetItemCommand']);
    expect(recovered.status).toBe(200);
  });
});

describe("every route of the table, with the caller's allow cached", () => {
  const cases = ROUTE_LIST.flatMap((route) =>
    VARIANTS.filter((v) => v.applies(FIXTURES[route.id].storage)).map(
      (variant) => [`${route.method} ${route.path}`, variant.name, route, variant] as const,
    ),
  );

  it.each(cases)(
    '%s, %s: 503 or unaffected, no partial state, then it works',
    async (_name, _variant, route, variant) => {
      // Arrange
      const fixture = FIXTURES[route.id];
      const account = await newAccount();
      const target = await createKey(account.ownerKey);
      const request = await fixture.request(account, target);
      if (route.access.kind === 'key') await cacheAllow(route, request, account.ownerKey);
      const before = await expectConsistentAccount(account.accountId);
      const authorizerCalls = gateway.emulator.stats.authorizerInvocations;
      invoked.length = 0;
      const fault = injectFault(variant.fault);

      // Act
      const during = await send(route, request, account.ownerKey);
      const handlersRun = [...invoked];
      fault.remove();
      const after = await expectConsistentAccount(account.accountId);
      const retried = await send(route, request, account.ownerKey);

      // Assert: the gateway let the request through on the cached allow (no authorizer call, so
      // whatever the answer is, it is the handler's) ...
      expect(handlersRun).toEqual([route.id]);
      expect(gateway.emulator.stats.authorizerInvocations).toBe(authorizerCalls);
      if (fixture.storage === 'none') {
        // ... a route without storage does not notice the fault ...
        expect([...fault.failed, ...fault.passed]).toEqual([]);
        expect(during.status).toBe(fixture.success);
      } else {
        // ... a route with storage met it and answered 503 in the envelope with Retry-After ...
        expect(fault.failed.length).toBeGreaterThan(0);
        expectUnavailable(during);
      }
      // ... storage is exactly as before (no key, counter, version, hash or event changed) ...
      expect(after).toEqual(before);
      // ... and the same request succeeds once storage is back.
      expect(retried.status).toBe(fixture.success);
      await expectConsistentAccount(account.accountId);
    },
  );
});

describe('write transactions', () => {
  it('a transaction cancelled by throttling is retried until it commits, once', async () => {
    // Arrange
    const account = await newAccount();
    const fault = injectFault({
      commands: ['TransactWriteItemsCommand'],
      times: 2,
      error: transactionCancelled('ThrottlingError'),
    });

    // Act
    const res = await call(
      'POST',
      '/v3/api_keys',
      { key: account.ownerKey, body: { name: 'k', scopes: ['mail.send'] } },
      CreatedApiKey,
    );

    // Assert
    expect(res.status).toBe(201);
    expect(fault.failed).toHaveLength(2);
    const { keys, account: stored } = await expectConsistentAccount(account.accountId);
    expect(keys.filter((k) => k.type !== 'owner').map((k) => k.keyId)).toEqual([
      res.body.api_key_id,
    ]);
    expect(stored?.keyCount).toBe(1);
  });

  it('a transaction throttled on every attempt: 503, nothing written', async () => {
    // Arrange
    const account = await newAccount();
    const target = await createKey(account.ownerKey);
    const before = await expectConsistentAccount(account.accountId);
    const fault = injectFault({
      commands: ['TransactWriteItemsCommand'],
      error: transactionCancelled('ThrottlingError'),
    });

    // Act
    const res = await call('DELETE', `/v3/api_keys/${target.api_key_id}`, {
      key: account.ownerKey,
    });
    fault.remove();

    // Assert: the repository retried, then gave up with a 503; the key is untouched.
    expectUnavailable(res);
    expect(fault.failed.length).toBeGreaterThan(1);
    expect(await expectConsistentAccount(account.accountId)).toEqual(before);
  });

  it.each([
    ['POST', () => '/v3/api_keys', 201, { keyCount: 2, created: 2, deleted: 0 }],
    ['DELETE', (id: string) => `/v3/api_keys/${id}`, 204, { keyCount: 0, created: 1, deleted: 1 }],
  ] as const)(
    '%s: a response lost after the commit is applied once (the SDK resends the same request token)',
    async (method, path, status, expected) => {
      // Arrange
      const account = await newAccount();
      const target = await createKey(account.ownerKey);
      const fault = injectFault({
        layer: 'below-retries',
        commands: ['TransactWriteItemsCommand'],
        times: 1,
        afterSend: true,
        error: () => networkError('ECONNRESET'),
      });

      // Act
      const res = await call(method, path(target.api_key_id), {
        key: account.ownerKey,
        ...(method === 'POST' ? { body: { name: 'k', scopes: ['mail.send'] } } : {}),
      });

      // Assert: the first attempt committed and its answer was lost; the SDK's retry carried the
      // same ClientRequestToken, so DynamoDB answered it without applying the change again.
      expect(res.status).toBe(status);
      expect(fault.failed).toEqual(['TransactWriteItemsCommand']);
      expect(fault.passed.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(1);
      const { account: stored, events } = await expectConsistentAccount(account.accountId);
      expect(stored?.keyCount).toBe(expected.keyCount);
      expect(events.filter((e) => e.action === 'api_key.created')).toHaveLength(expected.created);
      expect(events.filter((e) => e.action === 'api_key.deleted')).toHaveLength(expected.deleted);
    },
  );

  it('a leaked owner key whose revocation fails keeps its record, its hash and its access', async () => {
    // Arrange
    const account = await newAccount();
    const before = await expectConsistentAccount(account.accountId);
    const fault = injectFault({
      commands: ['TransactWriteItemsCommand'],
      error: transactionCancelled('ValidationError'),
    });

    // Act
    const res = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [account.ownerKey] },
    });
    fault.remove();
    const between = await expectConsistentAccount(account.accountId);
    const stillWorks = await call('GET', '/v3/scopes', { key: account.ownerKey });
    const reported = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [account.ownerKey] },
    });
    const refused = await call('GET', '/v3/scopes', { key: account.ownerKey });

    // Assert: a 503 the reporter can retry, and the owner key unchanged until it succeeds.
    expectUnavailable(res);
    expect(between).toEqual(before);
    expect(stillWorks.status).toBe(200);
    expect(reported.status).toBe(202);
    expect(refused.status).toBe(401);
    await expectConsistentAccount(account.accountId);
  });

  it('a leaked-key report failing part-way: the keys already revoked are refused at once, even from a cached allow', async () => {
    // Arrange: two leaked keys, the first one's allow cached by the gateway.
    const account = await newAccount();
    const first = await createKey(account.ownerKey);
    const second = await createKey(account.ownerKey);
    expect((await call('GET', '/v3/scopes', { key: first.api_key })).status).toBe(200);
    const fault = injectFault({
      inputContaining: hashApiKey(second.api_key),
      error: () => networkError(),
    });

    // Act
    const res = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [first.api_key, second.api_key] },
    });
    fault.remove();
    const firstAfter = await call('GET', '/v3/scopes', { key: first.api_key });

    // Assert: the report must be retried (503), the first key is revoked, and its cached allow
    // was flushed with it.
    expectUnavailable(res);
    expect(fault.failed.length).toBeGreaterThan(0);
    expect(await defaultDeps().repo.getKey(first.api_key_id)).toBeUndefined();
    expect(await defaultDeps().repo.getKey(second.api_key_id)).toBeDefined();
    expect(firstAfter.status).toBe(401);
    await expectConsistentAccount(account.accountId);
  });

  it('a refused escalation whose audit write fails: 503, and still nothing granted', async () => {
    // Arrange: a key that may update keys but does not hold alerts.read.
    const account = await newAccount();
    const admin = await createKey(account.ownerKey, ['api_keys.update', 'mail.send']);
    const target = await createKey(account.ownerKey, ['mail.send']);
    expect((await call('GET', '/v3/scopes', { key: admin.api_key })).status).toBe(200);
    const before = await expectConsistentAccount(account.accountId);
    // The refusal is recorded with its bounded counter, in one transaction.
    const fault = injectFault({
      commands: ['TransactWriteItemsCommand'],
      error: () => internalServerError(),
    });

    // Act
    const res = await call('PUT', `/v3/api_keys/${target.api_key_id}`, {
      key: admin.api_key,
      body: { name: 'target', scopes: ['mail.send', 'alerts.read'] },
    });
    fault.remove();
    const after = await expectConsistentAccount(account.accountId);
    const retried = await call('PUT', `/v3/api_keys/${target.api_key_id}`, {
      key: admin.api_key,
      body: { name: 'target', scopes: ['mail.send', 'alerts.read'] },
    });

    // Assert: the refusal could not be recorded, so the request is not answered as done either
    // way; once storage is back it is refused and recorded.
    expectUnavailable(res);
    expect(fault.failed).toEqual(['TransactWriteItemsCommand']);
    expect(after).toEqual(before);
    expect(retried.status).toBe(403);
    const { events } = await expectConsistentAccount(account.accountId);
    expect(events.filter((e) => e.action === 'api_key.escalation_refused')).toHaveLength(1);
  });
});

describe('the authorizer under storage faults', () => {
  const keyed = ROUTE_LIST.filter((r) => r.access.kind === 'key').map(
    (route) => [`${route.method} ${route.path}`, route] as const,
  );

  it.each(keyed)(
    '%s: fails closed with 503 (no allow, no 401, no handler run)',
    async (_name, route) => {
      // Arrange: a valid key that may call every route, and nothing cached.
      const account = await newAccount();
      const target = await createKey(account.ownerKey);
      const request = await FIXTURES[route.id].request(account, target);
      gateway.emulator.flushAuthorizerCache();
      invoked.length = 0;
      const fault = injectFault({ error: () => networkError() });

      // Act
      const res = await send(route, request, account.ownerKey);

      // Assert
      expectUnavailable(res);
      expect(fault.failed).toEqual(['GetItemCommand']);
      expect(invoked).toEqual([]);
    },
  );

  it('does not cache a failure: the first request after recovery is authorized', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const calls = gateway.emulator.stats.authorizerInvocations;
    const storageError = { Outcome: 'error', Reason: 'storage' };
    const errorsBefore = metricCount(METRIC_NAMES.authorizerDecision, storageError);
    const fault = injectFault({ error: () => throttled(4) });

    // Act
    const during = await call('GET', '/v3/api_keys', { key: ownerKey });
    fault.remove();
    const after = await call('GET', '/v3/api_keys', { key: ownerKey });

    // Assert
    expectUnavailable(during);
    expect(after.status).toBe(200);
    expect(gateway.emulator.stats.authorizerInvocations - calls).toBe(2);
    expect(metricCount(METRIC_NAMES.authorizerDecision, storageError)).toBe(errorsBefore + 1);
  });

  it('keeps a cached allow through an outage: storage-free routes work, storage routes answer 503', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    expect((await call('GET', '/v3/scopes', { key: ownerKey })).status).toBe(200);
    await cacheAllow(ROUTES.sendMail, { path: '/v3/mail/send' }, ownerKey);
    await cacheAllow(ROUTES.listApiKeys, { path: '/v3/api_keys' }, ownerKey);
    const stats = { ...gateway.emulator.stats };
    const storage503 = { Dependency: 'storage' };
    const unavailableBefore = metricCount(METRIC_NAMES.serviceUnavailable, storage503);
    const fault = injectFault({ error: () => networkError() });

    // Act
    const scopes = await call('GET', '/v3/scopes', { key: ownerKey });
    const mail = await call('POST', '/v3/mail/send', { key: ownerKey, body: MINIMAL_MAIL });
    const list = await call('GET', '/v3/api_keys', { key: ownerKey });

    // Assert: the cached allow is used as is, not re-checked (API Gateway does not call the
    // authorizer on a cache hit) and not made worse: the routes that need no storage still
    // answer, and the one that does answers 503, never 401 or 403.
    expect(scopes.status).toBe(200);
    expect(mail.status).toBe(202);
    expectUnavailable(list);
    expect(gateway.emulator.stats.authorizerInvocations).toBe(stats.authorizerInvocations);
    expect(gateway.emulator.stats.cacheHits - stats.cacheHits).toBe(3);
    expect(fault.failed).toEqual(['QueryCommand']);
    expect(metricCount(METRIC_NAMES.serviceUnavailable, storage503)).toBe(unavailableBefore + 1);
  });

  it('once the cached allow expires during an outage, fails closed rather than allowing', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    expect((await call('GET', '/v3/scopes', { key: ownerKey })).status).toBe(200);
    injectFault({ error: () => networkError() });

    // Act
    clockOffset = 301_000; // past the 300 s TTL
    const res = await call('GET', '/v3/scopes', { key: ownerKey });

    // Assert
    expectUnavailable(res);
    expect(invoked.filter((r) => r === 'listScopes')).toHaveLength(1); // only the first request
  });

  it('does not let in, during an outage, a key deleted before it', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey);
    expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(200);
    const deleted = await call('DELETE', `/v3/api_keys/${key.api_key_id}`, { key: ownerKey });
    expect(deleted.status).toBe(204);
    injectFault({ error: () => networkError() });

    // Act
    const res = await call('GET', '/v3/scopes', { key: key.api_key });

    // Assert: the delete flushed the cached allow; with storage down the authorizer cannot tell,
    // so it fails closed.
    expectUnavailable(res);
  });

  it('lets a valid key in when only its last-used write fails', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const fault = injectFault({ commands: ['UpdateItemCommand'], error: () => throttled(4) });

    // Act
    const res = await call('GET', '/v3/scopes', { key: ownerKey });

    // Assert
    expect(res.status).toBe(200);
    expect(fault.failed).toEqual(['UpdateItemCommand']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { onLocalAuthorizerCacheFlush } from '../../shared/adapters/local/authorizer-cache.js';
import { FLUSH_FAILED_METRIC } from '../../shared/adapters/resilient-authorizer-cache.js';
import { metricCount } from '../../shared/observability/metrics.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { createGateway } from '../helpers/gateway.js';
import { newAccount } from '../helpers/harness.js';

let clock = Date.parse('2026-11-27T12:00:00Z');
const gateway = createGateway({ cacheTtlSeconds: 300, now: () => clock });
const { call, emulator } = gateway;

async function createKey(owner: string, scopes: string[]) {
  const res = await call(
    'POST',
    '/v3/api_keys',
    { key: owner, body: { name: 'k', scopes } },
    CreatedApiKey,
  );
  expect(res.status).toBe(201);
  return res.body;
}

describe('authorizer cache (TTL 300 s)', () => {
  it('serves repeated requests to a route from one cached result per key and route', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['api_keys.read']);
    const other = await createKey(ownerKey, ['api_keys.read']);
    const before = { ...emulator.stats };

    // Act
    const list = await call('GET', '/v3/api_keys', { key: key.api_key });
    const listAgain = await call('GET', '/v3/api_keys', { key: key.api_key });
    const get = await call('GET', `/v3/api_keys/${key.api_key_id}`, { key: key.api_key });
    const getOther = await call('GET', `/v3/api_keys/${other.api_key_id}`, { key: key.api_key });
    const del = await call('DELETE', `/v3/api_keys/${key.api_key_id}`, { key: key.api_key });

    // Assert: three routes, three authorizer calls; a second path of one route is a hit
    expect([list, listAgain, get, getOther, del].map((r) => r.status)).toEqual([
      200, 200, 200, 200, 403,
    ]);
    expect(emulator.stats.authorizerInvocations - before.authorizerInvocations).toBe(3);
    expect(emulator.stats.cacheHits - before.cacheHits).toBe(2);
  });

  it('sees a deletion on the very next request', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['api_keys.read']);
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);

    // Act
    const deleted = await call('DELETE', `/v3/api_keys/${key.api_key_id}`, { key: ownerKey });
    const next = await call('GET', '/v3/api_keys', { key: key.api_key });

    // Assert
    expect(deleted.status).toBe(204);
    expect(next.status).toBe(401);
  });

  it('sees a scope change on the very next request', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['api_keys.read', 'mail.send']);
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);

    // Act
    const put = await call('PUT', `/v3/api_keys/${key.api_key_id}`, {
      key: ownerKey,
      body: { name: 'k', scopes: ['mail.send'] },
    });
    const next = await call('GET', '/v3/api_keys', { key: key.api_key });

    // Assert
    expect(put.status).toBe(200);
    expect(next.status).toBe(403);
  });

  it('really caches: a change that bypasses the flush is only seen after the TTL', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['api_keys.read']);
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);
    const stored = await defaultDeps().repo.getKey(key.api_key_id);
    if (!stored) throw new Error('missing');
    await defaultDeps().repo.deleteKey(stored, {
      accountId: stored.accountId,
      eventId: `${new Date().toISOString()}#test`,
      time: new Date().toISOString(),
      action: 'api_key.deleted',
      actorKeyId: null,
      targetKeyId: stored.keyId,
      scopesAdded: [],
      scopesRemoved: [],
      sourceIp: null,
      details: {},
    }); // storage only: no flush

    // Act
    const cached = await call('GET', '/v3/api_keys', { key: key.api_key });
    clock += 301_000;
    const expired = await call('GET', '/v3/api_keys', { key: key.api_key });

    // Assert
    expect(cached.status).toBe(200);
    expect(expired.status).toBe(401);
  });
});

describe('faults', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  it('still revokes when the cache flush fails, and logs and counts the failure', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['api_keys.read']);
    restore = onLocalAuthorizerCacheFlush(() => {
      throw new Error('FlushStageAuthorizersCache: TooManyRequestsException');
    });
    const failuresBefore = metricCount(FLUSH_FAILED_METRIC);

    // Act
    const res = await call('DELETE', `/v3/api_keys/${key.api_key_id}`, { key: ownerKey });

    // Assert
    expect(res.status).toBe(204);
    expect(metricCount(FLUSH_FAILED_METRIC)).toBe(failuresBefore + 1);
    expect(await defaultDeps().repo.getKey(key.api_key_id)).toBeUndefined();
  });

  it('fails closed with 503 (never 401, never an allow) when DynamoDB fails', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['api_keys.read']);
    const name = `fault-${Math.random()}`;
    dynamoDocumentClient().middlewareStack.add(
      () => async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
      },
      { step: 'initialize', name },
    );
    restore = () => dynamoDocumentClient().middlewareStack.remove(name);

    // Act
    const res = await call('GET', '/v3/api_keys', { key: key.api_key });

    // Assert
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toEqual({
      errors: [{ field: null, message: 'service temporarily unavailable, retry later' }],
    });
  });
});

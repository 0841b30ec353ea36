import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC } from '../../shared/deployment/deployment.js';
import { generateApiKey } from '../../shared/domain/key-format.js';
import { useDeployment } from '../../shared/runtime/deployment.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { ApiKeyUsage } from '../../shared/schemas/usage.js';
import { createGateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';

/**
 * `GET /v3/api_keys/{api_key_id}/usage` through the API Gateway emulator (the real authorizer,
 * its cache on, the real handler, DynamoDB Local), on a deployment with a default plan: where a
 * key and its account stand, what another account or an anonymous caller learns (nothing), and
 * that reading never changes anyone's counts.
 */

const PLANNED = {
  ...DEFAULT_SPEC,
  plans: [
    { id: 'starter', rate: { perSecond: 100, burst: 100 }, quota: { perDay: 50, perMonth: 1000 } },
  ],
  defaultPlan: 'starter',
};
useDeployment(PLANNED);
const { call } = createGateway({ cacheTtlSeconds: 300 });

/** The next UTC midnight and the next 1st of the month, as the API writes them. */
function resets() {
  const now = new Date();
  return {
    day: new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1),
    ).toISOString(),
    month: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
  };
}

async function createKey(account: TestAccount, scopes: string[], onBehalfOf?: string) {
  const created = await call(
    'POST',
    '/v3/api_keys',
    {
      key: account.ownerKey,
      body: { name: 'usage', scopes },
      ...(onBehalfOf ? { headers: { 'on-behalf-of': onBehalfOf } } : {}),
    },
    CreatedApiKey,
  );
  expect(created.status, created.text).toBe(201);
  return created.body;
}

function usageOf(key: string, keyId: string, headers?: Record<string, string>) {
  return call(
    'GET',
    `/v3/api_keys/${keyId}/usage`,
    { key, ...(headers ? { headers } : {}) },
    ApiKeyUsage,
  );
}

describe('GET /v3/api_keys/{api_key_id}/usage', () => {
  it("answers the account's plan, its limits and exact counts, and a key without limits as not counted", async () => {
    // Arrange: a new account (bootstrapped: nothing counted yet), one key made through the API
    const account = await newAccount();
    const target = await createKey(account, ['mail.send']);
    for (let i = 0; i < 2; i++) {
      expect((await call('GET', '/v3/scopes', { key: account.ownerKey })).status).toBe(200);
    }

    // Act: the fourth counted request of the account (create, two reads, this one)
    const res = await usageOf(account.ownerKey, target.api_key_id);

    // Assert
    expect(res.status, res.text).toBe(200);
    const { day, month } = resets();
    expect(res.body).toEqual({
      api_key_id: target.api_key_id,
      key: { counted: false, limits: {}, day: null, month: null },
      account: {
        plan: 'starter',
        counted: true,
        limits: { rate: { per_second: 100, burst: 100 }, quota: { per_day: 50, per_month: 1000 } },
        day: { used: 4, limit: 50, resets_at: day },
        month: { used: 4, limit: 1000, resets_at: month },
      },
    });
    // The read is a counted request like any other: it carries where the caller stands.
    expect(res.headers['x-ratelimit-limit']).toBe('50');
    expect(res.headers['x-ratelimit-remaining']).toBe('46');
  });

  it("answers a key's own limits and counts, its own reads included, beside its account's", async () => {
    // Arrange: a key with a daily quota of 5 that may read keys, used twice
    const account = await newAccount();
    const created = await call(
      'POST',
      '/v3/api_keys',
      {
        key: account.ownerKey,
        body: { name: 'capped', scopes: ['api_keys.read'], limits: { quota: { per_day: 5 } } },
      },
      CreatedApiKey,
    );
    expect(created.status, created.text).toBe(201);
    const capped = created.body;
    for (let i = 0; i < 2; i++) {
      expect((await call('GET', '/v3/api_keys', { key: capped.api_key })).status).toBe(200);
    }

    // Act: the key reads its own usage (its third request), then the owner reads it
    const own = await usageOf(capped.api_key, capped.api_key_id);
    const owners = await usageOf(account.ownerKey, capped.api_key_id);

    // Assert
    const { day, month } = resets();
    expect(own.status, own.text).toBe(200);
    expect(own.body.key).toEqual({
      counted: true,
      limits: { quota: { per_day: 5 } },
      day: { used: 3, limit: 5, resets_at: day },
      month: { used: 3, limit: null, resets_at: month },
    });
    // The account counted the create, the key's three requests and the owner's read.
    expect(owners.body.key.day?.used).toBe(3);
    expect(owners.body.account.day?.used).toBe(5);
    // The key's own quota is the nearest to refusing its request: its headers say so.
    expect(own.headers['x-ratelimit-limit']).toBe('5');
    expect(own.headers['x-ratelimit-remaining']).toBe('2');
  });

  it("answers another account's key exactly as an unknown ID, and leaves that account's counts as they were", async () => {
    // Arrange: a victim whose usage is read before and after
    const victim = await newAccount();
    const target = await createKey(victim, ['mail.send']);
    const before = await usageOf(victim.ownerKey, target.api_key_id);
    const attacker = await newAccount();
    const unknownId = generateApiKey('SG').keyId;

    // Act: the attacker's owner key, every scope; then an unknown ID and a malformed one
    const foreign = await call('GET', `/v3/api_keys/${target.api_key_id}/usage`, {
      key: attacker.ownerKey,
    });
    const unknown = await call('GET', `/v3/api_keys/${unknownId}/usage`, {
      key: attacker.ownerKey,
    });
    const malformed = await call('GET', '/v3/api_keys/not-an-id/usage', { key: attacker.ownerKey });
    const after = await usageOf(victim.ownerKey, target.api_key_id);

    // Assert: the same status and bytes; the victim's count moved by its own read only
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(unknown.text);
    expect(malformed.status).toBe(404);
    expect(malformed.text).toBe(unknown.text);
    expect(foreign.body).toEqual({ errors: [{ field: null, message: 'unable to find API Key' }] });
    expect(after.body.account.day?.used).toBe((before.body.account.day?.used ?? 0) + 1);
  });

  it('refuses an anonymous caller (401) and a key without api_keys.read (403), counting nothing', async () => {
    // Arrange
    const account = await newAccount();
    const reader = await createKey(account, ['mail.send']);
    const before = await usageOf(account.ownerKey, reader.api_key_id);

    // Act
    const anonymous = await call('GET', `/v3/api_keys/${reader.api_key_id}/usage`, {});
    const unscoped = await call('GET', `/v3/api_keys/${reader.api_key_id}/usage`, {
      key: reader.api_key,
    });
    const after = await usageOf(account.ownerKey, reader.api_key_id);

    // Assert: refused at the gate, before the plan counts a request
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({
      errors: [{ field: null, message: 'authorization required' }],
    });
    expect(unscoped.status).toBe(403);
    expect(unscoped.body).toEqual({ errors: [{ field: null, message: 'access forbidden' }] });
    expect(after.body.account.day?.used).toBe((before.body.account.day?.used ?? 0) + 1);
  });

  it("reads a subuser's key and the subuser's own counts with on-behalf-of, never the parent's", async () => {
    // Arrange: a parent, its subuser (made by the parent: counted against the parent), a key of it
    const parent = await newAccount();
    const username = `usage-${randomBytes(4).toString('hex')}`;
    const made = await call('POST', '/v3/subusers', {
      key: parent.ownerKey,
      body: { username, email: `${username}@example.com`, password: 'unused-Passw0rd', ips: [] },
    });
    expect(made.status).toBe(200);
    const target = await createKey(parent, ['mail.send'], username);

    // Act: the subuser's second counted request (the key's creation was its first)
    const acting = await usageOf(parent.ownerKey, target.api_key_id, { 'on-behalf-of': username });
    const direct = await call('GET', `/v3/api_keys/${target.api_key_id}/usage`, {
      key: parent.ownerKey,
    });

    // Assert: the parent's own view does not reach the subuser's key
    expect(acting.status, acting.text).toBe(200);
    expect(acting.body.account).toMatchObject({ plan: 'starter', counted: true });
    expect(acting.body.account.day?.used).toBe(2);
    expect(direct.status).toBe(404);
  });

  it('says nothing is counted, rather than 0, where the deployment declares no plans', async () => {
    // Arrange
    const account = await newAccount();
    const target = await createKey(account, ['mail.send']);
    useDeployment(DEFAULT_SPEC);
    try {
      // Act
      const res = await usageOf(account.ownerKey, target.api_key_id);

      // Assert
      expect(res.status, res.text).toBe(200);
      expect(res.body.account).toEqual({
        plan: null,
        counted: false,
        limits: {},
        day: null,
        month: null,
      });
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      useDeployment(PLANNED);
    }
  });
});

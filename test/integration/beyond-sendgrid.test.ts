import { afterEach, describe, expect, it, vi } from 'vitest';
import { REQUIRED_SCOPES_HEADER } from '../../shared/domain/errors.js';
import {
  ApiKeyList,
  ApiKeyView,
  AuditEventList,
  CreatedApiKey,
  ErrorEnvelope,
  RolledApiKey,
} from '../../shared/schemas/api-keys.js';
import { countDynamoCommands, createGateway } from '../helpers/gateway.js';
import { callerFor, errorsOf, invoke, newAccount } from '../helpers/harness.js';
import { bodyAs } from '../helpers/typed-body.js';

/**
 * Keygate's additions to SendGrid's contract, through the API Gateway emulator (authorizer cache
 * on, TTL 300 s) with the real authorizer and handlers on DynamoDB Local. The emulator's clock is
 * pinned, so a cached authorizer result stays cached while the handlers' clock moves on.
 */

let gatewayClock = Date.now();
const { call, emulator } = createGateway({ cacheTtlSeconds: 300, now: () => gatewayClock });

const HOUR = 3600_000;
const EXPIRED = 'The provided authorization grant is invalid, expired, or revoked';

afterEach(() => {
  vi.useRealTimers();
  gatewayClock = Date.now();
});

/** Moves the handlers' and the authorizer's clock (not the gateway cache's) forward. */
function advanceClock(ms: number) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
}

async function createKey(owner: string, body: Record<string, unknown>) {
  const res = await call('POST', '/v3/api_keys', { key: owner, body: { name: 'k', ...body } });
  return res;
}

async function created(owner: string, body: Record<string, unknown> = {}) {
  const res = await createKey(owner, { scopes: ['api_keys.read'], ...body });
  expect(res.status).toBe(201);
  return bodyAs(CreatedApiKey, res.body, 'create → 201');
}

describe('expiry', () => {
  it('refuses an expired key, even through a cached authorizer result', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const expiresAt = new Date(Date.now() + HOUR).toISOString();
    const key = await created(ownerKey, { expires_at: expiresAt });
    expect(key.expires_at).toBe(expiresAt);
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);

    // Act
    advanceClock(2 * HOUR);
    const cached = await call('GET', '/v3/api_keys', { key: key.api_key });
    emulator.flushAuthorizerCache();
    const fresh = await call('GET', '/v3/api_keys', { key: key.api_key });

    // Assert
    expect(cached.status).toBe(401);
    expect(cached.body).toEqual({ errors: [{ field: null, message: EXPIRED }] });
    expect(fresh.status).toBe(401);
  });

  it.each([
    ['in the past', new Date(Date.now() - HOUR).toISOString(), 'expires_at must be in the future'],
    [
      'not RFC 3339',
      'next tuesday',
      'expires_at must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z',
    ],
  ])('refuses an expiry %s with 400', async (_case, expires_at, message) => {
    const { ownerKey } = await newAccount();

    const res = await createKey(ownerKey, { expires_at });

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ field: 'expires_at', message }] });
  });

  it("enforces the account's maximum lifetime, and gives keys without an expiry that maximum", async () => {
    // Arrange
    const { ownerKey } = await newAccount({ maxKeyLifetimeSeconds: 3600 });

    // Act
    const tooLong = await createKey(ownerKey, {
      expires_at: new Date(Date.now() + 2 * HOUR).toISOString(),
    });
    const defaulted = await created(ownerKey);
    const removal = await call('PUT', `/v3/api_keys/${defaulted.api_key_id}`, {
      key: ownerKey,
      body: { name: 'k', scopes: ['api_keys.read'], expires_at: null },
    });

    // Assert
    expect(tooLong.status).toBe(400);
    expect(errorsOf({ body: tooLong.body } as never)[0]?.field).toBe('expires_at');
    const lifetime = Date.parse(defaulted.expires_at ?? '') - Date.now();
    expect(lifetime).toBeGreaterThan(HOUR - 60_000);
    expect(lifetime).toBeLessThanOrEqual(HOUR);
    expect(removal.status).toBe(400);
  });

  it('lets PUT set and remove an expiry', async () => {
    const { ownerKey } = await newAccount();
    const key = await created(ownerKey);
    const expiresAt = new Date(Date.now() + HOUR).toISOString();

    const set = await call(
      'PUT',
      `/v3/api_keys/${key.api_key_id}`,
      { key: ownerKey, body: { name: 'k', scopes: ['api_keys.read'], expires_at: expiresAt } },
      ApiKeyView,
    );
    const removed = await call(
      'PUT',
      `/v3/api_keys/${key.api_key_id}`,
      { key: ownerKey, body: { name: 'k', scopes: ['api_keys.read'], expires_at: null } },
      ApiKeyView,
    );

    expect(set.body.expires_at).toBe(expiresAt);
    expect(removed.body.expires_at).toBeNull();
  });
});

describe('roll', () => {
  it('returns a new key for the same ID, name and scopes; the old one works until the grace ends', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const old = await created(ownerKey, { name: 'worker' });
    expect((await call('GET', '/v3/api_keys', { key: old.api_key })).status).toBe(200);

    // Act
    const res = await call(
      'POST',
      `/v3/api_keys/${old.api_key_id}/roll`,
      { key: ownerKey, body: { grace_seconds: 3600 } },
      RolledApiKey,
    );
    const rolled = res.body;
    const oldDuringGrace = await call('GET', '/v3/api_keys', { key: old.api_key });
    const newKey = await call('GET', '/v3/api_keys', { key: rolled.api_key });
    advanceClock(2 * HOUR);
    const oldCached = await call('GET', '/v3/api_keys', { key: old.api_key });
    emulator.flushAuthorizerCache();
    const oldFresh = await call('GET', '/v3/api_keys', { key: old.api_key });
    const newAfter = await call('GET', '/v3/api_keys', { key: rolled.api_key });

    // Assert
    expect(res.status).toBe(200);
    expect(rolled).toMatchObject({
      api_key_id: old.api_key_id,
      name: 'worker',
      scopes: ['api_keys.read'],
    });
    expect(rolled.api_key).not.toBe(old.api_key);
    expect(Date.parse(rolled.previous_key_valid_until ?? '') - Date.now()).toBeLessThanOrEqual(
      -HOUR + 60_000,
    );
    expect([oldDuringGrace.status, newKey.status]).toEqual([200, 200]);
    expect([oldCached.status, oldFresh.status, newAfter.status]).toEqual([401, 401, 200]);
  });

  it('with no grace period, refuses the old key on the very next request', async () => {
    const { ownerKey } = await newAccount();
    const old = await created(ownerKey);
    expect((await call('GET', '/v3/api_keys', { key: old.api_key })).status).toBe(200);

    const res = await call(
      'POST',
      `/v3/api_keys/${old.api_key_id}/roll`,
      { key: ownerKey, body: { grace_seconds: 0 } },
      RolledApiKey,
    );

    expect(res.body.previous_key_valid_until).toBeNull();
    expect((await call('GET', '/v3/api_keys', { key: old.api_key })).status).toBe(401);
  });

  it('never extends the old key beyond the expiry, and caps the grace at 7 days', async () => {
    const { ownerKey } = await newAccount();
    const expiresAt = new Date(Date.now() + HOUR).toISOString();
    const key = await created(ownerKey, { expires_at: expiresAt });

    const capped = await call(
      'POST',
      `/v3/api_keys/${key.api_key_id}/roll`,
      { key: ownerKey, body: { grace_seconds: 604800 } },
      RolledApiKey,
    );
    const tooLong = await call(
      'POST',
      `/v3/api_keys/${key.api_key_id}/roll`,
      { key: ownerKey, body: { grace_seconds: 604801 } },
      ErrorEnvelope,
    );

    expect(capped.body.previous_key_valid_until).toBe(expiresAt);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0]?.field).toBe('grace_seconds');
  });
});

describe('last used', () => {
  it('records when and from where a key was used, at most one write a minute', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await created(ownerKey);
    const before = await call('GET', `/v3/api_keys/${key.api_key_id}`, { key: ownerKey });
    expect(before.body).toMatchObject({ last_used_at: null, last_used_ip: null });

    // Act
    await call('GET', '/v3/scopes', { key: key.api_key, sourceIp: '198.51.100.9' });
    emulator.flushAuthorizerCache();
    const commands = countDynamoCommands();
    await call('GET', '/v3/scopes', { key: key.api_key, sourceIp: '198.51.100.9' });
    const after = await call(
      'GET',
      `/v3/api_keys/${key.api_key_id}`,
      { key: ownerKey },
      ApiKeyView,
    );
    const list = await call('GET', '/v3/api_keys', { key: ownerKey }, ApiKeyList);

    // Assert
    expect(after.body).toMatchObject({ last_used_ip: '198.51.100.9' });
    expect(Date.now() - Date.parse(after.body.last_used_at ?? '')).toBeLessThan(60_000);
    expect(
      commands.inputs.filter(
        (i) => 'UpdateExpression' in i && String(i.UpdateExpression).includes('lastUsedAt'),
      ),
    ).toEqual([]);
    const row = list.body.result.find((k) => k.api_key_id === key.api_key_id);
    expect(row?.last_used_at).toBe(after.body.last_used_at);
  });
});

describe('IP allowlist', () => {
  it('lets a key in only from its addresses, and never lets a cached allow cross addresses', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await created(ownerKey, { allowed_ips: ['10.0.0.0/8', '2001:db8::/32'] });

    // Act
    const inside = await call('GET', '/v3/scopes', { key: key.api_key, sourceIp: '10.1.2.3' });
    const outside = await call('GET', '/v3/scopes', { key: key.api_key, sourceIp: '192.0.2.1' });
    const insideAgain = await call('GET', '/v3/scopes', { key: key.api_key, sourceIp: '10.1.2.3' });
    const outsideAgain = await call('GET', '/v3/scopes', {
      key: key.api_key,
      sourceIp: '192.0.2.1',
    });
    const ipv6 = await call('GET', '/v3/scopes', { key: key.api_key, sourceIp: '2001:db8::42' });

    // Assert
    expect([
      inside.status,
      outside.status,
      insideAgain.status,
      outsideAgain.status,
      ipv6.status,
    ]).toEqual([200, 403, 200, 403, 200]);
  });

  it('normalises entries and refuses what is not an address or block', async () => {
    const { ownerKey } = await newAccount();

    const ok = await created(ownerKey, { allowed_ips: ['10.0.0.7', '10.0.0.7/32'] });
    const bad = await createKey(ownerKey, { allowed_ips: ['10.0.0.0/33'] });
    const detail = await call(
      'GET',
      `/v3/api_keys/${ok.api_key_id}`,
      { key: ownerKey },
      ApiKeyView,
    );

    expect(detail.body.allowed_ips).toEqual(['10.0.0.7/32']);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      errors: [
        { field: 'allowed_ips', message: '"10.0.0.0/33" is not an IP address or CIDR block' },
      ],
    });
  });
});

describe('leaked-key revocation', () => {
  it('revokes every valid key reported, says nothing about which, and tells the owner', async () => {
    // Arrange
    const mine = await newAccount();
    const theirs = await newAccount();
    const leaked = await created(mine.ownerKey);
    const alsoLeaked = await created(theirs.ownerKey);
    expect((await call('GET', '/v3/scopes', { key: leaked.api_key })).status).toBe(200);
    const noise = ['SG.not-a-key', `SG.${'A'.repeat(22)}.${'B'.repeat(43)}`];

    // Act
    const res = await call('POST', '/v3/api_keys/revoke-leaked', {
      body: { keys: [leaked.api_key, alsoLeaked.api_key, ...noise] },
      sourceIp: '203.0.113.50',
    });
    const noiseOnly = await call('POST', '/v3/api_keys/revoke-leaked', { body: { keys: noise } });

    // Assert
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ received: 4 });
    expect(noiseOnly.body).toEqual({ received: 2 });
    expect((await call('GET', '/v3/scopes', { key: leaked.api_key })).status).toBe(401);
    expect((await call('GET', '/v3/scopes', { key: alsoLeaked.api_key })).status).toBe(401);
    const events = await call('GET', '/v3/api_keys/events', { key: mine.ownerKey }, AuditEventList);
    expect(events.body.result).toContainEqual(
      expect.objectContaining({
        action: 'api_key.leak_revoked',
        api_key_id: leaked.api_key_id,
        actor_key_id: null,
        source_ip: '203.0.113.50',
      }),
    );
  });

  it("replaces a leaked owner key's secret (the account keeps its owner) and ends a grace period", async () => {
    // Arrange
    const { ownerKey, owner } = await newAccount();
    const key = await created(ownerKey);
    const roll = await call(
      'POST',
      `/v3/api_keys/${key.api_key_id}/roll`,
      { key: ownerKey, body: {} },
      RolledApiKey,
    );
    const rolled = roll.body.api_key;

    // Act
    await call('POST', '/v3/api_keys/revoke-leaked', { body: { keys: [ownerKey, key.api_key] } });

    // Assert
    expect((await call('GET', '/v3/scopes', { key: ownerKey })).status).toBe(401);
    expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(401);
    expect((await call('GET', '/v3/scopes', { key: rolled })).status).toBe(200);
    const { defaultDeps } = await import('../../shared/runtime/deps.js');
    expect((await defaultDeps().repo.getKey(owner.keyId))?.type).toBe('owner');
  });

  it('is rate-limited', async () => {
    const { call: fresh } = createGateway();

    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push(
        (await fresh('POST', '/v3/api_keys/revoke-leaked', { body: { keys: ['x'] } })).status,
      );
    }

    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe('audit log', () => {
  it('records every change once, newest first, with actor, scope diff and source, never key material', async () => {
    // Arrange
    const { ownerKey, owner } = await newAccount();
    const key = await created(ownerKey, { scopes: ['mail.send'] });
    const opts = { key: ownerKey, sourceIp: '198.51.100.1' };
    await call('PUT', `/v3/api_keys/${key.api_key_id}`, {
      ...opts,
      body: { name: 'k', scopes: ['mail.send', 'alerts.read'] },
    });
    await call('PATCH', `/v3/api_keys/${key.api_key_id}`, { ...opts, body: { name: 'renamed' } });
    const roll = await call(
      'POST',
      `/v3/api_keys/${key.api_key_id}/roll`,
      { ...opts, body: {} },
      RolledApiKey,
    );
    await call('DELETE', `/v3/api_keys/${key.api_key_id}`, opts);

    // Act
    const res = await call(
      'GET',
      '/v3/api_keys/events',
      { key: ownerKey, query: { api_key_id: key.api_key_id } },
      AuditEventList,
    );

    // Assert
    const events = res.body.result;
    expect(events.map((e) => e.action)).toEqual([
      'api_key.deleted',
      'api_key.rolled',
      'api_key.updated',
      'api_key.updated',
      'api_key.created',
    ]);
    expect(events[3]).toMatchObject({
      scopes_added: ['alerts.read'],
      scopes_removed: [],
      actor_key_id: owner.keyId,
    });
    expect(events[2]).toMatchObject({ details: { name: 'renamed' } });
    expect(events[0]).toMatchObject({
      source_ip: '198.51.100.1',
      scopes_removed: ['alerts.read', 'mail.send'],
    });
    const text = JSON.stringify(res.body);
    for (const secret of [key.api_key, roll.body.api_key, ownerKey]) {
      expect(text).not.toContain(secret.split('.')[2]);
    }
  });

  it('pages with a cursor, and refuses a cursor from another query', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    for (let i = 0; i < 3; i++) await created(ownerKey, { name: `k${i}` });

    // Act
    const first = await call(
      'GET',
      '/v3/api_keys/events',
      { key: ownerKey, query: { limit: '2' } },
      AuditEventList,
    );
    const cursor = first.body.next_cursor ?? '';
    const second = await call(
      'GET',
      '/v3/api_keys/events',
      { key: ownerKey, query: { limit: '2', cursor } },
      AuditEventList,
    );
    const other = await newAccount();
    const stolen = await call('GET', '/v3/api_keys/events', {
      key: other.ownerKey,
      query: { cursor },
    });

    // Assert
    expect(first.body.result).toHaveLength(2);
    expect(second.body).toMatchObject({
      next_cursor: null,
    });
    expect(second.body.result).toHaveLength(1);
    expect(stolen.status).toBe(400);
    expect(stolen.body).toEqual({ errors: [{ field: 'cursor', message: 'cursor is not valid' }] });
  });

  it('records a refused escalation, and names the missing scopes in a header', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const admin = await created(ownerKey, { scopes: ['api_keys.create', 'api_keys.read'] });

    // Act
    const res = await call('POST', '/v3/api_keys', {
      key: admin.api_key,
      body: { name: 'x', scopes: ['mail.send'] },
    });
    const events = await call('GET', '/v3/api_keys/events', { key: ownerKey }, AuditEventList);

    // Assert
    expect(res.status).toBe(403);
    expect(res.headers[REQUIRED_SCOPES_HEADER]).toBe('mail.send');
    expect(events.body.result[0]).toMatchObject({
      action: 'api_key.escalation_refused',
      actor_key_id: admin.api_key_id,
      details: { missing_scopes: 'mail.send' },
    });
  });
});

describe('helpful 403', () => {
  it('names the scope a handler found missing in x-keygate-required-scopes', async () => {
    const { owner } = await newAccount();
    const caller = {
      ...(await callerFor(
        (
          await created(
            // a key is needed only for its identity; the context below lacks the scope
            (
              await newAccount()
            ).ownerKey,
          )
        ).api_key,
      )),
      accountId: owner.accountId,
    };

    const res = await invoke('deleteApiKey', {
      caller: { ...caller, scopes: ['api_keys.read'] },
      pathParameters: { api_key_id: owner.keyId },
    });

    expect(res.status).toBe(403);
    expect(res.headers[REQUIRED_SCOPES_HEADER]).toBe('api_keys.delete');
  });
});

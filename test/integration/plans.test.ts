import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { useDeployment } from '../../shared/runtime/deployment.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { loadInvoicesExample } from '../helpers/examples.js';
import { createGateway } from '../helpers/gateway.js';

/**
 * Plans through the API Gateway emulator (the real authorizer, its cache on, Keygate's handlers
 * and the team's wrapped ones, DynamoDB Local): the invoices example with plans added, as a
 * team's config declares them. Every key route counts against the caller's account's plan, a
 * cached authorizer result included, and a route of cost 0 is not counted.
 */

const loaded = await loadInvoicesExample();
useDeployment(
  {
    ...loaded.spec,
    routes: loaded.spec.routes.map((r) =>
      r.method === 'GET' && r.path === '/v1/invoices/{invoice_id}/pdf' ? { ...r, cost: 0 } : r,
    ),
    plans: [
      { id: 'starter', quota: { perDay: 3 } },
      // One request per 10 s after a burst of 2: slow enough that no machine's pace refills it.
      { id: 'burst', rate: { perSecond: 0.1, burst: 2 } },
    ],
    defaultPlan: 'starter',
  },
  loaded.configDir,
);
const { call } = createGateway({ cacheTtlSeconds: 300 });

async function accountIdOf(key: string): Promise<string> {
  const stored = await defaultDeps().repo.getKey(key.split('.')[1] ?? '');
  if (!stored) throw new Error('no such key');
  return stored.accountId;
}

async function accountOn(plan?: string): Promise<string> {
  const created = await bootstrapAccount(defaultDeps(), {
    name: `plans-${randomBytes(6).toString('hex')}`,
    ...(plan ? { plan } : {}),
  });
  if (!created.ok) throw created.error;
  return created.value.apiKey;
}

describe('plans', () => {
  it("counts Keygate's and the team's routes against the account's default plan, then answers 429 with the quota and its reset", async () => {
    // Arrange: an account whose plan ('free') the team did not declare: the default plan applies
    const key = await accountOn();

    // Act: three requests (cached allows after the first), then a fourth on the team's route
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const answers = [
      await call('GET', '/v3/scopes', { key }),
      await call('GET', '/v1/invoices', { key }),
      await call('GET', '/v3/scopes', { key }),
    ];
    const refused = await call('GET', '/v1/invoices', { key });

    // Assert
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0']);
    expect(answers[0]?.headers['x-ratelimit-limit']).toBe('3');
    expect(answers[0]?.headers['x-ratelimit-reset']).toBe(String(midnight.getTime() / 1000));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errors: [
        {
          field: null,
          message: `the daily quota of 3 requests for this account is used up; it resets at ${midnight.toISOString()}`,
        },
      ],
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('records each quota threshold the account crosses once, as an audit event (on the event bus)', async () => {
    // Arrange: the default plan's 3 a day
    const key = await accountOn();
    const accountId = await accountIdOf(key);

    // Act: three requests cross 80, 90 and 100 %, the refused fourth crosses nothing
    for (let i = 0; i < 4; i++) await call('GET', '/v3/scopes', { key });

    // Assert
    const { events } = await defaultDeps().repo.listEvents(accountId, { limit: 20 });
    const warnings = events.filter((e) => e.action === 'account.quota_warning');
    expect(warnings.map((e) => e.details.percent).sort()).toEqual(['100', '80', '90']);
    expect(warnings[0]?.details).toMatchObject({
      plan: 'starter',
      quota: 'daily',
      limit: '3',
      used: '3',
    });
  });

  it('does not count a route of cost 0, nor send it rate-limit headers', async () => {
    // Arrange: the quota used up
    const key = await accountOn();
    for (let i = 0; i < 3; i++) expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);

    // Act: the PDF route costs nothing (an unknown invoice: the team's 404, past the wrapper)
    const free = await call('GET', '/v1/invoices/inv_unknown/pdf', { key });

    // Assert
    expect(free.status).toBe(404);
    expect(free.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('holds a rate limit: the burst passes, the next request waits', async () => {
    // Arrange
    const key = await accountOn('burst');

    // Act
    const first = await call('GET', '/v3/scopes', { key });
    const second = await call('GET', '/v3/scopes', { key });
    const third = await call('GET', '/v3/scopes', { key });

    // Assert
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(third.status).toBe(429);
    expect(third.body).toEqual({ errors: [{ field: null, message: 'too many requests' }] });
    // The bucket admits the third request 10 s after the first (less what has passed since).
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(third.headers['retry-after'])).toBeLessThanOrEqual(10);
  });

  it("counts a parent acting for its subuser (on-behalf-of) against the subuser's plan", async () => {
    // Arrange: a parent (default plan, 3 a day) that spends one request making its subuser
    const key = await accountOn();
    const username = `plans-sub-${randomBytes(4).toString('hex')}`;
    const created = await call('POST', '/v3/subusers', {
      key,
      body: { username, email: `${username}@example.com`, password: 'unused-Passw0rd', ips: [] },
    });

    // Act
    const acting = await call('GET', '/v3/api_keys', {
      key,
      headers: { 'on-behalf-of': username },
    });
    const own = await call('GET', '/v3/scopes', { key });

    // Assert: the subuser's first request (2 left), the parent's second (1 left)
    expect(created.status).toBe(200);
    expect(acting.status).toBe(200);
    expect(acting.headers['x-ratelimit-remaining']).toBe('2');
    expect(own.headers['x-ratelimit-remaining']).toBe('1');
  });

  it("lets no anonymous caller, malformed or unknown key spend an account's quota", async () => {
    // Arrange: an account, and callers that are not its keys
    const key = await accountOn();
    const [prefix, keyId] = key.split('.');
    const unknown = `${prefix}.${keyId}.${'A'.repeat(43)}`;

    // Act: refused at the gate, before any count
    const refused = [
      await call('GET', '/v3/scopes', {}),
      await call('GET', '/v3/scopes', { key: 'SG.not-a-key' }),
      await call('GET', '/v3/scopes', { key: unknown }),
    ];
    const own = await call('GET', '/v3/scopes', { key });

    // Assert: the account's first counted request is its own
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(own.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('keeps one account’s usage from another’s', async () => {
    // Arrange: one account's quota used up
    const spent = await accountOn();
    for (let i = 0; i < 4; i++) await call('GET', '/v3/scopes', { key: spent });
    const other = await accountOn();

    // Act
    const answer = await call('GET', '/v3/scopes', { key: other });

    // Assert
    expect(answer.status).toBe(200);
    expect(answer.headers['x-ratelimit-remaining']).toBe('2');
  });
});

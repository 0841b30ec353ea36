import { describe, expect, it } from 'vitest';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { ApiKeyView, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { invoke, newAccount } from '../helpers/harness.js';
import { expectConsistentAccount } from '../helpers/invariants.js';
import { bodyAs } from '../helpers/typed-body.js';

// This file tests races, not latency: one process plays 150 Lambdas against DynamoDB Local, so
// calls queue for the client's sockets and the JVM, far beyond the deployed per-call timeouts
// (a Lambda container serves one request at a time). Set before the client is first built.
process.env.KEYGATE_DYNAMODB_TIMEOUT_MS = '120000';

describe('concurrent writes', () => {
  it('150 concurrent creates against a limit of 100 leave exactly 100 keys and an exact counter', async () => {
    // Arrange
    const { owner } = await newAccount({ keyLimit: 100 });

    // Act
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        invoke('createApiKey', { caller: owner, body: { name: `k${i}`, scopes: ['mail.send'] } }),
      ),
    );

    // Assert
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(statuses.filter((s) => s === 403)).toHaveLength(50);
    const keys = await defaultDeps().repo.listKeys(owner.accountId);
    expect(keys.filter((k) => k.type !== 'owner')).toHaveLength(100);
    expect((await defaultDeps().repo.getAccount(owner.accountId))?.keyCount).toBe(100);
    await expectConsistentAccount(owner.accountId);
  });

  it('20 concurrent PUTs on one key: each wins (200) or is told it lost (409), none is lost silently', async () => {
    // Arrange
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'k', scopes: ['mail.send'] } },
      CreatedApiKey,
    );
    const { api_key_id } = created.body;
    const pool = ['alerts.read', 'categories.read', 'stats.read', 'templates.read', 'mail.send'];

    // Act: each PUT has its own name, so every committed update can be told apart.
    const puts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        invoke('replaceApiKey', {
          caller: owner,
          pathParameters: { api_key_id },
          body: { name: `put-${i}`, scopes: [pool[i % pool.length], pool[(i + 1) % pool.length]] },
        }),
      ),
    );

    // Assert: every PUT either won (200) or was told it lost (409).
    for (const r of puts) expect([200, 409]).toContain(r.status);
    const winners = puts
      .filter((r) => r.status === 200)
      .map((r) => bodyAs(ApiKeyView, r.body, 'PUT → 200'));
    expect(winners.length).toBeGreaterThan(0);
    // The stored key is exactly what one winner was told, and every winner's update was
    // committed once (one version and one audit event each); no loser's update was applied.
    const stored = await defaultDeps().repo.getKey(api_key_id);
    const last = winners.find((w) => w.name === stored?.name);
    expect(last?.scopes).toEqual(stored?.scopes);
    expect(stored?.version).toBe(1 + winners.length);
    const { events } = await expectConsistentAccount(owner.accountId);
    const updatedNames = events
      .filter((e) => e.action === 'api_key.updated' && e.targetKeyId === api_key_id)
      .map((e) => e.details.name)
      .sort();
    expect(updatedNames).toEqual(winners.map((w) => w.name).sort());
  });

  it('an update racing a delete never resurrects the key, and the counter stays exact', async () => {
    // Arrange
    const { owner } = await newAccount();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await invoke(
        'createApiKey',
        { caller: owner, body: { name: `k${i}`, scopes: ['mail.send'] } },
        CreatedApiKey,
      );
      ids.push(res.body.api_key_id);
    }

    // Act
    const results = await Promise.all(
      ids.flatMap((api_key_id) => [
        invoke('deleteApiKey', { caller: owner, pathParameters: { api_key_id } }),
        invoke('renameApiKey', {
          caller: owner,
          pathParameters: { api_key_id },
          body: { name: 'late' },
        }),
        invoke('deleteApiKey', { caller: owner, pathParameters: { api_key_id } }),
      ]),
    );

    // Assert
    for (const r of results) expect([200, 204, 404, 409]).toContain(r.status);
    const deleted = results.filter((r) => r.status === 204);
    expect(deleted).toHaveLength(ids.length);
    for (const id of ids) expect(await defaultDeps().repo.getKey(id)).toBeUndefined();
    expect((await defaultDeps().repo.getAccount(owner.accountId))?.keyCount).toBe(0);
    // Counter against the listing, and one deletion event per key, whoever won.
    const { events } = await expectConsistentAccount(owner.accountId);
    for (const id of ids) {
      expect(
        events.filter((e) => e.action === 'api_key.deleted' && e.targetKeyId === id),
      ).toHaveLength(1);
    }
  });
});

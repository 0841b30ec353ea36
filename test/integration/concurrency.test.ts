import { describe, expect, it } from 'vitest';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { invoke, newAccount } from '../helpers/harness.js';

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
  });

  it('two concurrent PUTs on one key: one wins, the other gets 409, nothing is lost silently', async () => {
    // Arrange
    const { owner } = await newAccount();
    const created = await invoke('createApiKey', {
      caller: owner,
      body: { name: 'k', scopes: ['mail.send'] },
    });
    const { api_key_id } = created.body as { api_key_id: string };

    // Act
    const puts = await Promise.all(
      ['alerts.read', 'categories.read'].map((scope) =>
        invoke('replaceApiKey', {
          caller: owner,
          pathParameters: { api_key_id },
          body: { name: scope, scopes: [scope] },
        }),
      ),
    );

    // Assert: every PUT either won (200) or was told it lost (409); the stored key is exactly
    // what the last winner was told.
    const winners = puts.filter((r) => r.status === 200);
    const losers = puts.filter((r) => r.status === 409);
    expect(winners.length + losers.length).toBe(2);
    const stored = await defaultDeps().repo.getKey(api_key_id);
    const last = winners.find((w) => (w.body as { name: string }).name === stored?.name);
    expect((last?.body as { scopes: string[] } | undefined)?.scopes).toEqual(stored?.scopes);
    expect(stored?.version).toBe(1 + winners.length);
  });

  it('an update racing a delete never resurrects the key, and the counter stays exact', async () => {
    // Arrange
    const { owner } = await newAccount();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await invoke('createApiKey', {
        caller: owner,
        body: { name: `k${i}`, scopes: ['mail.send'] },
      });
      ids.push((res.body as { api_key_id: string }).api_key_id);
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
  });
});

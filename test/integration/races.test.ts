import { describe, expect, it } from 'vitest';
import { verifyApiKey } from '../../shared/domain/verify-key.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { CreatedApiKey, RolledApiKey } from '../../shared/schemas/api-keys.js';
import { type InvokeResult, invoke, newAccount, type TestAccount } from '../helpers/harness.js';
import { expectConsistentAccount, removesKey } from '../helpers/invariants.js';
import { bodyAs } from '../helpers/typed-body.js';

/**
 * Races between writers of one key, through the real handlers on DynamoDB Local. After every
 * race the account's invariants hold (`expectConsistentAccount`: the counter equals the keys
 * listed, every change has exactly one audit event and every event its change).
 */

async function createKeys(account: TestAccount, count: number) {
  const keys: { api_key: string; api_key_id: string }[] = [];
  for (let i = 0; i < count; i++) {
    const res = await invoke(
      'createApiKey',
      { caller: account.owner, body: { name: `k${i}`, scopes: ['mail.send', 'alerts.read'] } },
      CreatedApiKey,
    );
    expect(res.status).toBe(201);
    keys.push(res.body);
  }
  return keys;
}

const statuses = (results: readonly InvokeResult[]) => results.map((r) => r.status);

describe('races on one key', () => {
  it('delete racing two rolls: the key ends deleted (rolled or not), never present after a 204', async () => {
    // Arrange
    const account = await newAccount();
    const keys = await createKeys(account, 8);

    // Act: per key, a roll, a delete and another roll, all at once.
    const results = await Promise.all(
      keys.map(async ({ api_key_id }) => {
        const [rollA, del, rollB] = await Promise.all([
          invoke('rollApiKey', {
            caller: account.owner,
            pathParameters: { api_key_id },
            body: { grace_seconds: 3600 },
          }),
          invoke('deleteApiKey', { caller: account.owner, pathParameters: { api_key_id } }),
          invoke('rollApiKey', {
            caller: account.owner,
            pathParameters: { api_key_id },
            body: { grace_seconds: 3600 },
          }),
        ]);
        return { api_key_id, rolls: [rollA, rollB], del };
      }),
    );

    // Assert
    const { events } = await expectConsistentAccount(account.accountId);
    for (const { api_key_id, rolls, del } of results) {
      // The delete re-reads after each roll that beat it, so it always wins in the end.
      expect(del.status).toBe(204);
      for (const roll of rolls) expect([200, 404, 409]).toContain(roll.status);
      expect(await defaultDeps().repo.getKey(api_key_id)).toBeUndefined();
      const own = events.filter((e) => e.targetKeyId === api_key_id);
      expect(own.filter(removesKey)).toHaveLength(1);
      // Exactly the rolls that answered 200 were applied, each recorded once.
      const rolled = rolls.filter((r) => r.status === 200);
      expect(own.filter((e) => e.action === 'api_key.rolled')).toHaveLength(rolled.length);
      // No key a roll handed out, nor the original, works after the delete.
      for (const roll of rolled) {
        const { api_key } = bodyAs(RolledApiKey, roll.body, 'roll → 200');
        expect(await verifyApiKey(defaultDeps(), api_key)).toEqual({
          ok: false,
          reason: 'unknown',
        });
      }
    }
    for (const { api_key } of keys) {
      expect(await verifyApiKey(defaultDeps(), api_key)).toEqual({ ok: false, reason: 'unknown' });
    }
    expect((await defaultDeps().repo.getAccount(account.accountId))?.keyCount).toBe(0);
  });

  it('20 concurrent deletes of one key: exactly one 204, the rest 404, one event, one decrement', async () => {
    // Arrange
    const account = await newAccount();
    const [target, bystander] = await createKeys(account, 2);
    if (!target || !bystander) throw new Error('keys not created');

    // Act
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        invoke('deleteApiKey', {
          caller: account.owner,
          pathParameters: { api_key_id: target.api_key_id },
        }),
      ),
    );

    // Assert
    const codes = statuses(results);
    expect(codes.filter((s) => s === 204)).toHaveLength(1);
    expect(codes.filter((s) => s === 404)).toHaveLength(19);
    const { keys, events, account: stored } = await expectConsistentAccount(account.accountId);
    expect(stored?.keyCount).toBe(1);
    expect(keys.map((k) => k.keyId)).not.toContain(target.api_key_id);
    expect(keys.map((k) => k.keyId)).toContain(bystander.api_key_id);
    expect(events.filter((e) => e.targetKeyId === target.api_key_id && removesKey(e))).toHaveLength(
      1,
    );
  });

  it('delete racing PUTs that change scopes: no resurrection, no counter drift', async () => {
    // Arrange
    const account = await newAccount();
    const keys = await createKeys(account, 8);

    // Act: per key, a PUT, a delete and another PUT, all at once.
    const results = await Promise.all(
      keys.map(async ({ api_key_id }) => {
        const put = (name: string, scopes: string[]) =>
          invoke('replaceApiKey', {
            caller: account.owner,
            pathParameters: { api_key_id },
            body: { name, scopes },
          });
        const [putA, del, putB] = await Promise.all([
          put('a', ['alerts.read']),
          invoke('deleteApiKey', { caller: account.owner, pathParameters: { api_key_id } }),
          put('b', ['mail.send', 'stats.read']),
        ]);
        return { api_key_id, puts: [putA, putB], del };
      }),
    );

    // Assert
    const { events } = await expectConsistentAccount(account.accountId);
    for (const { api_key_id, puts, del } of results) {
      expect(del.status).toBe(204);
      for (const put of puts) expect([200, 404, 409]).toContain(put.status);
      expect(await defaultDeps().repo.getKey(api_key_id)).toBeUndefined();
      const own = events.filter((e) => e.targetKeyId === api_key_id);
      expect(own.filter(removesKey)).toHaveLength(1);
      expect(own.filter((e) => e.action === 'api_key.updated')).toHaveLength(
        puts.filter((p) => p.status === 200).length,
      );
    }
    expect((await defaultDeps().repo.getAccount(account.accountId))?.keyCount).toBe(0);
  });

  it('a leaked-key report racing deletes of the same key: one removal, counted once', async () => {
    // Arrange
    const account = await newAccount();
    const keys = await createKeys(account, 6);

    // Act: per key, a delete, a public leak report and another delete, all at once.
    const results = await Promise.all(
      keys.map(async ({ api_key, api_key_id }) => {
        const del = () =>
          invoke('deleteApiKey', { caller: account.owner, pathParameters: { api_key_id } });
        const [first, report, second] = await Promise.all([
          del(),
          invoke('revokeLeakedApiKeys', { body: { keys: [api_key] } }),
          del(),
        ]);
        return { api_key, api_key_id, deletes: [first, second], report };
      }),
    );

    // Assert
    const { events } = await expectConsistentAccount(account.accountId);
    for (const { api_key, api_key_id, deletes, report } of results) {
      expect(report.status).toBe(202);
      expect(deletes.filter((d) => d.status === 204).length).toBeLessThanOrEqual(1);
      for (const d of deletes) expect([204, 404]).toContain(d.status);
      expect(events.filter((e) => e.targetKeyId === api_key_id && removesKey(e))).toHaveLength(1);
      expect(await verifyApiKey(defaultDeps(), api_key)).toEqual({ ok: false, reason: 'unknown' });
    }
    expect((await defaultDeps().repo.getAccount(account.accountId))?.keyCount).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { ApiKeyList, ApiKeySummary, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { errorsOf, invoke, newAccount } from '../helpers/harness.js';

async function createKeys(
  caller: Awaited<ReturnType<typeof newAccount>>['owner'],
  names: string[],
) {
  const ids: string[] = [];
  for (const name of names) {
    const res = await invoke(
      'createApiKey',
      { caller, body: { name, scopes: ['mail.send'] } },
      CreatedApiKey,
    );
    ids.push(res.body.api_key_id);
  }
  return ids;
}

describe('GET /v3/api_keys', () => {
  it("lists the account's keys oldest first, names and IDs only", async () => {
    // Arrange
    const { owner } = await newAccount();
    const ids = await createKeys(owner, ['first', 'second']);

    // Act
    const res = await invoke('listApiKeys', { caller: owner }, ApiKeyList);

    // Assert
    expect(res.status).toBe(200);
    const result = res.body.result;
    expect(result.map((k) => k.api_key_id)).toEqual([owner.keyId, ...ids]);
    expect(result.map((k) => k.name)).toEqual(['Owner key', 'first', 'second']);
    for (const key of result) {
      expect(Object.keys(key).sort()).toEqual(Object.keys(ApiKeySummary.shape).sort());
    }
  });

  it('honours limit', async () => {
    const { owner } = await newAccount();
    await createKeys(owner, ['a', 'b', 'c']);

    const res = await invoke('listApiKeys', { caller: owner, query: { limit: '2' } }, ApiKeyList);

    expect(res.status).toBe(200);
    expect(res.body.result).toHaveLength(2);
  });

  it.each(['0', '-1', '1.5', 'abc', '1001', '', '99999'])(
    'rejects limit=%j with 400',
    async (limit) => {
      const { owner } = await newAccount();

      const res = await invoke('listApiKeys', { caller: owner, query: { limit } });

      expect(res.status).toBe(400);
      expect(errorsOf(res)).toEqual([
        { field: 'limit', message: 'limit must be an integer from 1 to 1000' },
      ]);
    },
  );

  it("never shows another account's keys", async () => {
    // Arrange
    const mine = await newAccount();
    const theirs = await newAccount();
    await createKeys(theirs.owner, ['theirs']);

    // Act
    const res = await invoke('listApiKeys', { caller: mine.owner }, ApiKeyList);

    // Assert
    const names = res.body.result.map((k) => k.name);
    expect(names).toEqual(['Owner key']);
  });
});

describe('GET /v3/api_keys/{api_key_id}', () => {
  it('returns one key object with its scopes', async () => {
    const { owner } = await newAccount();
    const [id] = await createKeys(owner, ['reader']);

    const res = await invoke('getApiKey', {
      caller: owner,
      pathParameters: { api_key_id: id ?? '' },
    });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ api_key_id: id, name: 'reader', scopes: ['mail.send'] });
    expect(res.body).not.toHaveProperty('api_key');
    expect(res.body).not.toHaveProperty('result');
  });

  it.each([
    ['unknown', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ['malformed', 'not-an-id'],
    ['too long', 'A'.repeat(500)],
  ])('answers 404 for an %s ID', async (_case, id) => {
    const { owner } = await newAccount();

    const res = await invoke('getApiKey', { caller: owner, pathParameters: { api_key_id: id } });

    expect(res.status).toBe(404);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'unable to find API Key' }]);
  });

  it("answers 404 for another account's key, the same as for an unknown one", async () => {
    const mine = await newAccount();
    const theirs = await newAccount();
    const [id] = await createKeys(theirs.owner, ['theirs']);

    const res = await invoke('getApiKey', {
      caller: mine.owner,
      pathParameters: { api_key_id: id ?? '' },
    });

    expect(res.status).toBe(404);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'unable to find API Key' }]);
  });
});

describe('GET /v3/scopes', () => {
  it("returns the calling key's own scopes", async () => {
    // Arrange
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'narrow', scopes: ['mail.send', 'alerts.read'] } },
      CreatedApiKey,
    );
    const { callerFor } = await import('../helpers/harness.js');
    const caller = await callerFor(created.body.api_key);

    // Act
    const res = await invoke('listScopes', { caller });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ scopes: ['alerts.read', 'mail.send'] });
  });
});

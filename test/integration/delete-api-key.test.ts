import { describe, expect, it } from 'vitest';
import { verifyApiKey } from '../../shared/domain/verify-key.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { ApiKeyList, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { callerFor, errorsOf, invoke, newAccount } from '../helpers/harness.js';

describe('DELETE /v3/api_keys/{api_key_id}', () => {
  it('revokes the key at once: 204, gone from get and list, refused on verification', async () => {
    // Arrange
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'doomed', scopes: ['mail.send'] } },
      CreatedApiKey,
    );
    const { api_key, api_key_id } = created.body;

    // Act
    const res = await invoke('deleteApiKey', { caller: owner, pathParameters: { api_key_id } });

    // Assert
    expect(res.status).toBe(204);
    expect(res.raw.body).toBe('');
    const get = await invoke('getApiKey', { caller: owner, pathParameters: { api_key_id } });
    expect(get.status).toBe(404);
    const list = await invoke('listApiKeys', { caller: owner }, ApiKeyList);
    expect(list.body.result).toHaveLength(1);
    expect(await verifyApiKey(defaultDeps(), api_key)).toEqual({ ok: false, reason: 'unknown' });
    expect((await defaultDeps().repo.getAccount(owner.accountId))?.keyCount).toBe(0);
  });

  it('answers 404 "for deletion" the second time', async () => {
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'x' } },
      CreatedApiKey,
    );
    const { api_key_id } = created.body;
    await invoke('deleteApiKey', { caller: owner, pathParameters: { api_key_id } });

    const again = await invoke('deleteApiKey', { caller: owner, pathParameters: { api_key_id } });

    expect(again.status).toBe(404);
    expect(errorsOf(again)).toEqual([
      { field: null, message: 'unable to find API Key for deletion' },
    ]);
  });

  it("cannot delete another account's key (404) and leaves it working", async () => {
    // Arrange
    const mine = await newAccount();
    const theirs = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: theirs.owner, body: { name: 'theirs' } },
      CreatedApiKey,
    );
    const { api_key, api_key_id } = created.body;

    // Act
    const res = await invoke('deleteApiKey', {
      caller: mine.owner,
      pathParameters: { api_key_id },
    });

    // Assert
    expect(res.status).toBe(404);
    expect((await verifyApiKey(defaultDeps(), api_key)).ok).toBe(true);
  });

  it('cannot delete the owner key, nor a key stronger than the caller', async () => {
    // Arrange
    const { owner } = await newAccount();
    const admin = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'admin', scopes: ['api_keys.delete'] } },
      CreatedApiKey,
    );
    const caller = await callerFor(admin.body.api_key);
    const stronger = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'stronger', scopes: ['api_keys.delete', 'mail.send'] } },
      CreatedApiKey,
    );

    // Act
    const ownerBySelf = await invoke('deleteApiKey', {
      caller: owner,
      pathParameters: { api_key_id: owner.keyId },
    });
    const ownerByAdmin = await invoke('deleteApiKey', {
      caller,
      pathParameters: { api_key_id: owner.keyId },
    });
    const strongerByAdmin = await invoke('deleteApiKey', {
      caller,
      pathParameters: { api_key_id: stronger.body.api_key_id },
    });

    // Assert
    expect(ownerBySelf.status).toBe(403);
    expect(errorsOf(ownerBySelf)).toEqual([
      { field: null, message: 'the owner key cannot be deleted' },
    ]);
    expect(ownerByAdmin.status).toBe(403);
    expect(strongerByAdmin.status).toBe(403);
    expect(await defaultDeps().repo.getKey(owner.keyId)).toBeDefined();
  });

  it('lets a key delete itself', async () => {
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'self', scopes: ['api_keys.delete'] } },
      CreatedApiKey,
    );
    const { api_key, api_key_id } = created.body;

    const res = await invoke('deleteApiKey', {
      caller: await callerFor(api_key),
      pathParameters: { api_key_id },
    });

    expect(res.status).toBe(204);
  });
});

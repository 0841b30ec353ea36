import { describe, expect, it } from 'vitest';
import type { Caller } from '../../shared/domain/api-keys.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { callerFor, errorsOf, invoke, newAccount } from '../helpers/harness.js';

async function createKey(caller: Caller, name: string, scopes: string[]) {
  const res = await invoke('createApiKey', { caller, body: { name, scopes } }, CreatedApiKey);
  expect(res.status).toBe(201);
  return res.body;
}

describe('PATCH /v3/api_keys/{api_key_id}', () => {
  it('renames a key and keeps its scopes', async () => {
    // Arrange
    const { owner } = await newAccount();
    const key = await createKey(owner, 'old', ['mail.send']);

    // Act
    const res = await invoke('renameApiKey', {
      caller: owner,
      pathParameters: { api_key_id: key.api_key_id },
      body: { name: 'A New Hope' },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ api_key_id: key.api_key_id, name: 'A New Hope' });
    const stored = await defaultDeps().repo.getKey(key.api_key_id);
    expect(stored).toMatchObject({ name: 'A New Hope', scopes: ['mail.send'], version: 2 });
  });

  it('requires a name', async () => {
    const { owner } = await newAccount();
    const key = await createKey(owner, 'old', ['mail.send']);

    const res = await invoke('renameApiKey', {
      caller: owner,
      pathParameters: { api_key_id: key.api_key_id },
      body: {},
    });

    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual([{ field: 'name', message: 'missing required argument' }]);
  });

  it('answers 404 "to update" for an unknown key', async () => {
    const { owner } = await newAccount();

    const res = await invoke('renameApiKey', {
      caller: owner,
      pathParameters: { api_key_id: 'AAAAAAAAAAAAAAAAAAAAAA' },
      body: { name: 'x' },
    });

    expect(res.status).toBe(404);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'unable to find API Key to update' }]);
  });
});

describe('PUT /v3/api_keys/{api_key_id}', () => {
  it('replaces the scopes (not merges) and the name', async () => {
    // Arrange
    const { owner } = await newAccount();
    const key = await createKey(owner, 'k', ['mail.send', 'alerts.read']);

    // Act
    const res = await invoke('replaceApiKey', {
      caller: owner,
      pathParameters: { api_key_id: key.api_key_id },
      body: { name: 'renamed', scopes: ['categories.read'] },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      api_key_id: key.api_key_id,
      name: 'renamed',
      scopes: ['categories.read'],
    });
    expect((await callerFor(key.api_key)).scopes).toEqual(['categories.read']);
  });

  it("needs a name, in SendGrid's words", async () => {
    const { owner } = await newAccount();
    const key = await createKey(owner, 'k', ['mail.send']);

    const res = await invoke('replaceApiKey', {
      caller: owner,
      pathParameters: { api_key_id: key.api_key_id },
      body: { scopes: ['mail.send'] },
    });

    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual([
      { field: null, message: "expected JSON request body with 'name' property" },
    ]);
  });

  it('needs scopes', async () => {
    const { owner } = await newAccount();
    const key = await createKey(owner, 'k', ['mail.send']);

    const res = await invoke('replaceApiKey', {
      caller: owner,
      pathParameters: { api_key_id: key.api_key_id },
      body: { name: 'k' },
    });

    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual([{ field: 'scopes', message: 'missing required argument' }]);
  });

  it('cannot grant more than the caller holds, and changes nothing', async () => {
    // Arrange
    const { owner } = await newAccount();
    const admin = await createKey(owner, 'admin', ['api_keys.update', 'mail.send']);
    const target = await createKey(owner, 'target', ['mail.send']);
    const caller = await callerFor(admin.api_key);

    // Act
    const res = await invoke('replaceApiKey', {
      caller,
      pathParameters: { api_key_id: target.api_key_id },
      body: { name: 'target', scopes: ['mail.send', 'api_keys.delete'] },
    });

    // Assert
    expect(res.status).toBe(403);
    expect(errorsOf(res)[0]?.message).toContain('"api_keys.delete"');
    expect((await defaultDeps().repo.getKey(target.api_key_id))?.scopes).toEqual(['mail.send']);
  });

  it('cannot change a key that holds scopes the caller lacks (no demoting the owner)', async () => {
    // Arrange
    const { owner } = await newAccount();
    const admin = await createKey(owner, 'admin', ['api_keys.update', 'mail.send']);
    const stronger = await createKey(owner, 'stronger', ['alerts.read', 'mail.send']);
    const caller = await callerFor(admin.api_key);

    // Act
    const demoteStronger = await invoke('replaceApiKey', {
      caller,
      pathParameters: { api_key_id: stronger.api_key_id },
      body: { name: 'x', scopes: ['mail.send'] },
    });
    const renameOwner = await invoke('renameApiKey', {
      caller,
      pathParameters: { api_key_id: owner.keyId },
      body: { name: 'pwned' },
    });

    // Assert
    expect(demoteStronger.status).toBe(403);
    expect(renameOwner.status).toBe(403);
    expect((await defaultDeps().repo.getKey(owner.keyId))?.name).toBe('Owner key');
  });

  it("keeps the owner key's scopes fixed but lets it be renamed", async () => {
    const { owner } = await newAccount();

    const demote = await invoke('replaceApiKey', {
      caller: owner,
      pathParameters: { api_key_id: owner.keyId },
      body: { name: 'Owner key', scopes: ['mail.send'] },
    });
    const rename = await invoke('renameApiKey', {
      caller: owner,
      pathParameters: { api_key_id: owner.keyId },
      body: { name: 'Root' },
    });

    expect(demote.status).toBe(403);
    expect(rename.status).toBe(200);
  });

  it('turns a general key into a billing key when given only billing scopes', async () => {
    const { owner } = await newAccount();
    const key = await createKey(owner, 'k', ['mail.send']);

    const res = await invoke('replaceApiKey', {
      caller: owner,
      pathParameters: { api_key_id: key.api_key_id },
      body: { name: 'k', scopes: ['billing.read'] },
    });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'billing', scopes: ['billing.read'] });
  });
});

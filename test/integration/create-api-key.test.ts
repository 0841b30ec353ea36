import { describe, expect, it } from 'vitest';
import { hashApiKey, KEY_ID_PATTERN } from '../../shared/domain/key-format.js';
import { ALL_SCOPES, isBillingScope } from '../../shared/domain/scopes.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { ApiKeyList, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { callerFor, errorsOf, invoke, newAccount } from '../helpers/harness.js';

const SENDGRID_SHAPE = /^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

describe('POST /v3/api_keys', () => {
  it('creates a key, shows it once and stores only its hash', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'Mail sender', scopes: ['mail.send', 'alerts.read'] } },
      CreatedApiKey,
    );

    // Assert
    expect(res.status).toBe(201);
    const body = res.body;
    expect(body).toMatchObject({
      name: 'Mail sender',
      scopes: ['alerts.read', 'mail.send'],
      type: 'general',
    });
    expect(body.api_key).toMatch(SENDGRID_SHAPE);
    expect(String(body.api_key).length).toBe(69);
    expect(body.api_key_id).toMatch(KEY_ID_PATTERN);
    expect(String(body.api_key).split('.')[1]).toBe(body.api_key_id);
    expect(res.headers['cache-control']).toBe('no-store');
    const stored = await defaultDeps().repo.getKey(String(body.api_key_id));
    expect(stored?.keyHash).toBe(hashApiKey(String(body.api_key)));
    const secret = String(body.api_key).split('.')[2] ?? '';
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  it('gives the new key exactly the scopes granted', async () => {
    // Arrange
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'reader', scopes: ['api_keys.read'] } },
      CreatedApiKey,
    );

    // Act
    const caller = await callerFor(String(created.body.api_key));

    // Assert
    expect(caller.scopes).toEqual(['api_keys.read']);
    expect(caller.accountId).toBe(owner.accountId);
  });

  it('defaults to Full Access: every scope of the caller except billing', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'full' } },
      CreatedApiKey,
    );

    // Assert
    expect(res.status).toBe(201);
    const scopes = res.body.scopes;
    expect(scopes).toEqual(ALL_SCOPES.filter((s) => !isBillingScope(s)));
  });

  it('creates billing keys that hold only billing scopes', async () => {
    const { owner } = await newAccount();

    const res = await invoke('createApiKey', {
      caller: owner,
      body: { name: 'billing', scopes: ['billing.read', 'billing.update'] },
    });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'billing', scopes: ['billing.read', 'billing.update'] });
  });

  it.each([
    [{}, 'name', 'missing required argument'],
    [{ name: 42 }, 'name', 'name must be a string'],
    [{ name: '   ' }, 'name', 'name must not be empty'],
    [{ name: 'x'.repeat(101) }, 'name', 'name must be at most 100 characters'],
    [{ name: 'a\u0000b' }, 'name', 'name must not contain control characters'],
    [
      { name: `prod ${'SG.'}${'a'.repeat(22)}.${'b'.repeat(43)}` },
      'name',
      'name must not contain an API key',
    ],
    [{ name: 'k', scopes: 'mail.send' }, 'scopes', 'scopes must be an array of strings'],
    [{ name: 'k', scopes: [1] }, 'scopes', 'scopes must be an array of strings'],
    [{ name: 'k', scopes: [] }, 'scopes', 'scopes must contain at least one scope'],
    [
      { name: 'k', scopes: ['mail.send', 'no.such'] },
      'scopes',
      'one or more of given scopes are invalid: "no.such"',
    ],
    [
      { name: 'k', scopes: ['billing.read', 'mail.send'] },
      'scopes',
      'An API Key can either have billing permissions or any other set of permissions but not both.',
    ],
  ])('rejects %j with 400 on %s and writes nothing', async (body, field, message) => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke('createApiKey', { caller: owner, body });

    // Assert
    expect(res.status).toBe(400);
    expect(errorsOf(res)).toContainEqual({ field, message });
    const list = await invoke('listApiKeys', { caller: owner }, ApiKeyList);
    expect(list.body.result).toHaveLength(1);
  });

  it('refuses to grant scopes the caller does not hold, naming them', async () => {
    // Arrange
    const { owner } = await newAccount();
    const restricted = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'admin-lite', scopes: ['api_keys.create', 'mail.send'] } },
      CreatedApiKey,
    );
    const caller = await callerFor(restricted.body.api_key);

    // Act
    const res = await invoke('createApiKey', {
      caller,
      body: { name: 'escalate', scopes: ['mail.send', 'alerts.read', 'billing.read'] },
    });
    const full = await invoke(
      'createApiKey',
      { caller, body: { name: 'full-of-caller' } },
      CreatedApiKey,
    );

    // Assert
    expect(res.status).toBe(400); // billing mixed with others is checked first
    const escalate = await invoke('createApiKey', {
      caller,
      body: { name: 'escalate', scopes: ['mail.send', 'alerts.read'] },
    });
    expect(escalate.status).toBe(403);
    expect(errorsOf(escalate)).toEqual([
      {
        field: 'scopes',
        message: 'cannot grant scopes the calling key does not have: "alerts.read"',
      },
    ]);
    expect(full.status).toBe(201);
    expect(full.body.scopes).toEqual(['api_keys.create', 'mail.send']);
  });

  it('enforces the per-account limit; the owner key does not count', async () => {
    // Arrange
    const { owner } = await newAccount({ keyLimit: 2 });
    for (const name of ['one', 'two']) {
      expect((await invoke('createApiKey', { caller: owner, body: { name } })).status).toBe(201);
    }

    // Act
    const res = await invoke('createApiKey', { caller: owner, body: { name: 'three' } });

    // Assert
    expect(res.status).toBe(403);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'Cannot create more than 2 API Keys' }]);
    const account = await defaultDeps().repo.getAccount(owner.accountId);
    expect(account?.keyCount).toBe(2);
  });

  it('ignores fields the server owns (mass assignment)', async () => {
    // Arrange
    const { owner } = await newAccount();
    const other = await newAccount();

    // Act
    const res = await invoke(
      'createApiKey',
      {
        caller: owner,
        body: {
          name: 'sneaky',
          scopes: ['mail.send'],
          account_id: other.accountId,
          accountId: other.accountId,
          type: 'owner',
          keyHash: 'x',
          api_key_id: 'AAAAAAAAAAAAAAAAAAAAAA',
          __proto__: { admin: true },
        },
      },
      CreatedApiKey,
    );

    // Assert
    expect(res.status).toBe(201);
    const stored = await defaultDeps().repo.getKey(res.body.api_key_id);
    expect(stored).toMatchObject({
      accountId: owner.accountId,
      type: 'general',
      scopes: ['mail.send'],
    });
    expect(stored?.keyId).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
  });
});

import { describe, expect, it, vi } from 'vitest';
import { MemoryKeyRepository } from '../../shared/adapters/memory/keys-repository.js';
import {
  ACCOUNT_NAME_PATTERN,
  bootstrapAccount,
  OWNER_KEY_NAME,
} from '../../shared/domain/accounts.js';
import {
  type Caller,
  callerScopes,
  deleteApiKey,
  LIMITS_OFF_MESSAGE,
} from '../../shared/domain/api-keys.js';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
} from '../../shared/domain/errors.js';
import { hashApiKey, parseApiKey } from '../../shared/domain/key-format.js';
import type { Deps, KeyRecord } from '../../shared/domain/ports.js';
import { ALL_SCOPES } from '../../shared/domain/scopes.js';
import { verifyApiKey } from '../../shared/domain/verify-key.js';
import { ApiKeySummary } from '../../shared/schemas/api-keys.js';
import { createApiKey, getApiKey, listApiKeys, renameApiKey, replaceApiKey } from './as-api.js';
import {
  BASE64URL_ALPHABET,
  buildKey,
  failure,
  makeDeps,
  START,
  testEvent,
  unwrap,
} from './support.js';

/**
 * A repository whose next writes first let "another request" change the stored key, so the
 * service's read-check-write sees a stale version.
 */
class RacingRepository extends MemoryKeyRepository {
  private readonly races: Array<(current: KeyRecord) => Promise<void>> = [];
  writes = 0;

  /** Runs `race` before each of the next `times` writes. */
  beforeNextWrites(race: (current: KeyRecord) => Promise<void>, times = 1): void {
    for (let i = 0; i < times; i += 1) this.races.push(race);
  }

  private async runRace(current: KeyRecord): Promise<void> {
    this.writes += 1;
    const race = this.races.shift();
    if (race) await race(current);
  }

  override async updateKey(...args: Parameters<MemoryKeyRepository['updateKey']>) {
    await this.runRace(args[0]);
    return super.updateKey(...args);
  }

  override async deleteKey(...args: Parameters<MemoryKeyRepository['deleteKey']>) {
    await this.runRace(args[0]);
    return super.deleteKey(...args);
  }

  /** A write by another request: bypasses the races. */
  async concurrentUpdate(current: KeyRecord, scopes: readonly string[], name = 'other request') {
    return super.updateKey(
      current,
      {
        name,
        scopes,
        type: 'general',
        updatedAt: new Date(START).toISOString(),
      },
      testEvent(),
    );
  }
}

async function setup(options: { keyLimit?: number; repo?: MemoryKeyRepository } = {}) {
  const { deps, repo } = makeDeps(options.repo);
  const account = unwrap(
    await bootstrapAccount(deps, {
      name: 'acme',
      ...(options.keyLimit === undefined ? {} : { keyLimit: options.keyLimit }),
    }),
  );
  const owner: Caller = {
    accountId: account.accountId,
    keyId: account.keyId,
    type: 'owner',
    scopes: ALL_SCOPES,
  };
  return { deps, repo, account, owner };
}

const RESTRICTED_SCOPES = [
  'api_keys.create',
  'api_keys.delete',
  'api_keys.read',
  'api_keys.update',
  'mail.send',
];

async function restrictedCaller(deps: Deps, owner: Caller): Promise<Caller> {
  const created = unwrap(
    await createApiKey(deps, owner, { name: 'restricted', scopes: RESTRICTED_SCOPES }),
  );
  return {
    accountId: owner.accountId,
    keyId: created.api_key_id,
    type: created.type,
    scopes: created.scopes,
  };
}

/** Takes a real key, changes one character of its random part and recomputes the checksum. */
function forgeWithValidChecksum(apiKey: string, prefix: string): string {
  const parsed = parseApiKey(apiKey, prefix);
  if (!parsed.ok) throw new Error('expected a valid key');
  const random = parsed.key.secret.slice(0, 37);
  const position = 10;
  const current = BASE64URL_ALPHABET.indexOf(random.charAt(position));
  const replacement = BASE64URL_ALPHABET.charAt((current + 1) % BASE64URL_ALPHABET.length);
  const forgedRandom = random.slice(0, position) + replacement + random.slice(position + 1);
  return buildKey(prefix, parsed.key.keyId, forgedRandom);
}

describe('createApiKey', () => {
  it('returns the key once, with its ID, name, scopes and type', async () => {
    // Arrange
    const { deps, owner } = await setup();

    // Act
    const created = unwrap(
      await createApiKey(deps, owner, { name: 'mailer', scopes: ['mail.send', 'alerts.read'] }),
    );

    // Assert
    expect(created.api_key).toMatch(/^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(created.api_key.split('.')[1]).toBe(created.api_key_id);
    expect(created).toMatchObject({
      name: 'mailer',
      scopes: ['alerts.read', 'mail.send'],
      type: 'general',
    });
    expect(created.created_at).toBe(created.updated_at);
    expect(Number.isNaN(Date.parse(created.created_at))).toBe(false);
  });

  it('stores only the hash of the key, never the key or its secret', async () => {
    // Arrange
    const { deps, repo, owner } = await setup();

    // Act
    const created = unwrap(await createApiKey(deps, owner, { name: 'mailer' }));
    const stored = await repo.getKey(created.api_key_id);

    // Assert
    const secret = created.api_key.slice(-43);
    const random = secret.slice(0, 37);
    expect(stored?.keyHash).toBe(hashApiKey(created.api_key));
    for (const [field, value] of Object.entries(stored ?? {})) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      expect(text, field).not.toBe(created.api_key);
      expect(text, field).not.toContain(secret);
      expect(text, field).not.toContain(random);
    }
    expect(JSON.stringify(stored)).not.toContain(random);
  });

  it('does not reveal the key through later reads', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'mailer' }));

    // Act
    const read = unwrap(await getApiKey(deps, owner, created.api_key_id));
    const listed = unwrap(await listApiKeys(deps, owner, {}));

    // Assert
    expect(JSON.stringify(read)).not.toContain(created.api_key.slice(-43));
    expect(JSON.stringify(listed)).not.toContain(created.api_key.slice(-43));
    expect(read).not.toHaveProperty('api_key');
  });

  it('grants Full Access without billing when scopes are omitted', async () => {
    // Arrange
    const { deps, owner } = await setup();

    // Act
    const created = unwrap(await createApiKey(deps, owner, { name: 'full' }));

    // Assert
    expect(created.scopes).toEqual(ALL_SCOPES.filter((s) => !s.startsWith('billing')));
    expect(created.type).toBe('general');
  });

  it('creates a billing key from billing scopes only', async () => {
    // Arrange
    const { deps, owner } = await setup();

    // Act
    const created = unwrap(
      await createApiKey(deps, owner, { name: 'billing', scopes: ['billing.read'] }),
    );

    // Assert
    expect(created.type).toBe('billing');
    expect(created.scopes).toEqual(['billing.read']);
  });

  it('enforces the key limit without counting the owner key', async () => {
    // Arrange
    const { deps, owner } = await setup({ keyLimit: 2 });

    // Act
    const first = await createApiKey(deps, owner, { name: 'one', scopes: ['mail.send'] });
    const second = await createApiKey(deps, owner, { name: 'two', scopes: ['mail.send'] });
    const third = await createApiKey(deps, owner, { name: 'three', scopes: ['mail.send'] });

    // Assert
    expect(first.ok).toBe(true);
    expect(second.ok).toBe(true);
    const error = failure(third);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe('Cannot create more than 2 API Keys');
  });

  it('refuses any key when the limit is 0', async () => {
    // Arrange
    const { deps, owner } = await setup({ keyLimit: 0 });

    // Act
    const error = failure(await createApiKey(deps, owner, { name: 'one' }));

    // Assert
    expect(error.message).toBe('Cannot create more than 0 API Keys');
  });

  it('frees a place under the limit when a key is deleted', async () => {
    // Arrange
    const { deps, owner } = await setup({ keyLimit: 2 });
    const first = unwrap(await createApiKey(deps, owner, { name: 'one', scopes: ['mail.send'] }));
    unwrap(await createApiKey(deps, owner, { name: 'two', scopes: ['mail.send'] }));
    expect(failure(await createApiKey(deps, owner, { name: 'three' })).code).toBe('forbidden');
    unwrap(await deleteApiKey(deps, owner, first.api_key_id));

    // Act
    const replacement = await createApiKey(deps, owner, { name: 'three', scopes: ['mail.send'] });

    // Assert
    expect(replacement.ok).toBe(true);
    expect(failure(await createApiKey(deps, owner, { name: 'four' })).code).toBe('forbidden');
  });

  it('uses the default key limit when the account does not set one', async () => {
    // Arrange
    const { account, repo } = await setup();

    // Act
    const stored = await repo.getAccount(account.accountId);

    // Assert
    expect(stored).toMatchObject({ keyLimit: 100, keyCount: 0, ownerKeyId: account.keyId });
  });

  it('does not store anything when the grant is refused', async () => {
    // Arrange
    const { deps, owner } = await setup();

    // Act
    const error = failure(
      await createApiKey(deps, owner, { name: 'bad', scopes: ['mail.send', 'billing.read'] }),
    );

    // Assert
    expect(error.code).toBe('bad_request');
    expect(unwrap(await listApiKeys(deps, owner, {})).result).toHaveLength(1);
  });

  it('answers 503 when the caller account no longer exists', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const ghost: Caller = { ...owner, accountId: 'AAAAAAAAAAAAAAAAAAAAAA' };

    // Act
    const error = failure(await createApiKey(deps, ghost, { name: 'x', scopes: ['mail.send'] }));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.code).toBe('unavailable');
  });
});

describe('listApiKeys', () => {
  it('lists names and IDs oldest first, owner key included, without secrets', async () => {
    // Arrange
    const { deps, owner, account } = await setup();
    const a = unwrap(await createApiKey(deps, owner, { name: 'a', scopes: ['mail.send'] }));
    const b = unwrap(await createApiKey(deps, owner, { name: 'b', scopes: ['alerts.read'] }));

    // Act
    const listed = unwrap(await listApiKeys(deps, owner, {}));

    // Assert
    expect(listed.result.map((k) => [k.api_key_id, k.name])).toEqual([
      [account.keyId, OWNER_KEY_NAME],
      [a.api_key_id, 'a'],
      [b.api_key_id, 'b'],
    ]);
    for (const key of listed.result) {
      expect(Object.keys(key).sort()).toEqual(Object.keys(ApiKeySummary.shape).sort());
    }
    expect(listed.result[0]?.type).toBe('owner');
  });

  it('respects the limit', async () => {
    // Arrange
    const { deps, owner, account } = await setup();
    const a = unwrap(await createApiKey(deps, owner, { name: 'a', scopes: ['mail.send'] }));
    unwrap(await createApiKey(deps, owner, { name: 'b', scopes: ['mail.send'] }));

    // Act
    const listed = unwrap(await listApiKeys(deps, owner, { limit: 2 }));

    // Assert
    expect(listed.result.map((k) => k.api_key_id)).toEqual([account.keyId, a.api_key_id]);
  });

  it("never lists another account's keys", async () => {
    // Arrange
    const { deps, owner } = await setup();
    const other = unwrap(await bootstrapAccount(deps, { name: 'other' }));
    unwrap(await createApiKey(deps, owner, { name: 'mine', scopes: ['mail.send'] }));

    // Act
    const listed = unwrap(await listApiKeys(deps, owner, {}));

    // Assert
    expect(listed.result.map((k) => k.api_key_id)).not.toContain(other.keyId);
    expect(listed.result).toHaveLength(2);
  });
});

describe('getApiKey', () => {
  it('returns a key of the caller account', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(
      await createApiKey(deps, owner, { name: 'mailer', scopes: ['mail.send'] }),
    );

    // Act
    const read = unwrap(await getApiKey(deps, owner, created.api_key_id));

    // Assert
    const { api_key: _secret, ...view } = created;
    expect(read).toEqual(view);
  });

  it("answers 404 for another account's key", async () => {
    // Arrange
    const { deps, owner } = await setup();
    const other = unwrap(await bootstrapAccount(deps, { name: 'other' }));

    // Act
    const error = failure(await getApiKey(deps, owner, other.keyId));

    // Assert
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('unable to find API Key');
  });

  it('answers 404 for a malformed key ID without reading storage', async () => {
    // Arrange
    const { deps, repo, owner } = await setup();
    const getKey = vi.spyOn(repo, 'getKey');

    // Act
    const errors = [];
    for (const id of ['', 'short', `${owner.keyId}x`, `${owner.keyId.slice(0, 21)}.`]) {
      errors.push(failure(await getApiKey(deps, owner, id)));
    }

    // Assert
    for (const error of errors) {
      expect(error.code).toBe('not_found');
      expect(error.message).toBe('unable to find API Key');
    }
    expect(getKey).not.toHaveBeenCalled();
  });

  it('answers 404 for a well-formed ID that does not exist', async () => {
    // Arrange
    const { deps, owner } = await setup();

    // Act
    const error = failure(await getApiKey(deps, owner, 'A'.repeat(22)));

    // Assert
    expect(error.code).toBe('not_found');
  });
});

describe('renameApiKey', () => {
  it('changes the name only and bumps updated_at', async () => {
    // Arrange
    const { deps, repo, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'old', scopes: ['mail.send'] }));

    // Act
    const renamed = unwrap(await renameApiKey(deps, owner, created.api_key_id, { name: 'new' }));

    // Assert
    expect(renamed).toEqual({ api_key_id: created.api_key_id, name: 'new' });
    const read = unwrap(await getApiKey(deps, owner, created.api_key_id));
    expect(read.name).toBe('new');
    expect(read.scopes).toEqual(['mail.send']);
    expect(read.created_at).toBe(created.created_at);
    expect(read.updated_at > created.updated_at).toBe(true);
    expect((await repo.getKey(created.api_key_id))?.version).toBe(2);
  });

  it('renames the owner key', async () => {
    // Arrange
    const { deps, owner, account } = await setup();

    // Act
    const renamed = unwrap(await renameApiKey(deps, owner, account.keyId, { name: 'root' }));

    // Assert
    expect(renamed.name).toBe('root');
    const read = unwrap(await getApiKey(deps, owner, account.keyId));
    expect(read).toMatchObject({ name: 'root', type: 'owner', scopes: ALL_SCOPES });
  });

  it("answers 404 for another account's key", async () => {
    // Arrange
    const { deps, owner } = await setup();
    const other = unwrap(await bootstrapAccount(deps, { name: 'other' }));

    // Act
    const error = failure(await renameApiKey(deps, owner, other.keyId, { name: 'mine now' }));

    // Assert
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('unable to find API Key to update');
  });
});

describe('replaceApiKey', () => {
  it('replaces the scopes instead of merging them', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(
      await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send', 'alerts.read'] }),
    );

    // Act
    const replaced = unwrap(
      await replaceApiKey(deps, owner, created.api_key_id, {
        name: 'k2',
        scopes: ['templates.read'],
      }),
    );

    // Assert
    expect(replaced).toMatchObject({ name: 'k2', scopes: ['templates.read'], type: 'general' });
    const read = unwrap(await getApiKey(deps, owner, created.api_key_id));
    expect(read.scopes).toEqual(['templates.read']);
  });

  it('retypes a key that becomes billing-only', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));

    // Act
    const replaced = unwrap(
      await replaceApiKey(deps, owner, created.api_key_id, {
        name: 'k',
        scopes: ['billing.read'],
      }),
    );

    // Assert
    expect(replaced.type).toBe('billing');
  });

  it("refuses to change the owner key's scopes with 403", async () => {
    // Arrange
    const { deps, owner, account } = await setup();

    // Act
    const error = failure(
      await replaceApiKey(deps, owner, account.keyId, { name: 'root', scopes: ['mail.send'] }),
    );

    // Assert
    expect(error.code).toBe('forbidden');
    const read = unwrap(await getApiKey(deps, owner, account.keyId));
    expect(read).toMatchObject({ name: OWNER_KEY_NAME, scopes: ALL_SCOPES, type: 'owner' });
  });

  it('renames the owner key by PUT when its scopes are sent back unchanged', async () => {
    // Arrange
    const { deps, owner, account } = await setup();
    const current = unwrap(await getApiKey(deps, owner, account.keyId));

    // Act
    const result = await replaceApiKey(deps, owner, account.keyId, {
      name: 'root',
      scopes: current.scopes,
    });

    // Assert
    expect(result).toMatchObject({
      ok: true,
      value: { name: 'root', scopes: ALL_SCOPES, type: 'owner' },
    });
  });

  it('answers 404 for a key that does not exist', async () => {
    // Arrange
    const { deps, owner } = await setup();

    // Act
    const error = failure(
      await replaceApiKey(deps, owner, 'B'.repeat(22), { name: 'x', scopes: ['mail.send'] }),
    );

    // Assert
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('unable to find API Key to update');
  });
});

describe('a restricted caller', () => {
  it('cannot grant a scope it lacks', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const caller = await restrictedCaller(deps, owner);

    // Act
    const error = failure(
      await createApiKey(deps, caller, { name: 'x', scopes: ['mail.send', 'alerts.read'] }),
    );

    // Assert
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.code).toBe('forbidden');
    expect(error.message).toContain('"alerts.read"');
    expect(error.message).not.toContain('"mail.send"');
  });

  it('grants only its own non-billing scopes when scopes are omitted', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const caller = await restrictedCaller(deps, owner);

    // Act
    const created = unwrap(await createApiKey(deps, caller, { name: 'child' }));

    // Assert
    expect(created.scopes).toEqual(RESTRICTED_SCOPES);
  });

  it('cannot delete, rename or replace the owner key', async () => {
    // Arrange
    const { deps, owner, account } = await setup();
    const caller = await restrictedCaller(deps, owner);

    // Act
    const deleted = failure(await deleteApiKey(deps, caller, account.keyId));
    const renamed = failure(await renameApiKey(deps, caller, account.keyId, { name: 'mine' }));
    const replaced = failure(
      await replaceApiKey(deps, caller, account.keyId, { name: 'mine', scopes: ['mail.send'] }),
    );

    // Assert
    expect([deleted.code, renamed.code, replaced.code]).toEqual([
      'forbidden',
      'forbidden',
      'forbidden',
    ]);
    const read = unwrap(await getApiKey(deps, owner, account.keyId));
    expect(read).toMatchObject({ name: OWNER_KEY_NAME, scopes: ALL_SCOPES });
  });

  it('cannot delete, rename or replace a key holding scopes it lacks', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const caller = await restrictedCaller(deps, owner);
    const stronger = unwrap(
      await createApiKey(deps, owner, { name: 'alerts', scopes: ['alerts.read', 'mail.send'] }),
    );

    // Act
    const deleted = failure(await deleteApiKey(deps, caller, stronger.api_key_id));
    const renamed = failure(await renameApiKey(deps, caller, stronger.api_key_id, { name: 'x' }));
    const replaced = failure(
      await replaceApiKey(deps, caller, stronger.api_key_id, { name: 'x', scopes: ['mail.send'] }),
    );

    // Assert
    for (const error of [deleted, renamed, replaced]) {
      expect(error).toBeInstanceOf(ForbiddenError);
      expect(error.message).toContain('"alerts.read"');
    }
    const read = unwrap(await getApiKey(deps, owner, stronger.api_key_id));
    expect(read).toMatchObject({ name: 'alerts', scopes: ['alerts.read', 'mail.send'] });
  });

  it('can manage a key whose scopes it holds', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const caller = await restrictedCaller(deps, owner);
    const weaker = unwrap(await createApiKey(deps, owner, { name: 'w', scopes: ['mail.send'] }));

    // Act
    const renamed = await renameApiKey(deps, caller, weaker.api_key_id, { name: 'w2' });
    const deleted = await deleteApiKey(deps, caller, weaker.api_key_id);

    // Assert
    expect(renamed.ok).toBe(true);
    expect(deleted).toEqual({ ok: true, value: true });
  });
});

describe('deleteApiKey', () => {
  it('refuses to delete the owner key, even for the owner itself', async () => {
    // Arrange
    const { deps, owner, account } = await setup();

    // Act
    const error = failure(await deleteApiKey(deps, owner, account.keyId));

    // Assert
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.code).toBe('forbidden');
    expect(unwrap(await getApiKey(deps, owner, account.keyId)).type).toBe('owner');
  });

  it('deletes a key so that it can no longer be read, and a second delete answers 404', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));

    // Act
    const first = await deleteApiKey(deps, owner, created.api_key_id);
    const read = failure(await getApiKey(deps, owner, created.api_key_id));
    const second = failure(await deleteApiKey(deps, owner, created.api_key_id));

    // Assert
    expect(first).toEqual({ ok: true, value: true });
    expect(read.code).toBe('not_found');
    expect(read.message).toBe('unable to find API Key');
    expect(second.code).toBe('not_found');
    expect(second.message).toBe('unable to find API Key for deletion');
  });

  it("answers 404 for another account's key and leaves it in place", async () => {
    // Arrange
    const { deps, repo, owner } = await setup();
    const other = unwrap(await bootstrapAccount(deps, { name: 'other' }));
    const otherOwner: Caller = {
      accountId: other.accountId,
      keyId: other.keyId,
      type: 'owner',
      scopes: ALL_SCOPES,
    };
    const victim = unwrap(
      await createApiKey(deps, otherOwner, { name: 'theirs', scopes: ['mail.send'] }),
    );

    // Act
    const error = failure(await deleteApiKey(deps, owner, victim.api_key_id));

    // Assert
    expect(error.code).toBe('not_found');
    expect(await repo.getKey(victim.api_key_id)).toBeDefined();
  });
});

describe('concurrent changes', () => {
  it('makes MemoryKeyRepository refuse writes based on a stale version', async () => {
    // Arrange
    const { deps, repo, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    const stale = await repo.getKey(created.api_key_id);
    if (!stale) throw new Error('expected the key');
    const changes = { name: 'n', scopes: ['mail.send'], type: 'general' as const, updatedAt: 'x' };
    const first = await repo.updateKey(stale, changes, testEvent());

    // Act
    const update = await repo.updateKey(stale, { ...changes, name: 'stale' }, testEvent());
    const deletion = await repo.deleteKey(stale, testEvent());

    // Assert
    expect(first.ok).toBe(true);
    expect(update).toEqual({ ok: false, reason: 'conflict' });
    expect(deletion).toEqual({ ok: false, reason: 'conflict' });
    expect((await repo.getKey(created.api_key_id))?.name).toBe('n');
  });

  it('answers 409 when the key is re-scoped between the check and a replace', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      expect((await repo.concurrentUpdate(current, ['alerts.read'])).ok).toBe(true);
    });

    // Act
    const error = failure(
      await replaceApiKey(deps, owner, created.api_key_id, { name: 'mine', scopes: ['mail.send'] }),
    );

    // Assert
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('conflict');
    const read = unwrap(await getApiKey(deps, owner, created.api_key_id));
    expect(read).toMatchObject({ name: 'other request', scopes: ['alerts.read'] });
  });

  it('answers 409 when the key is renamed between the check and a rename', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      await repo.concurrentUpdate(current, current.scopes, 'theirs');
    });

    // Act
    const error = failure(await renameApiKey(deps, owner, created.api_key_id, { name: 'mine' }));

    // Assert
    expect(error.code).toBe('conflict');
    expect(unwrap(await getApiKey(deps, owner, created.api_key_id)).name).toBe('theirs');
  });

  it('re-checks and deletes a key that was re-scoped between the check and the delete', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      expect((await repo.concurrentUpdate(current, ['alerts.read'])).ok).toBe(true);
    });

    // Act
    const deleted = await deleteApiKey(deps, owner, created.api_key_id);

    // Assert
    expect(deleted).toEqual({ ok: true, value: true });
    expect(repo.writes).toBe(2);
    expect(failure(await getApiKey(deps, owner, created.api_key_id)).code).toBe('not_found');
  });

  it('refuses with 403 to delete a key re-scoped beyond the caller during the delete', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const caller = await restrictedCaller(deps, owner);
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      await repo.concurrentUpdate(current, ['alerts.read', 'mail.send']);
    });

    // Act
    const error = failure(await deleteApiKey(deps, caller, created.api_key_id));

    // Assert
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.message).toContain('"alerts.read"');
    const read = unwrap(await getApiKey(deps, owner, created.api_key_id));
    expect(read.scopes).toEqual(['alerts.read', 'mail.send']);
  });

  it('answers 409 and keeps the key when every delete attempt loses a race', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      await repo.concurrentUpdate(current, current.scopes);
    }, 100);

    // Act
    const error = failure(await deleteApiKey(deps, owner, created.api_key_id));

    // Assert
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('conflict');
    expect(repo.writes).toBeGreaterThan(1);
    expect(repo.writes).toBeLessThan(100);
    expect(unwrap(await getApiKey(deps, owner, created.api_key_id)).api_key_id).toBe(
      created.api_key_id,
    );
  });

  it('answers 404 when the key is deleted between the check and a rename', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      await repo.deleteKey(current, testEvent());
    });

    // Act
    const error = failure(await renameApiKey(deps, owner, created.api_key_id, { name: 'x' }));

    // Assert
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('unable to find API Key to update');
  });

  it('answers 404 when the key is deleted between the check and a delete', async () => {
    // Arrange
    const repo = new RacingRepository();
    const { deps, owner } = await setup({ repo });
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    repo.beforeNextWrites(async (current) => {
      await repo.deleteKey(current, testEvent());
    });

    // Act
    const error = failure(await deleteApiKey(deps, owner, created.api_key_id));

    // Assert
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('unable to find API Key for deletion');
  });
});

describe('verifyApiKey', () => {
  it('accepts a created key and returns its record', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));

    // Act
    const outcome = await verifyApiKey(deps, created.api_key);

    // Assert
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.key).toMatchObject({
      keyId: created.api_key_id,
      accountId: owner.accountId,
      scopes: ['mail.send'],
    });
  });

  it('accepts the owner key returned by bootstrap', async () => {
    // Arrange
    const { deps, account } = await setup();

    // Act
    const outcome = await verifyApiKey(deps, account.apiKey);

    // Assert
    expect(outcome.ok && outcome.key.type).toBe('owner');
  });

  it('rejects malformed and checksum-broken keys as malformed without reading storage', async () => {
    // Arrange
    const { deps, repo, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    const key = created.api_key;
    const lastIndex = BASE64URL_ALPHABET.indexOf(key.slice(-1));
    const badChecksum = key.slice(0, -1) + BASE64URL_ALPHABET.charAt((lastIndex + 1) % 64);
    const getKey = vi.spyOn(repo, 'getKey');

    // Act
    const outcomes = [];
    for (const presented of [
      '',
      'not a key',
      key.slice(0, -1),
      `${key}A`,
      `XX${key.slice(2)}`,
      badChecksum,
    ]) {
      outcomes.push(await verifyApiKey(deps, presented));
    }

    // Assert
    for (const outcome of outcomes) expect(outcome).toEqual({ ok: false, reason: 'malformed' });
    expect(getKey).not.toHaveBeenCalled();
  });

  it('rejects a deleted key as unknown', async () => {
    // Arrange
    const { deps, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    unwrap(await deleteApiKey(deps, owner, created.api_key_id));

    // Act
    const outcome = await verifyApiKey(deps, created.api_key);

    // Assert
    expect(outcome).toEqual({ ok: false, reason: 'unknown' });
  });

  it('rejects a forged key with a real key ID and a valid checksum as unknown', async () => {
    // Arrange
    const { deps, repo, owner } = await setup();
    const created = unwrap(await createApiKey(deps, owner, { name: 'k', scopes: ['mail.send'] }));
    const forged = forgeWithValidChecksum(created.api_key, 'SG');
    const getKey = vi.spyOn(repo, 'getKey');

    // Act
    const outcome = await verifyApiKey(deps, forged);

    // Assert
    expect(forged).not.toBe(created.api_key);
    expect(parseApiKey(forged, 'SG').ok).toBe(true);
    expect(outcome).toEqual({ ok: false, reason: 'unknown' });
    expect(getKey).toHaveBeenCalledTimes(1);
  });

  it('rejects a well-formed key with an ID that was never issued as unknown', async () => {
    // Arrange
    const { deps } = await setup();
    const neverIssued = buildKey('SG', 'C'.repeat(22), 'D'.repeat(37));

    // Act
    const outcome = await verifyApiKey(deps, neverIssued);

    // Assert
    expect(outcome).toEqual({ ok: false, reason: 'unknown' });
  });
});

describe('bootstrapAccount', () => {
  it('creates an owner key holding every scope that does not count against the limit', async () => {
    // Arrange
    const { deps, repo } = makeDeps();

    // Act
    const account = unwrap(await bootstrapAccount(deps, { name: 'acme', keyLimit: 3 }));

    // Assert
    const ownerKey = await repo.getKey(account.keyId);
    expect(ownerKey).toMatchObject({
      accountId: account.accountId,
      name: OWNER_KEY_NAME,
      type: 'owner',
      scopes: ALL_SCOPES,
      keyHash: hashApiKey(account.apiKey),
      version: 1,
    });
    expect(await repo.getAccount(account.accountId)).toMatchObject({ keyLimit: 3, keyCount: 0 });
    expect(parseApiKey(account.apiKey, 'SG')).toMatchObject({ ok: true });
  });

  it('rejects a duplicate account name with 409', async () => {
    // Arrange
    const { deps } = makeDeps();
    unwrap(await bootstrapAccount(deps, { name: 'acme' }));

    // Act
    const error = failure(await bootstrapAccount(deps, { name: 'acme' }));

    // Assert
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('conflict');
  });

  it.each(['', 'Acme', '-acme', '_acme', 'with space', 'a'.repeat(64), 'acme!', 'ac.me'])(
    'rejects the account name %j with 400',
    async (name) => {
      // Arrange
      const { deps } = makeDeps();

      // Act
      const error = failure(await bootstrapAccount(deps, { name }));

      // Assert
      expect(ACCOUNT_NAME_PATTERN.test(name)).toBe(false);
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error.code).toBe('bad_request');
      expect(error.errors[0]?.field).toBe('name');
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects the key limit %s with 400',
    async (keyLimit) => {
      // Arrange
      const { deps } = makeDeps();

      // Act
      const error = failure(await bootstrapAccount(deps, { name: 'acme', keyLimit }));

      // Assert
      expect(error.code).toBe('bad_request');
      expect(error.errors[0]?.field).toBe('keyLimit');
    },
  );

  it('accepts the longest and shortest valid names', async () => {
    // Arrange
    const { deps } = makeDeps();

    // Act
    const short = await bootstrapAccount(deps, { name: '0' });
    const long = await bootstrapAccount(deps, { name: `a${'-_9'.repeat(20)}xy` });

    // Assert
    expect(short.ok).toBe(true);
    expect(long.ok).toBe(true);
  });
});

describe('callerScopes', () => {
  it('returns the caller scopes sorted, without modifying the caller', () => {
    // Arrange
    const scopes = ['mail.send', 'alerts.read', 'api_keys.read'];
    const caller: Caller = { accountId: 'a', keyId: 'k', type: 'general', scopes };

    // Act
    const result = unwrap(callerScopes(caller));

    // Assert
    expect(result).toEqual({ scopes: ['alerts.read', 'api_keys.read', 'mail.send'] });
    expect(scopes).toEqual(['mail.send', 'alerts.read', 'api_keys.read']);
  });
});

describe("a key's own limits", () => {
  it('are refused where the deployment declares no plans: accepted, they would never be counted', async () => {
    // Arrange: makeDeps' deployment counts no limits
    const { deps, repo, owner } = await setup();
    const before = (await repo.listKeys(owner.accountId)).length;

    // Act
    const refused = failure(
      await createApiKey(deps, owner, { name: 'capped', limits: { quota: { per_day: 5 } } }),
    );

    // Assert
    expect(refused).toBeInstanceOf(BadRequestError);
    expect(refused.errors).toEqual([{ field: 'limits', message: LIMITS_OFF_MESSAGE }]);
    expect(await repo.listKeys(owner.accountId)).toHaveLength(before);
  });

  it('are stored, shown and changed where limits are counted; null clears them, leaving them out keeps them', async () => {
    // Arrange
    const { deps, owner } = await setup();
    deps.config.limitsEnabled = true;
    const created = unwrap(
      await createApiKey(deps, owner, {
        name: 'capped',
        scopes: ['mail.send'],
        limits: { quota: { per_day: 5 } },
      }),
    );

    // Act
    const kept = unwrap(
      await replaceApiKey(deps, owner, created.api_key_id, { name: 'kept', scopes: ['mail.send'] }),
    );
    const cleared = unwrap(
      await replaceApiKey(deps, owner, created.api_key_id, {
        name: 'cleared',
        scopes: ['mail.send'],
        limits: null,
      }),
    );

    // Assert
    expect(created.limits).toEqual({ quota: { per_day: 5 } });
    expect(kept.limits).toEqual({ quota: { per_day: 5 } });
    expect(cleared.limits).toEqual({});
  });
});

import type {
  ApiKeyDetailView,
  ApiKeySummaryView,
  CreateApiKeyInput,
  CreatedApiKeyView,
  ListApiKeysInput,
  RenameApiKeyInput,
  RenamedApiKeyView,
  ReplaceApiKeyInput,
} from '../schemas/api-keys.js';
import {
  ConflictError,
  ForbiddenError,
  fail,
  NotFoundError,
  ok,
  type Result,
  ServiceUnavailableError,
} from './errors.js';
import { generateApiKey, hashApiKey, KEY_ID_PATTERN } from './key-format.js';
import type { Deps, KeyChanges, KeyRecord } from './ports.js';
import { checkCanManage, type KeyType, normaliseScopes, resolveGrant } from './scopes.js';

/** Who is calling: what the authorizer established about the presented key. */
export interface Caller {
  accountId: string;
  keyId: string;
  type: KeyType;
  scopes: readonly string[];
}

const NOT_FOUND = {
  get: 'unable to find API Key',
  update: 'unable to find API Key to update',
  delete: 'unable to find API Key for deletion',
} as const;

/** A delete that races updates re-reads and re-checks the key this many times. */
const DELETE_ATTEMPTS = 3;

const CONCURRENT_CHANGE = 'the API key was changed by another request; read it again and retry';

/**
 * Creates a key for the caller's account and returns it, the only time the key is ever
 * visible. Scopes follow {@link resolveGrant}; the account's key limit is enforced atomically by
 * the repository.
 */
export async function createApiKey(
  deps: Deps,
  caller: Caller,
  input: CreateApiKeyInput,
): Promise<Result<CreatedApiKeyView>> {
  const grant = resolveGrant(caller.scopes, input.scopes);
  if (!grant.ok) return grant;
  const { apiKey, keyId } = generateApiKey(deps.config.keyPrefix);
  const now = deps.now().toISOString();
  const record: KeyRecord = {
    keyId,
    accountId: caller.accountId,
    name: input.name,
    scopes: grant.value.scopes,
    type: grant.value.type,
    keyHash: hashApiKey(apiKey),
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const inserted = await deps.repo.insertKey(record);
  if (!inserted.ok) {
    if (inserted.reason === 'limit_reached') {
      return fail(new ForbiddenError(`Cannot create more than ${inserted.limit} API Keys`));
    }
    // The authorizer vouched for this account moments ago: its disappearance is not the
    // caller's fault, and saying "not found" would be misleading.
    return fail(new ServiceUnavailableError());
  }
  return ok({ api_key: apiKey, ...toDetailView(record) });
}

/** Lists the caller's account's keys, oldest first: names and IDs, never secrets. */
export async function listApiKeys(
  deps: Deps,
  caller: Caller,
  input: ListApiKeysInput,
): Promise<Result<{ result: ApiKeySummaryView[] }>> {
  const keys = await deps.repo.listKeys(caller.accountId, input.limit);
  return ok({ result: keys.map(toSummaryView) });
}

/** Reads one key of the caller's account; another account's key is indistinguishable from none. */
export async function getApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
): Promise<Result<ApiKeyDetailView>> {
  const key = await findOwnKey(deps, caller, keyId);
  if (!key) return fail(new NotFoundError(NOT_FOUND.get));
  return ok(toDetailView(key));
}

/** Renames a key (SendGrid's PATCH). */
export async function renameApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  input: RenameApiKeyInput,
): Promise<Result<RenamedApiKeyView>> {
  const updated = await updateOwnKey(deps, caller, keyId, (key) =>
    ok({ name: input.name, scopes: key.scopes, type: key.type }),
  );
  if (!updated.ok) return updated;
  return ok({ api_key_id: updated.value.keyId, name: updated.value.name });
}

/** Replaces a key's name and scopes (SendGrid's PUT): the new scopes replace the old ones. */
export async function replaceApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  input: ReplaceApiKeyInput,
): Promise<Result<ApiKeyDetailView>> {
  const updated = await updateOwnKey(deps, caller, keyId, (key) => {
    // The owner key holds billing and everything else, which no grant may: it only accepts its
    // own scopes back unchanged (a rename).
    if (key.type === 'owner') {
      return sameScopes(key.scopes, normaliseScopes(input.scopes))
        ? ok({ name: input.name, scopes: key.scopes, type: key.type })
        : fail(new ForbiddenError("the owner key's scopes cannot be changed", 'scopes'));
    }
    const grant = resolveGrant(caller.scopes, input.scopes);
    if (!grant.ok) return grant;
    return ok({ name: input.name, ...grant.value });
  });
  if (!updated.ok) return updated;
  return ok(toDetailView(updated.value));
}

/**
 * Deletes (revokes) a key. The write is conditional on the version that was checked, so a key
 * re-scoped in between is never deleted on the strength of a stale check; on such a race the
 * key is read and checked again (a delete is what the caller wants whatever the new name).
 */
export async function deleteApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
): Promise<Result<true>> {
  for (let attempt = 1; ; attempt++) {
    const key = await findOwnKey(deps, caller, keyId);
    if (!key) return fail(new NotFoundError(NOT_FOUND.delete));
    const allowed = checkCanManage(caller.scopes, key.scopes);
    if (!allowed.ok) return allowed;
    if (key.type === 'owner') {
      return fail(new ForbiddenError('the owner key cannot be deleted'));
    }
    const deleted = await deps.repo.deleteKey(key);
    if (deleted.ok) {
      // Before answering, so the key is refused on the caller's very next request.
      await deps.authorizerCache.flush();
      return ok(true);
    }
    if (deleted.reason === 'not_found') return fail(new NotFoundError(NOT_FOUND.delete));
    if (attempt >= DELETE_ATTEMPTS) return fail(new ConflictError(CONCURRENT_CHANGE));
  }
}

/** The scopes of the presented key itself (`GET /v3/scopes`). */
export function callerScopes(caller: Caller): Result<{ scopes: string[] }> {
  return ok({ scopes: [...caller.scopes].sort() });
}

async function findOwnKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
): Promise<KeyRecord | undefined> {
  // A malformed ID cannot exist: answer without a read.
  if (!KEY_ID_PATTERN.test(keyId)) return undefined;
  const key = await deps.repo.getKey(keyId);
  return key && key.accountId === caller.accountId ? key : undefined;
}

async function updateOwnKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  change: (key: KeyRecord) => Result<Omit<KeyChanges, 'updatedAt'>>,
): Promise<Result<KeyRecord>> {
  const key = await findOwnKey(deps, caller, keyId);
  if (!key) return fail(new NotFoundError(NOT_FOUND.update));
  const allowed = checkCanManage(caller.scopes, key.scopes);
  if (!allowed.ok) return allowed;
  const changes = change(key);
  if (!changes.ok) return changes;
  const updated = await deps.repo.updateKey(key, {
    ...changes.value,
    updatedAt: deps.now().toISOString(),
  });
  if (updated.ok) {
    // A scope change (narrower or wider) must hold on the next request, not after the cache TTL.
    if (!sameScopes(key.scopes, updated.value.scopes)) await deps.authorizerCache.flush();
    return ok(updated.value);
  }
  return updated.reason === 'not_found'
    ? fail(new NotFoundError(NOT_FOUND.update))
    : fail(new ConflictError(CONCURRENT_CHANGE));
}

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function toSummaryView(key: KeyRecord): ApiKeySummaryView {
  return { api_key_id: key.keyId, name: key.name, type: key.type, created_at: key.createdAt };
}

function toDetailView(key: KeyRecord): ApiKeyDetailView {
  return {
    api_key_id: key.keyId,
    name: key.name,
    scopes: key.scopes,
    type: key.type,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
  };
}

import { type Caller, type CreatedKey, updateOwnKey } from './api-keys.js';
import { auditEvent } from './audit.js';
import { ok, type Result } from './errors.js';
import { DEFAULT_GRACE_SECONDS } from './grace-period.js';
import { generateApiKey, hashApiKey, hashesEqual, parseApiKey } from './key-format.js';
import type { Deps, KeyRecord } from './ports.js';
import { boundByCaller } from './restrictions.js';
import { checkCanManage } from './scopes.js';

/**
 * Rolls a key: a new secret for the same ID, name and scopes, returned once. The old key keeps
 * working for the grace period (default 24 h, at most 7 days, never beyond the key's expiry),
 * then is refused. Rolling again during a grace period ends the earlier one.
 *
 * Rolling mints a secret, so the route needs `api_keys.create` as well as `api_keys.update`, and a
 * restricted caller may roll only a key within its own expiry, allowlist and limits (a
 * short-lived or rate-limited key that leaked cannot mint a secret for a long-lived or unlimited
 * one). A retiring secret never gets here.
 */
export async function rollApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  input: { graceSeconds?: number },
): Promise<Result<RolledKey>> {
  const now = deps.now().getTime();
  const { apiKey } = generateApiKey(deps.config.keyPrefix, keyId);
  const grace = input.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  let validUntil: string | null = null;
  const updated = await updateOwnKey(deps, caller, keyId, (key) => {
    const bounded = boundByCaller(caller, {
      expiresAt: key.expiresAt,
      allowedIps: key.allowedIps,
      limits: key.limits,
    });
    if (!bounded.ok) return bounded;
    const end = Math.min(
      now + grace * 1000,
      key.expiresAt ? Date.parse(key.expiresAt) : Number.POSITIVE_INFINITY,
    );
    validUntil = grace > 0 && end > now ? new Date(end).toISOString() : null;
    return ok({
      name: key.name,
      scopes: key.scopes,
      type: key.type,
      keyHash: hashApiKey(apiKey),
      previousKeyHash: validUntil ? key.keyHash : null,
      previousValidUntil: validUntil,
    });
  });
  if (!updated.ok) return updated;
  return ok({ apiKey, key: updated.value, previousValidUntil: validUntil });
}

/** A key with a new secret, and until when its previous secret still works (`null`: not at all). */
export interface RolledKey extends CreatedKey {
  previousValidUntil: string | null;
}

/**
 * GitHub-style credential revocation, public: each submitted key that is valid is found through
 * the hash index and revoked, and the revocation is recorded for its account's owner. The answer
 * is the same whatever was valid, so it tells the reporter nothing.
 *
 * A leaked owner key cannot simply be deleted (the account would lose its owner): its secret is
 * replaced by one nobody knows, and an operator rolls it (`keygate keys roll`) to get a new one.
 * A key still in a roll's grace period loses the grace period only.
 */
export async function revokeLeakedKeys(
  deps: Deps,
  input: { keys: readonly string[] },
  sourceIp: string | null,
): Promise<Result<{ received: number }>> {
  let revoked = 0;
  try {
    for (const presented of new Set(input.keys)) {
      const parsed = parseApiKey(presented.trim(), deps.config.keyPrefix);
      if (!parsed.ok) continue;
      if (await revokeOne(deps, presented.trim(), parsed.key.keyId, sourceIp)) revoked += 1;
    }
  } finally {
    // Also when a later key fails (storage down: the reporter gets a 503 and retries): the keys
    // already revoked must be refused from the next request, not after the cache TTL.
    if (revoked > 0) await deps.authorizerCache.flush();
  }
  return ok({ received: input.keys.length });
}

/**
 * Revokes keys of the caller's account by their value (`POST /v3/api_keys/revoke`), as the public
 * report does, for an owner or admin who holds a leaked key's value: authenticated, so the public
 * route's per-address limit never keeps it out. Keys of other accounts, the owner key (roll it
 * instead), keys holding scopes the caller lacks and anything invalid are left alone; the answer
 * counts what was revoked, which tells the caller nothing about any other account.
 */
export async function revokeApiKeysByValue(
  deps: Deps,
  caller: Caller,
  input: { keys: readonly string[] },
): Promise<Result<{ received: number; revoked: number }>> {
  let revoked = 0;
  try {
    for (const presented of new Set(input.keys.map((k) => k.trim()))) {
      const parsed = parseApiKey(presented, deps.config.keyPrefix);
      if (!parsed.ok) continue;
      if (await revokeOne(deps, presented, parsed.key.keyId, caller.sourceIp ?? null, caller)) {
        revoked += 1;
      }
    }
  } finally {
    if (revoked > 0) await deps.authorizerCache.flush();
  }
  return ok({ received: input.keys.length, revoked });
}

const REVOKE_ATTEMPTS = 3;

async function revokeOne(
  deps: Deps,
  presented: string,
  keyId: string,
  sourceIp: string | null,
  /** An authenticated caller: only its own account's keys it may manage, never the owner key. */
  caller?: Caller,
) {
  const hash = hashApiKey(presented);
  for (let attempt = 1; attempt <= REVOKE_ATTEMPTS; attempt++) {
    // The hash index finds current keys; a key in a roll's grace period is only in its item.
    const id = caller ? keyId : ((await deps.repo.findKeyIdByHash(hash)) ?? keyId);
    const key = await deps.repo.getKey(id);
    if (!key) return false;
    if (
      caller &&
      (key.accountId !== caller.accountId ||
        key.type === 'owner' ||
        !checkCanManage(caller.scopes, key.scopes).ok)
    ) {
      return false;
    }
    const current = hashesEqual(key.keyHash, hash);
    const previous =
      !current &&
      key.previousKeyHash !== undefined &&
      hashesEqual(key.previousKeyHash, hash) &&
      key.previousValidUntil !== undefined &&
      Date.parse(key.previousValidUntil) > deps.now().getTime();
    if (!current && !previous) return false;
    const event = auditEvent(deps, {
      accountId: key.accountId,
      action: 'api_key.leak_revoked',
      actor: caller ?? null,
      targetKeyId: key.keyId,
      before: key.scopes,
      after: current && key.type !== 'owner' ? [] : key.scopes,
      sourceIp,
      details: {
        revoked: previous
          ? 'previous key (grace period ended)'
          : current && key.type === 'owner'
            ? 'owner key secret replaced'
            : 'key deleted',
      },
    });
    const outcome = await writeRevocation(deps, key, current, event);
    if (outcome.ok) return true;
    if (outcome.reason === 'not_found') return false;
  }
  return false;
}

function writeRevocation(
  deps: Deps,
  key: KeyRecord,
  current: boolean,
  event: Parameters<Deps['repo']['deleteKey']>[1],
) {
  const unchanged = {
    name: key.name,
    scopes: key.scopes,
    type: key.type,
    updatedAt: deps.now().toISOString(),
  };
  if (!current) {
    return deps.repo.updateKey(
      key,
      { ...unchanged, previousKeyHash: null, previousValidUntil: null },
      event,
    );
  }
  if (key.type === 'owner') {
    const unknowable = hashApiKey(generateApiKey(deps.config.keyPrefix, key.keyId).apiKey);
    return deps.repo.updateKey(
      key,
      { ...unchanged, keyHash: unknowable, previousKeyHash: null, previousValidUntil: null },
      event,
    );
  }
  return deps.repo.deleteKey(key, event);
}

import { auditEvent } from './audit.js';
import type { Caller } from './caller.js';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  fail,
  type KeygateError,
  NotFoundError,
  ok,
  REQUIRED_SCOPES_HEADER,
  type Result,
  ServiceUnavailableError,
} from './errors.js';
import { normaliseCidr } from './ip-allowlist.js';
import { generateApiKey, hashApiKey, KEY_ID_PATTERN } from './key-format.js';
import { canonicalLimits, type Limits, limitsFault, sameLimits } from './limits.js';
import type { AccountRecord, Deps, KeyChanges, KeyRecord } from './ports.js';
import { boundByCaller } from './restrictions.js';
import { checkCanManage, normaliseScopes, resolveGrant } from './scopes.js';

export type { Caller };

const NOT_FOUND = {
  get: 'unable to find API Key',
  update: 'unable to find API Key to update',
  delete: 'unable to find API Key for deletion',
} as const;

/** A delete that races updates re-reads and re-checks the key this many times. */
const DELETE_ATTEMPTS = 3;

/** The owner key is the account's way back in: only the account's plan limits it. */
export const OWNER_LIMITS_MESSAGE =
  "the owner key cannot have limits of its own; its account's plan applies";

/** A parent acting for its disabled subuser may manage its keys, not add one. */
export const ACCOUNT_DISABLED = 'the account is disabled: enable it before creating keys';

const CONCURRENT_CHANGE = 'the API key was changed by another request; read it again and retry';

/** A key as its creator asks for it; what is left out is inherited or defaulted. */
export interface NewKey {
  name: string;
  scopes?: readonly string[];
  expiresAt?: string;
  allowedIps?: readonly string[];
  /** The key's own rate limit and quotas; left out, the creating key's own (if any). */
  limits?: Limits;
}

/**
 * A key's new name and scopes (a full replacement). An expiry or allowlist left out stays as
 * it is; `null` clears it.
 */
export interface KeyReplacement {
  name: string;
  scopes: readonly string[];
  expiresAt?: string | null;
  allowedIps?: readonly string[] | null;
  limits?: Limits | null;
}

/** A key just made: its record and the secret, which exists nowhere else. */
export interface CreatedKey {
  apiKey: string;
  key: KeyRecord;
}

/** An area of the deployment's catalogue, as the permission picker shows it. */
export interface AreaSummary {
  id: string;
  label: string;
  billing: boolean;
  read: string[];
  full: string[];
}

/**
 * Creates a key for the caller's account and returns it, the only time the key is ever
 * visible. Scopes follow {@link resolveGrant}; the account's key limit is enforced atomically by
 * the repository.
 */
export async function createApiKey(
  deps: Deps,
  caller: Caller,
  input: NewKey,
): Promise<Result<CreatedKey>> {
  const grant = resolveGrant(caller.scopes, input.scopes, deps.config.catalogue);
  if (!grant.ok) return refused(deps, caller, grant, null, input.scopes ?? []);
  const account = await deps.repo.getAccount(caller.accountId);
  if (!account) return fail(new ServiceUnavailableError());
  if (account.disabled || account.deleting) return fail(new ForbiddenError(ACCOUNT_DISABLED));
  const expiresAt = resolveExpiry(deps, account, input.expiresAt, { onCreate: true });
  if (!expiresAt.ok) return expiresAt;
  const allowedIps = resolveAllowedIps(input.allowedIps);
  if (!allowedIps.ok) return allowedIps;
  const ownLimits = checkedLimits(deps, input.limits);
  if (!ownLimits.ok) return ownLimits;
  // A restricted caller's own expiry, allowlist and limits bound the key (inherited where left
  // out).
  const limits = boundByCaller(
    caller,
    {
      expiresAt: expiresAt.value ?? undefined,
      allowedIps: allowedIps.value,
      limits: ownLimits.value,
    },
    {
      expiresAt: input.expiresAt === undefined,
      allowedIps: input.allowedIps === undefined,
      limits: true,
    },
  );
  if (!limits.ok) return refused(deps, caller, limits, null, grant.value.scopes);
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
    ...(limits.value.expiresAt ? { expiresAt: limits.value.expiresAt } : {}),
    ...(limits.value.allowedIps ? { allowedIps: [...limits.value.allowedIps] } : {}),
    ...(limits.value.limits ? { limits: limits.value.limits } : {}),
  };
  const event = auditEvent(deps, {
    accountId: caller.accountId,
    action: 'api_key.created',
    actor: caller,
    targetKeyId: keyId,
    after: record.scopes,
    details: { name: record.name },
  });
  const inserted = await deps.repo.insertKey(record, event);
  if (!inserted.ok) {
    if (inserted.reason === 'limit_reached') {
      return fail(new ForbiddenError(`Cannot create more than ${inserted.limit} API Keys`));
    }
    if (inserted.reason === 'account_disabled') return fail(new ForbiddenError(ACCOUNT_DISABLED));
    // The authorizer vouched for this account moments ago: its disappearance is not the
    // caller's fault, and saying "not found" would be misleading.
    return fail(new ServiceUnavailableError());
  }
  return ok({ apiKey, key: record });
}

/** Lists the caller's account's keys, oldest first: names and IDs, never secrets. */
export async function listApiKeys(
  deps: Deps,
  caller: Caller,
  input: { limit?: number },
): Promise<Result<KeyRecord[]>> {
  return ok(await deps.repo.listKeys(caller.accountId, input.limit));
}

/** Reads one key of the caller's account; another account's key is indistinguishable from none. */
export async function getApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
): Promise<Result<KeyRecord>> {
  const key = await findOwnKey(deps, caller, keyId);
  if (!key) return fail(new NotFoundError(NOT_FOUND.get));
  return ok(key);
}

/** Renames a key (SendGrid's PATCH). */
export async function renameApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  input: { name: string },
): Promise<Result<KeyRecord>> {
  return updateOwnKey(deps, caller, keyId, (key) =>
    ok({ name: input.name, scopes: key.scopes, type: key.type }),
  );
}

/** Replaces a key's name and scopes (SendGrid's PUT): the new scopes replace the old ones. */
export async function replaceApiKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  input: KeyReplacement,
): Promise<Result<KeyRecord>> {
  let account: AccountRecord | undefined;
  if (input.expiresAt !== undefined) {
    account = await deps.repo.getAccount(caller.accountId);
    if (!account) return fail(new ServiceUnavailableError());
  }
  const allowedIps = input.allowedIps === null ? ok(null) : resolveAllowedIps(input.allowedIps);
  if (!allowedIps.ok) return allowedIps;
  const ownLimits = input.limits === null ? ok(null) : checkedLimits(deps, input.limits);
  if (!ownLimits.ok) return ownLimits;
  // The IP allowlist and limits the request sets (or clears); the expiry is resolved per key
  // below.
  const allowlist = {
    ...(allowedIps.value !== undefined ? { allowedIps: allowedIps.value } : {}),
    ...(input.limits !== undefined ? { limits: ownLimits.value ?? null } : {}),
  };
  const requested = normaliseScopes(input.scopes, deps.config.catalogue);
  const updated = await updateOwnKey(
    deps,
    caller,
    keyId,
    (key) => {
      const expiry =
        input.expiresAt === undefined || !account
          ? ok(undefined)
          : resolveExpiry(deps, account, input.expiresAt, { onCreate: false });
      if (!expiry.ok) return expiry;
      const limits = {
        ...allowlist,
        ...(expiry.value !== undefined ? { expiresAt: expiry.value } : {}),
      };
      // The owner key holds billing and everything else, which no grant may: it only accepts its
      // own scopes back unchanged (a rename).
      if (key.type === 'owner') {
        if (typeof expiry.value === 'string') {
          return fail(
            new BadRequestError('the owner key cannot expire; roll it instead', 'expires_at'),
          );
        }
        if (limits.limits) return fail(new BadRequestError(OWNER_LIMITS_MESSAGE, 'limits'));
        return sameScopes(key.scopes, normaliseScopes(input.scopes, deps.config.catalogue))
          ? ok({ name: input.name, scopes: key.scopes, type: key.type, ...limits })
          : fail(new ForbiddenError("the owner key's scopes cannot be changed", 'scopes'));
      }
      const grant = resolveGrant(caller.scopes, input.scopes, deps.config.catalogue);
      if (!grant.ok) return grant;
      // The key as it would be after the PUT stays within a restricted caller's own limits: so a
      // key cannot lift its own expiry, allowlist or limits, nor another's beyond its own.
      const bounded = boundByCaller(caller, {
        expiresAt: limits.expiresAt === undefined ? key.expiresAt : (limits.expiresAt ?? undefined),
        allowedIps:
          limits.allowedIps === undefined ? key.allowedIps : (limits.allowedIps ?? undefined),
        limits: limits.limits === undefined ? key.limits : (limits.limits ?? undefined),
      });
      if (!bounded.ok) return bounded;
      return ok({ name: input.name, ...grant.value, ...limits });
    },
    requested,
  );
  return updated;
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
    if (!allowed.ok) return refused(deps, caller, allowed, key.keyId, key.scopes);
    if (key.type === 'owner') {
      return fail(new ForbiddenError('the owner key cannot be deleted'));
    }
    const event = auditEvent(deps, {
      accountId: caller.accountId,
      action: 'api_key.deleted',
      actor: caller,
      targetKeyId: key.keyId,
      before: key.scopes,
      details: { name: key.name },
    });
    const deleted = await deps.repo.deleteKey(key, event);
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
export function callerScopes(caller: Caller): Result<{ scopes: readonly string[] }> {
  let scopes = sortedScopes.get(caller.scopes);
  if (!scopes) {
    scopes = [...caller.scopes].sort();
    sortedScopes.set(caller.scopes, scopes);
  }
  return ok({ scopes });
}

/** The deployment's areas, as the console's permission picker shows them. */
export function scopeAreas(deps: Pick<Deps, 'config'>): Result<{ areas: AreaSummary[] }> {
  return ok({
    areas: deps.config.catalogue.areas.map((area) => ({
      id: area.id,
      label: area.label,
      billing: area.billing,
      read: [...area.read],
      full: [...area.full],
    })),
  });
}

/** A warm function sees the same caller scope arrays again (they are shared per key): sort once. */
const sortedScopes = new WeakMap<readonly string[], readonly string[]>();

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

/** Internal: finds, checks and conditionally updates a key of the caller's account. */
export async function updateOwnKey(
  deps: Deps,
  caller: Caller,
  keyId: string,
  change: (key: KeyRecord) => Result<Omit<KeyChanges, 'updatedAt'>>,
  /** The scopes the request asked the key to have (a PUT's), for the audit of a refusal. */
  requestedScopes?: readonly string[],
): Promise<Result<KeyRecord>> {
  const key = await findOwnKey(deps, caller, keyId);
  if (!key) return fail(new NotFoundError(NOT_FOUND.update));
  const allowed = checkCanManage(caller.scopes, key.scopes);
  if (!allowed.ok) return refused(deps, caller, allowed, key.keyId, requestedScopes ?? key.scopes);
  const changes = change(key);
  if (!changes.ok) {
    return refused(deps, caller, changes, key.keyId, requestedScopes ?? key.scopes);
  }
  const event = auditEvent(deps, {
    accountId: caller.accountId,
    action: changes.value.keyHash === undefined ? 'api_key.updated' : 'api_key.rolled',
    actor: caller,
    targetKeyId: key.keyId,
    before: key.scopes,
    after: changes.value.scopes,
    details: changeDetails(key, changes.value),
  });
  const updated = await deps.repo.updateKey(
    key,
    { ...changes.value, updatedAt: deps.now().toISOString() },
    event,
  );
  if (updated.ok) {
    // A change of what the key may do (scopes, expiry, addresses, its secret) must hold on the
    // next request, not after the cache TTL.
    if (narrowsOrChangesAccess(key, updated.value)) await deps.authorizerCache.flush();
    return ok(updated.value);
  }
  return updated.reason === 'not_found'
    ? fail(new NotFoundError(NOT_FOUND.update))
    : fail(new ConflictError(CONCURRENT_CHANGE));
}

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function narrowsOrChangesAccess(before: KeyRecord, after: KeyRecord): boolean {
  return (
    !sameScopes(before.scopes, after.scopes) ||
    before.expiresAt !== after.expiresAt ||
    before.keyHash !== after.keyHash ||
    before.previousKeyHash !== after.previousKeyHash ||
    (before.allowedIps ?? []).join(',') !== (after.allowedIps ?? []).join(',') ||
    !sameLimits(before.limits, after.limits)
  );
}

function changeDetails(
  key: KeyRecord,
  changes: Omit<KeyChanges, 'updatedAt'>,
): Record<string, string> {
  const details: Record<string, string> = {};
  if (changes.name !== key.name) details.name = changes.name;
  if (changes.expiresAt !== undefined) details.expires_at = changes.expiresAt ?? 'none';
  if (changes.allowedIps !== undefined)
    details.allowed_ips = (changes.allowedIps ?? []).join(' ') || 'any';
  if (changes.limits !== undefined && !sameLimits(key.limits, changes.limits ?? undefined)) {
    details.limits = changes.limits ? JSON.stringify(canonicalLimits(changes.limits)) : 'none';
  }
  if (changes.previousValidUntil !== undefined) {
    details.previous_key_valid_until = changes.previousValidUntil ?? 'none';
  }
  return details;
}

/** The 400 for limits where the deployment counts none. */
export const LIMITS_OFF_MESSAGE =
  'this deployment declares no plans, so API keys cannot have limits of their own';

/**
 * A key's own limits as asked, checked: limits that can work, on a deployment that counts them
 * (400 otherwise: limits accepted and never enforced would be a silent lie).
 */
function checkedLimits(
  deps: Pick<Deps, 'config'>,
  asked: Limits | undefined,
): Result<Limits | undefined> {
  if (asked === undefined) return ok(undefined);
  if (deps.config.limitsEnabled !== true) {
    return fail(new BadRequestError(LIMITS_OFF_MESSAGE, 'limits'));
  }
  const fault = limitsFault(asked);
  if (fault !== undefined) return fail(new BadRequestError(`limits.${fault}`, 'limits'));
  return ok(canonicalLimits(asked));
}

/** Refused attempts one key may have recorded per hour: the audit log stays bounded. */
export const REFUSALS_RECORDED_PER_HOUR = 20;

/**
 * A refused request passes through: if it was refused for reaching beyond what the caller holds
 * (scopes it lacks, a later expiry, a wider allowlist: a 403), the attempt is recorded in the
 * audit log first, with what was asked (`scopes_added`: the scopes the request asked for). At
 * most {@link REFUSALS_RECORDED_PER_HOUR} per calling key and hour, counted atomically with the
 * write, so a key hammering refusals cannot grow the log without bound.
 */
async function refused<T>(
  deps: Deps,
  caller: Caller,
  result: { ok: false; error: KeygateError },
  targetKeyId: string | null,
  requested: readonly string[],
): Promise<Result<T>> {
  if (result.error.code === 'forbidden') {
    const missing = result.error.headers[REQUIRED_SCOPES_HEADER];
    const field = result.error.errors[0]?.field;
    await deps.repo.recordRefusal(
      auditEvent(deps, {
        accountId: caller.accountId,
        action: 'api_key.escalation_refused',
        actor: caller,
        targetKeyId: targetKeyId ?? '-',
        after: requested,
        details: missing
          ? { missing_scopes: missing }
          : { refused: field ? `${field}: ${result.error.message}` : result.error.message },
      }),
      { window: deps.now().toISOString().slice(0, 13), limit: REFUSALS_RECORDED_PER_HOUR },
    );
  }
  return result;
}

/**
 * The expiry a create or replace asks for, checked: in the future and within the account's
 * maximum key lifetime. On create, an account with a maximum gives keys without an expiry that
 * maximum. `null` (replace only) removes the expiry, unless the account has a maximum.
 */
export function resolveExpiry(
  deps: Pick<Deps, 'now'>,
  account: AccountRecord,
  requested: string | null | undefined,
  options: { onCreate: boolean },
): Result<string | null | undefined> {
  const now = deps.now().getTime();
  const max = account.maxKeyLifetimeSeconds;
  if (requested === undefined) {
    return ok(
      options.onCreate && max !== undefined ? new Date(now + max * 1000).toISOString() : undefined,
    );
  }
  if (requested === null) {
    return max === undefined
      ? ok(null)
      : fail(
          new BadRequestError(
            `keys of this account must expire within ${max} seconds`,
            'expires_at',
          ),
        );
  }
  const at = Date.parse(requested);
  if (at <= now) return fail(new BadRequestError('expires_at must be in the future', 'expires_at'));
  if (max !== undefined && at > now + max * 1000) {
    return fail(
      new BadRequestError(
        `expires_at is beyond the account's maximum key lifetime of ${max} seconds`,
        'expires_at',
      ),
    );
  }
  return ok(new Date(at).toISOString());
}

/** Normalised CIDRs, or a 400 naming the first entry that is not an address or block. */
export function resolveAllowedIps(
  requested: readonly string[] | undefined,
): Result<string[] | undefined> {
  if (requested === undefined) return ok(undefined);
  const cidrs: string[] = [];
  for (const entry of requested) {
    const cidr = normaliseCidr(entry);
    if (!cidr) {
      return fail(
        new BadRequestError(
          `${JSON.stringify(entry)} is not an IP address or CIDR block`,
          'allowed_ips',
        ),
      );
    }
    if (!cidrs.includes(cidr)) cidrs.push(cidr);
  }
  return ok(cidrs);
}

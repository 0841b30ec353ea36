import { ipAllowed } from '../domain/ip-allowlist.js';
import { canonicalLimits, type Limits } from '../domain/limits.js';
import type { Deps, KeyRecord } from '../domain/ports.js';
import type { KeyType } from '../domain/scopes.js';
import { verifyApiKey } from '../domain/verify-key.js';
import { stageArn } from './api-gateway.js';
import {
  DEFAULT_POLICY_ROUTES,
  denyAll,
  findRoute,
  type PolicyDocument,
  type PolicyRoute,
  policyFor,
  type SecretKind,
} from './policy.js';

/** The authorizer context handlers read from `requestContext.authorizer` (strings only). */
export interface AuthorizerContext {
  accountId: string;
  keyId: string;
  type: KeyType;
  /** Space-joined. */
  scopes: string;
  /**
   * RFC 3339, or empty: when this presentation stops working (expiry, or a roll's grace end).
   * Handlers check it, so a cached authorizer result cannot outlive it.
   */
  expiresAt: string;
  /** Which secret was presented: `previous` during a roll's grace period (no key management). */
  secret: SecretKind;
  /**
   * The key's IP allowlist, space-joined normalised CIDRs; empty when any address may use it, and
   * always empty for the owner key (whose restrictions bind nothing it creates). Handlers confine
   * the keys a restricted key creates, replaces or rolls to it.
   */
  allowedIps: string;
  /**
   * The key's own limits (issue 17) as canonical JSON, or empty: the route wrapper counts them
   * without reading the key again, so they hold on cached results too (a change of them flushes
   * the cache, as a change of scopes does).
   */
  limits: string;
}

export type AuthorizeOutcome =
  | {
      effect: 'allow' | 'deny';
      principalId: string;
      policy: PolicyDocument;
      context: AuthorizerContext;
      /** Why a valid key was denied everywhere (its address is not on its allowlist). */
      reason?: 'address_not_allowed';
    }
  | {
      effect: 'unauthorized';
      reason: 'missing' | 'malformed' | 'unknown' | 'expired' | 'disabled';
    };

/** Last use is recorded at most this often per key: verification must not be a write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const BEARER = /^Bearer +([^ ]+) *$/i;

/**
 * The authorizer's decision for one presented `Authorization` header.
 *
 * Hot path: parse and checksum (no I/O) → one strongly consistent `GetItem` by key ID → constant-
 * time hash comparison → the key's policy for the requested route (memoised). A malformed key
 * costs no read. Storage failures throw (the gateway then fails closed with a 5xx): an outage
 * must never look like a bad key, and never like an allow.
 *
 * The request's route is found in `deps.routes` by method and resource path (the route's
 * template; the gateway caches the result per route, see `IDENTITY_SOURCES`): the route table by
 * default, or the route table plus the deployment's extra routes (pass the same array every time:
 * it is a memo key). A route it does not know is denied.
 *
 * @example
 * const outcome = await authorize(deps, { authorization: 'Bearer SG.…', methodArn });
 */
export async function authorize(
  deps: Pick<Deps, 'repo' | 'config' | 'now'> & {
    routes?: readonly PolicyRoute[];
    onTouchFailed?: (error: unknown) => void;
  },
  request: {
    authorization: string | undefined;
    methodArn: string;
    sourceIp?: string | null;
    httpMethod: string;
    resourcePath: string;
  },
): Promise<AuthorizeOutcome> {
  if (!request.authorization) return { effect: 'unauthorized', reason: 'missing' };
  const presented = BEARER.exec(request.authorization)?.[1];
  if (!presented) return { effect: 'unauthorized', reason: 'malformed' };
  const verified = await verifyApiKey(deps, presented);
  if (!verified.ok) return { effect: 'unauthorized', reason: verified.reason };
  const { key } = verified;
  const stage = stageArn(request.methodArn);
  const context: AuthorizerContext = {
    accountId: key.accountId,
    keyId: key.keyId,
    type: key.type,
    scopes: joinedScopes(key.scopes),
    expiresAt: verified.validUntil ?? '',
    secret: verified.secret,
    allowedIps: key.type === 'owner' ? '' : (key.allowedIps ?? []).join(' '),
    limits: limitsContext(key.limits),
  };
  if (key.allowedIps && !ipAllowed(key.allowedIps, request.sourceIp)) {
    // A valid key from the wrong address: 403 everywhere. The source address is an identity
    // source, so this result is cached for this address only.
    return {
      effect: 'deny',
      principalId: key.keyId,
      policy: denyAll(stage),
      context,
      reason: 'address_not_allowed',
    };
  }
  await touch(deps, key, request.sourceIp ?? null);
  const route = findRoute(
    deps.routes ?? DEFAULT_POLICY_ROUTES,
    request.httpMethod,
    request.resourcePath,
  );
  const policy = policyFor(
    stage,
    { type: key.type, scopes: key.scopes, secret: verified.secret },
    route,
  );
  return {
    effect: policy.Statement[0]?.Effect === 'Allow' ? 'allow' : 'deny',
    principalId: key.keyId,
    policy,
    context,
  };
}

/** Limits as the context carries them: one string per distinct limits, so memoised. */
function limitsContext(limits: Limits | undefined): string {
  const canonical = canonicalLimits(limits);
  return canonical ? JSON.stringify(canonical) : '';
}

/** Records the use at most once a minute per key; a failure never refuses the key. */
async function touch(
  deps: Pick<Deps, 'repo' | 'now'> & { onTouchFailed?: (error: unknown) => void },
  key: KeyRecord,
  sourceIp: string | null,
): Promise<void> {
  const now = deps.now().getTime();
  if (key.lastUsedAt && Date.parse(key.lastUsedAt) > now - LAST_USED_RESOLUTION_MS) return;
  try {
    await deps.repo.touchKey(
      key.keyId,
      new Date(now).toISOString(),
      sourceIp,
      new Date(now - LAST_USED_RESOLUTION_MS).toISOString(),
    );
  } catch (error) {
    deps.onTouchFailed?.(error);
  }
}

/** The context's space-joined scopes, joined once per (shared) scope array. */
function joinedScopes(scopes: readonly string[]): string {
  let joined = joinedByArray.get(scopes);
  if (joined === undefined) {
    joined = scopes.join(' ');
    joinedByArray.set(scopes, joined);
  }
  return joined;
}

const joinedByArray = new WeakMap<readonly string[], string>();

/**
 * The authorizer's decision as the dimensions of its `AuthorizerDecision` metric: `Outcome`
 * (allow, deny, unauthorized, error) and `Reason`, both from closed sets, so the metric has a
 * handful of dimension sets whatever the traffic (never a key ID or an address). Allow has no
 * reason (`none`); a deny is a key from an address off its allowlist or a route it may not call;
 * an error is a storage failure (the gateway answers 503) or anything else (a broken setting).
 */
export function decisionDimensions(
  decision: AuthorizeOutcome | { effect: 'error'; reason: 'storage' | 'internal' },
): { Outcome: 'allow' | 'deny' | 'unauthorized' | 'error'; Reason: string } {
  switch (decision.effect) {
    case 'allow':
      return { Outcome: 'allow', Reason: 'none' };
    case 'deny':
      return { Outcome: 'deny', Reason: decision.reason ?? 'route_not_allowed' };
    default:
      return { Outcome: decision.effect, Reason: decision.reason };
  }
}

import { stageArn } from '../gateway.js';
import { verifyApiKey } from './accounts.js';
import { type PolicyDocument, type PolicyRoute, policyFor } from './policy.js';
import type { Deps } from './ports.js';
import type { KeyType } from './scopes.js';

/** The authorizer context handlers read from `requestContext.authorizer` (strings only). */
export interface AuthorizerContext {
  accountId: string;
  keyId: string;
  type: KeyType;
  /** Space-joined. */
  scopes: string;
}

export type AuthorizeOutcome =
  | { effect: 'allow'; principalId: string; policy: PolicyDocument; context: AuthorizerContext }
  | { effect: 'unauthorized'; reason: 'missing' | 'malformed' | 'unknown' };

const BEARER = /^Bearer +([^ ]+) *$/i;

/**
 * The authorizer's decision for one presented `Authorization` header.
 *
 * Hot path: parse and checksum (no I/O) → one strongly consistent `GetItem` by key ID → constant-
 * time hash comparison → the key's policy for every route (memoised). A malformed key costs no
 * read. Storage failures throw (the gateway then fails closed with a 5xx): an outage must never
 * look like a bad key, and never like an allow.
 *
 * `deps.routes` is the list policies are built from: the route table by default, or the route
 * table plus the deployment's extra routes (pass the same array every time: it is the memo key).
 *
 * @example
 * const outcome = await authorize(deps, { authorization: 'Bearer SG.…', methodArn });
 */
export async function authorize(
  deps: Pick<Deps, 'repo' | 'config'> & { routes?: readonly PolicyRoute[] },
  request: { authorization: string | undefined; methodArn: string },
): Promise<AuthorizeOutcome> {
  if (!request.authorization) return { effect: 'unauthorized', reason: 'missing' };
  const presented = BEARER.exec(request.authorization)?.[1];
  if (!presented) return { effect: 'unauthorized', reason: 'malformed' };
  const verified = await verifyApiKey(deps, presented);
  if (!verified.ok) return { effect: 'unauthorized', reason: verified.reason };
  const { key } = verified;
  return {
    effect: 'allow',
    principalId: key.keyId,
    policy: policyFor(stageArn(request.methodArn), key.type, key.scopes, deps.routes),
    context: {
      accountId: key.accountId,
      keyId: key.keyId,
      type: key.type,
      scopes: key.scopes.join(' '),
    },
  };
}

import type { Caller } from './caller.js';
import { ForbiddenError, fail, ok, type Result } from './errors.js';
import { cidrWithin } from './ip-allowlist.js';
import { boundedLimits, type Limits, limitsWithin } from './limits.js';

/**
 * "You cannot grant more than you have", for a key's restrictions as for its scopes. A key with
 * an expiry, an IP allowlist or limits of its own manages only keys within them (limits no
 * looser, per dimension): a key it creates, replaces (PUT) or
 * rolls must expire no later than it does and be confined to its allowlist. On create, omitted
 * restrictions are inherited from the caller instead of refused. So a key can never lift its own
 * expiry or allowlist (a PUT of itself is held to itself), and a short-lived or address-bound key
 * that leaks cannot mint a long-lived, unbound one. Rename and delete narrow nothing and are not
 * restricted. The owner key is the account's root: unrestricted.
 */

/**
 * A key's restrictions: its expiry (absent: never), allowlist (absent: any address) and own
 * rate limit and quotas (absent: only its account's plan).
 */
export interface KeyLimits {
  expiresAt: string | undefined;
  allowedIps: readonly string[] | undefined;
  limits?: Limits | undefined;
}

export const LATER_EXPIRY_MESSAGE = (callerExpiry: string) =>
  `a key cannot give a key a later expiry than its own (${callerExpiry}): you cannot grant more than you have`;
export const LOOSER_LIMITS_MESSAGE =
  'a key cannot give a key limits looser than its own: you cannot grant more than you have';
export const WIDER_ALLOWLIST_MESSAGE =
  'a key cannot give a key addresses outside its own allowlist: you cannot grant more than you have';

/**
 * The limits a key managed by `caller` gets, or a 403: `inherit` marks the restrictions the
 * request left out on create, which the caller's own fill in.
 */
export function boundByCaller(
  caller: Pick<Caller, 'type' | 'expiresAt' | 'allowedIps' | 'limits'>,
  limits: KeyLimits,
  inherit: { expiresAt: boolean; allowedIps: boolean; limits?: boolean } = {
    expiresAt: false,
    allowedIps: false,
  },
): Result<KeyLimits> {
  if (caller.type === 'owner') return ok(limits);
  let { expiresAt, allowedIps } = limits;
  let own = limits.limits;
  if (caller.limits !== undefined) {
    if (inherit.limits === true) {
      const bounded = boundedLimits(caller.limits, own);
      if (!bounded.ok) return bounded;
      own = bounded.value;
    } else if (!limitsWithin(caller.limits, own)) {
      return fail(new ForbiddenError(LOOSER_LIMITS_MESSAGE, 'limits'));
    }
  }
  const ceiling = caller.expiresAt;
  if (
    ceiling !== undefined &&
    (expiresAt === undefined || Date.parse(expiresAt) > Date.parse(ceiling))
  ) {
    if (!inherit.expiresAt) {
      return fail(new ForbiddenError(LATER_EXPIRY_MESSAGE(ceiling), 'expires_at'));
    }
    expiresAt = ceiling;
  }
  const confines = caller.allowedIps;
  if (confines !== undefined) {
    if (allowedIps === undefined && inherit.allowedIps) allowedIps = [...confines];
    else if (allowedIps === undefined || !allowedIps.every((cidr) => cidrWithin(cidr, confines))) {
      return fail(new ForbiddenError(WIDER_ALLOWLIST_MESSAGE, 'allowed_ips'));
    }
  }
  return ok({ expiresAt, allowedIps, ...(own === undefined ? {} : { limits: own }) });
}

import { hashApiKey, hashesEqual, parseApiKey } from './key-format.js';
import type { Deps, KeyRecord } from './ports.js';

export type VerifyOutcome =
  | {
      ok: true;
      key: KeyRecord;
      /** When this presentation stops working: the key's expiry, or its grace period's end. */
      validUntil: string | undefined;
      /** The current secret, or the one a roll is retiring (in its grace period). */
      secret: 'current' | 'previous';
    }
  | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'disabled' };

/**
 * Verifies a presented key: parse and checksum with no I/O, one strongly consistent read by key
 * ID, then constant-time comparisons of hashes (the current key, or the previous one during a
 * roll's grace period), then the account's state (copied onto the key: still one read), then
 * expiry. Deleted keys are gone, so they are `unknown`.
 */
export async function verifyApiKey(
  deps: Pick<Deps, 'repo' | 'config' | 'now'>,
  presented: string,
): Promise<VerifyOutcome> {
  const parsed = parseApiKey(presented, deps.config.keyPrefix);
  if (!parsed.ok) return { ok: false, reason: 'malformed' };
  const key = await deps.repo.getKey(parsed.key.keyId);
  if (!key) return { ok: false, reason: 'unknown' };
  const hash = hashApiKey(presented);
  let validUntil = key.expiresAt;
  let secret: 'current' | 'previous' = 'current';
  if (!hashesEqual(key.keyHash, hash)) {
    if (
      !key.previousKeyHash ||
      !key.previousValidUntil ||
      !hashesEqual(key.previousKeyHash, hash)
    ) {
      return { ok: false, reason: 'unknown' };
    }
    validUntil = earliest(validUntil, key.previousValidUntil);
    secret = 'previous';
  }
  // After the hash comparison: without the secret, a disabled account's key (or a key the
  // unused-key scan disabled) answers as any unknown key does.
  if (key.accountDisabled === true || key.disabledAt !== undefined) {
    return { ok: false, reason: 'disabled' };
  }
  if (validUntil !== undefined && Date.parse(validUntil) <= deps.now().getTime()) {
    return { ok: false, reason: 'expired' };
  }
  // The owner key holds every scope of the deployment's catalogue, also those added to it after
  // the account was made (a team's new area), whatever its item stored then.
  const verified = key.type === 'owner' ? { ...key, scopes: deps.config.catalogue.all } : key;
  return { ok: true, key: verified, validUntil, secret };
}

function earliest(a: string | undefined, b: string): string {
  return a === undefined || Date.parse(b) < Date.parse(a) ? b : a;
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The audit log's paging cursors: opaque and authenticated. A cursor is the position where the
 * next page starts (the last event ID of the page before), sealed with AES-256-GCM under the
 * deployment's cursor key (`KeyRepository.cursorKey` in `ports.ts`), whose associated data binds
 * it to the caller's account and to the query (one key's history, or the whole account's log).
 *
 * So a client can read nothing from a cursor (not the account, not an event ID or time: these
 * travel in URLs and logs), and cannot make one: a tampered, truncated or forged cursor, another
 * account's, or one from another query, fails authentication and is refused before any storage
 * query. The position itself is only ever a key of the caller's own query.
 *
 * Format (base64url, no padding): version (1 byte) ‖ IV (12 random bytes) ‖ ciphertext ‖ tag
 * (16 bytes). Random 96-bit IVs are safe for far more cursors than one key will ever seal (NIST
 * SP 800-38D allows 2^32 per key). Even a repeated IV would expose only positions the holders of
 * those two cursors were shown, and let them forge positions of queries they may run anyway:
 * the account a cursor is opened for is always the caller's own, from the authorizer.
 *
 * Pure: the key is given, nothing is read or stored here.
 *
 * @module
 */

/** Bytes of a cursor key (AES-256). */
export const CURSOR_KEY_BYTES = 32;

/** The format's version: the first byte of a cursor, and part of what is authenticated. */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** DynamoDB refuses a start key whose sort key is over 1024 bytes (it would answer a 503). */
const MAX_POSITION_BYTES = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** What a cursor is bound to: it continues only this query of this account. */
export interface CursorScope {
  accountId: string;
  /** One key's history; absent for the whole account's log. */
  targetKeyId?: string;
}

export type OpenedCursor = { ok: true; position: string } | { ok: false };

/** Seals `position` (an event ID) into a cursor that only `scope` can open. */
export function sealCursor(key: Uint8Array, position: string, scope: CursorScope): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', checkedKey(key), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(scope));
  const sealed = Buffer.concat([cipher.update(position, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/**
 * The position inside a cursor sealed by {@link sealCursor} with `key` for exactly this `scope`;
 * `{ ok: false }` for anything else, whatever is wrong with it (nothing tells a forger why).
 */
export function openCursor(key: Uint8Array, cursor: string, scope: CursorScope): OpenedCursor {
  // Canonical base64url only: Node's decoder skips foreign characters and ignores the unused
  // bits of the last character, so distinct texts could otherwise open to the same cursor.
  const secret = checkedKey(key);
  if (!BASE64URL.test(cursor)) return INVALID;
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) return INVALID;
  if (bytes.length <= 1 + IV_BYTES + TAG_BYTES || bytes[0] !== VERSION) return INVALID;
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const sealed = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(associatedData(scope));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(sealed), decipher.final()]);
  } catch {
    return INVALID;
  }
  // Authentic, so sealed here; checked anyway, as what becomes a storage key must be.
  const position = plain.toString('utf8');
  if (plain.length > MAX_POSITION_BYTES || !Buffer.from(position, 'utf8').equals(plain)) {
    return INVALID;
  }
  return { ok: true, position };
}

const INVALID: OpenedCursor = Object.freeze({ ok: false });

/**
 * The authenticated context: the format, the account and the query, as one unambiguous JSON
 * array (no separator that an ID could contain). The account ID is never in the cursor itself.
 */
function associatedData(scope: CursorScope): Buffer {
  return Buffer.from(
    JSON.stringify(['keygate audit cursor', VERSION, scope.accountId, scope.targetKeyId ?? null]),
    'utf8',
  );
}

/** A wrong key length is a wiring bug, never a client's fault: fail loudly. */
function checkedKey(key: Uint8Array): Uint8Array {
  if (key.length !== CURSOR_KEY_BYTES) {
    throw new Error(`a cursor key is ${CURSOR_KEY_BYTES} bytes, not ${key.length}`);
  }
  return key;
}

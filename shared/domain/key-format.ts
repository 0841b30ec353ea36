import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Key format: `<prefix>.<keyId>.<secret>`, SendGrid's 69-character shape with the default `SG`
 * prefix (`SG.` + 22 + `.` + 43, base64url alphabet).
 *
 * - `keyId`: 22 characters, 16 random bytes in base64url. It is the public `api_key_id`.
 * - `secret`: 37 random base64url characters (222 bits) followed by a 6-character checksum:
 *   base64url of the big-endian CRC-32 of everything before it (`<prefix>.<keyId>.<random37>`).
 *   The checksum lets the authorizer and secret scanners reject a mistyped or forged key with no
 *   database read; it is not a secret and adds no strength.
 */
export const KEY_ID_LENGTH = 22;
export const SECRET_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
const RANDOM_LENGTH = SECRET_LENGTH - CHECKSUM_LENGTH;

export const DEFAULT_KEY_PREFIX = 'SG';
/** Prefixes are short identifiers without the `.` separator. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A key split into its parts; only produced by {@link parseApiKey} for well-formed keys. */
export interface ParsedApiKey {
  prefix: string;
  keyId: string;
  secret: string;
}

export type ParseOutcome =
  | { ok: true; key: ParsedApiKey }
  | { ok: false; reason: 'malformed' | 'wrong_prefix' | 'bad_checksum' };

/** Throws at start-up (not per request) when a deployment configures an unusable prefix. */
export function assertKeyPrefix(prefix: string): string {
  if (!KEY_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`invalid key prefix ${JSON.stringify(prefix)}: expected ${KEY_PREFIX_PATTERN}`);
  }
  return prefix;
}

function checksum(body: string): string {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt32BE(crc32(body) >>> 0, 0);
  return buf.toString('base64url');
}

/** 16 random bytes as 22 base64url characters: API key IDs and account IDs. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Creates a new key (for an existing key ID when rolling). The returned string is the only copy that will ever exist: callers hash it
 * with {@link hashApiKey} for storage and hand the plain value to the client exactly once.
 */
export function generateApiKey(
  prefix: string,
  keyId: string = randomId(),
): { apiKey: string; keyId: string } {
  const random = randomBytes(32).toString('base64url').slice(0, RANDOM_LENGTH);
  const body = `${prefix}.${keyId}.${random}`;
  return { apiKey: `${body}${checksum(body)}`, keyId };
}

/**
 * Parses and checksums a presented key without any I/O. Only keys with the deployment's prefix,
 * the exact shape and a valid checksum are `ok`; everything else is rejected before storage is
 * touched.
 */
export function parseApiKey(value: string, prefix: string): ParseOutcome {
  const expectedLength = prefix.length + 2 + KEY_ID_LENGTH + SECRET_LENGTH;
  if (value.length !== expectedLength) return { ok: false, reason: 'malformed' };
  if (!value.startsWith(`${prefix}.`)) {
    return { ok: false, reason: 'wrong_prefix' };
  }
  const keyStart = prefix.length + 1;
  const keyId = value.slice(keyStart, keyStart + KEY_ID_LENGTH);
  const secretStart = keyStart + KEY_ID_LENGTH + 1;
  if (value[secretStart - 1] !== '.') return { ok: false, reason: 'malformed' };
  const secret = value.slice(secretStart);
  if (!BASE64URL.test(keyId) || !BASE64URL.test(secret)) return { ok: false, reason: 'malformed' };
  const body = value.slice(0, value.length - CHECKSUM_LENGTH);
  if (checksum(body) !== value.slice(-CHECKSUM_LENGTH)) {
    return { ok: false, reason: 'bad_checksum' };
  }
  return { ok: true, key: { prefix, keyId, secret } };
}

/** SHA-256 of the whole key, base64url. This, never the key, is what storage holds. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('base64url');
}

/**
 * Constant-time comparison of two stored-format hashes. Compares the strings' own bytes: decoding
 * base64url first would let distinct strings (stray characters, unused trailing bits) compare equal.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A regular expression that finds keys of this format in text (for secret scanners and for our
 * own leak tests). Capture group 1 is the key; validate hits with {@link parseApiKey}.
 */
export function keyDetectionPattern(prefix: string = DEFAULT_KEY_PREFIX): RegExp {
  return new RegExp(
    `(?<![A-Za-z0-9_-])(${prefix}\\.[A-Za-z0-9_-]{${KEY_ID_LENGTH}}\\.[A-Za-z0-9_-]{${SECRET_LENGTH}})(?![A-Za-z0-9_-])`,
    'g',
  );
}

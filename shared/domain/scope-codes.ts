import registry from '../catalogue/scope-codes.json' with { type: 'json' };
import { remember } from './memo.js';

/**
 * How a key item stores its scopes. A full-access key holds some 200 scopes, about 5 KB of
 * names: stored as a list, its item passes DynamoDB's 4 KB read unit, so every verification
 * would cost two read units and every write of the key five or more write units. Stored as a
 * bitmap over an append-only registry (`shared/catalogue/scope-codes.json`, bit i = entry i) the
 * same scopes take 35 characters. A scope missing from the registry (none today) is kept by name
 * in `otherScopes`, so nothing a key holds is ever lost to the encoding.
 */

/** The registry: append-only, so a stored bitmap means the same scopes forever. */
export const SCOPE_CODES: readonly string[] = registry.scopes;

const CODE_OF = new Map(SCOPE_CODES.map((scope, index) => [scope, index]));

/** The stored form of a key's scopes. */
export interface EncodedScopes {
  /** base64url bitmap, least significant bit of the first byte = registry entry 0. */
  scopeCodes: string;
  /** Scopes the registry does not list, sorted; absent when there are none. */
  otherScopes?: string[];
}

/** Encodes a key's scopes for storage (order and duplicates do not matter). */
export function encodeScopes(scopes: readonly string[]): EncodedScopes {
  const bytes = new Uint8Array(Math.ceil(SCOPE_CODES.length / 8));
  const others = new Set<string>();
  for (const scope of scopes) {
    const code = CODE_OF.get(scope);
    if (code === undefined) others.add(scope);
    else bytes[code >> 3] = (bytes[code >> 3] ?? 0) | (1 << (code & 7));
  }
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  const scopeCodes = Buffer.from(bytes.subarray(0, end)).toString('base64url');
  return others.size === 0 ? { scopeCodes } : { scopeCodes, otherScopes: [...others].sort() };
}

/** Decoded bitmaps: keys of one account share a handful, and verification decodes on each read. */
const decoded = new Map<string, readonly string[]>();
const DECODED_MAX = 1024;

/**
 * The scopes a stored bitmap (and `otherScopes`) stands for, sorted. A bit past the registry's
 * end (an item written by a newer release) grants nothing: unknown access is denied access.
 *
 * The result is shared: every decode of the same bitmap returns the same read-only array, so
 * the authorizer's per-scope-set memos ({@link policyFor}, the context's joined scopes) are an
 * identity lookup rather than a hash of some 5 KB of scope names.
 */
export function decodeScopes(
  scopeCodes: string,
  otherScopes: readonly string[] = [],
): readonly string[] {
  let fromCodes = decoded.get(scopeCodes);
  if (!fromCodes) {
    const bytes = Buffer.from(scopeCodes, 'base64url');
    const scopes: string[] = [];
    for (let code = 0; code < Math.min(bytes.length * 8, SCOPE_CODES.length); code++) {
      if (((bytes[code >> 3] ?? 0) >> (code & 7)) & 1) scopes.push(SCOPE_CODES[code] as string);
    }
    // Frozen: the array is shared, and memos elsewhere key on it.
    fromCodes = remember(decoded, scopeCodes, Object.freeze(scopes.sort()), DECODED_MAX);
  }
  if (otherScopes.length === 0) return fromCodes;
  return Object.freeze([...new Set([...fromCodes, ...otherScopes])].sort());
}

/**
 * The shared array for a set of scopes (sorted, unique): what a repository hands out, so equal
 * scope sets are one array. Scopes outside the registry give a fresh array.
 */
export function internScopes(scopes: readonly string[]): readonly string[] {
  const { scopeCodes, otherScopes } = encodeScopes(scopes);
  return decodeScopes(scopeCodes, otherScopes);
}

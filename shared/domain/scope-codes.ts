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

/** The registry in use: SendGrid's, then a team's scopes in their lock file's order. */
let codes: readonly string[] = SCOPE_CODES;
let codeOf = new Map(codes.map((scope, index) => [scope, index]));
/** Registry entries no key may hold now (a scope the team removed): decoded as absent. */
let retired: ReadonlySet<string> = new Set();

/**
 * Uses SendGrid's registry followed by `appended` (a team's scopes, in the lock file's order, so
 * each keeps its code as the config changes), skipping `retired` when decoding: a removed scope
 * disappears from keys without shifting another, and comes back if it is declared again.
 */
export function useScopeRegistry(registryOf: {
  appended: readonly string[];
  retired: readonly string[];
}): void {
  const next = [...SCOPE_CODES, ...registryOf.appended.filter((s) => !SCOPE_CODES.includes(s))];
  const sameCodes = next.length === codes.length && next.every((s, i) => s === codes[i]);
  const sameRetired =
    registryOf.retired.length === retired.size && registryOf.retired.every((s) => retired.has(s));
  if (sameCodes && sameRetired) return;
  codes = Object.freeze(next);
  codeOf = new Map(codes.map((scope, index) => [scope, index]));
  retired = new Set(registryOf.retired);
  decoded.clear();
}

/** The stored form of a key's scopes. */
export interface EncodedScopes {
  /** base64url bitmap, least significant bit of the first byte = registry entry 0. */
  scopeCodes: string;
  /** Scopes the registry does not list, sorted; absent when there are none. */
  otherScopes?: string[];
}

/** Encodes a key's scopes for storage (order and duplicates do not matter). */
export function encodeScopes(scopes: readonly string[]): EncodedScopes {
  const bytes = new Uint8Array(Math.ceil(codes.length / 8));
  const others = new Set<string>();
  for (const scope of scopes) {
    const code = codeOf.get(scope);
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
    for (let code = 0; code < Math.min(bytes.length * 8, codes.length); code++) {
      const scope = codes[code] as string;
      if (((bytes[code >> 3] ?? 0) >> (code & 7)) & 1 && !retired.has(scope)) scopes.push(scope);
    }
    // Frozen: the array is shared, and memos elsewhere key on it.
    fromCodes = remember(decoded, scopeCodes, Object.freeze(scopes.sort()), DECODED_MAX);
  }
  if (otherScopes.length === 0) return fromCodes;
  const others = otherScopes.filter((s) => !retired.has(s));
  return Object.freeze([...new Set([...fromCodes, ...others])].sort());
}

/**
 * The shared array for a set of scopes (sorted, unique): what a repository hands out, so equal
 * scope sets are one array. Scopes outside the registry give a fresh array.
 */
export function internScopes(scopes: readonly string[]): readonly string[] {
  const { scopeCodes, otherScopes } = encodeScopes(scopes);
  return decodeScopes(scopeCodes, otherScopes);
}

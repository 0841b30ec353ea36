import type { KeyChanges, KeyRecord } from './ports.js';
import { internScopes } from './scope-codes.js';

/** The optional key fields a change may set (a value) or remove (`null`). */
export const OPTIONAL_KEY_FIELDS = [
  'expiresAt',
  'allowedIps',
  'limits',
  'keyHash',
  'previousKeyHash',
  'previousValidUntil',
] as const;

/** The record after `changes` (what a repository's conditional update writes). */
export function applyChanges(current: KeyRecord, changes: KeyChanges): KeyRecord {
  const next: KeyRecord = {
    ...current,
    name: changes.name,
    scopes: internScopes(changes.scopes),
    type: changes.type,
    updatedAt: changes.updatedAt,
    version: current.version + 1,
  };
  for (const field of OPTIONAL_KEY_FIELDS) {
    const value = changes[field];
    if (value === null) delete next[field];
    else if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
  }
  return next;
}

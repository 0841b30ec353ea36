import {
  isBillingScope,
  SCOPE_CATEGORIES,
  type ScopeCategory,
} from '../../shared/domain/scopes.js';

/**
 * The permission picker's model, generated from the shared scope catalogue: SendGrid's categories
 * with No / Read / Full access each, plus the Full Access and Billing Access key types.
 */

export type Level = 'none' | 'read' | 'full';
export type AccessType = 'full' | 'restricted' | 'billing';

/** Categories of a Restricted Access key, as SendGrid groups them (billing is its own key type). */
export const PICKER_CATEGORIES: readonly ScopeCategory[] = SCOPE_CATEGORIES.filter(
  (c) => !c.scopes.every(isBillingScope),
);

const BILLING_CATEGORY = SCOPE_CATEGORIES.find((c) => c.scopes.every(isBillingScope));
/** What Billing Access grants: every billing scope. */
export const BILLING_SCOPES: readonly string[] = BILLING_CATEGORY?.full ?? [];

export type Levels = Readonly<Record<string, Level>>;

export function scopesFor(category: ScopeCategory, level: Level): readonly string[] {
  return level === 'full' ? category.full : level === 'read' ? category.read : [];
}

/** The level each category shows for a set of scopes: the highest one the scopes cover. */
export function levelsFromScopes(scopes: readonly string[]): Levels {
  const held = new Set(scopes);
  const levels: Record<string, Level> = {};
  for (const category of PICKER_CATEGORIES) {
    const covers = (level: Level) => scopesFor(category, level).every((s) => held.has(s));
    levels[category.name] =
      category.full.length > 0 && covers('full')
        ? 'full'
        : category.read.length > 0 && covers('read')
          ? 'read'
          : 'none';
  }
  return levels;
}

/** The scopes a Restricted Access choice grants, sorted and unique. */
export function scopesFromLevels(levels: Levels): string[] {
  const scopes = new Set<string>();
  for (const category of PICKER_CATEGORIES) {
    for (const scope of scopesFor(category, levels[category.name] ?? 'none')) scopes.add(scope);
  }
  return [...scopes].sort();
}

/** Whether the signed-in key holds every scope a choice would grant. */
export function canGrant(held: ReadonlySet<string>, scopes: readonly string[]): boolean {
  return scopes.every((s) => held.has(s));
}

/** The key type a key's scopes show as in the picker. */
export function accessTypeOf(
  scopes: readonly string[],
  callerScopes: readonly string[],
): AccessType {
  if (scopes.length > 0 && scopes.every(isBillingScope)) return 'billing';
  const full = callerScopes.filter((s) => !isBillingScope(s));
  const held = new Set(scopes);
  return full.length > 0 && full.every((s) => held.has(s)) && scopes.length === full.length
    ? 'full'
    : 'restricted';
}

/**
 * The body of a create or replace request for a choice. Full Access on create omits `scopes`
 * (SendGrid's default: every scope of the caller but billing); PUT must list them.
 */
export function scopesForRequest(
  type: AccessType,
  levels: Levels,
  callerScopes: readonly string[],
): string[] {
  if (type === 'billing') return [...BILLING_SCOPES];
  if (type === 'full') return callerScopes.filter((s) => !isBillingScope(s)).sort();
  return scopesFromLevels(levels);
}

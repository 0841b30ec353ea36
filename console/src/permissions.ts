/**
 * The permission picker's model, built from the deployment's areas as `GET /v3/scopes/areas`
 * answers them (SendGrid's categories, a team's own areas, or both): No / Read / Full access per
 * area, plus the Full Access and Billing Access key types. Pure: every helper takes the areas, so
 * the console carries no catalogue of its own and shows whatever the deployment declares.
 */

/** One area of the deployment, as the API lists it. */
export interface Area {
  /** Stable identifier: what a key's levels are keyed by. */
  id: string;
  /** What the picker calls the area. */
  label: string;
  /** Its scopes make billing keys, which hold nothing else. */
  billing: boolean;
  /** What Read Access grants. */
  read: readonly string[];
  /** What Full Access grants. */
  full: readonly string[];
}

export type Level = 'none' | 'read' | 'full';
export type AccessType = 'full' | 'restricted' | 'billing';

/** The chosen level per area, by area ID; an area left out has No Access. */
export type Levels = Readonly<Record<string, Level>>;

/** Rows of a Restricted Access key, in the API's order (billing is its own key type). */
export function restrictedAreas(areas: readonly Area[]): Area[] {
  return areas.filter((a) => !a.billing);
}

/**
 * What Billing Access grants: the billing areas' Full Access scopes, in the API's order. Empty
 * when the deployment has no billing area, and then there is no Billing Access to offer.
 */
export function billingScopes(areas: readonly Area[]): string[] {
  return [...new Set(areas.filter((a) => a.billing).flatMap((a) => a.full))];
}

/**
 * A scope is billing when a billing area holds it: a team's catalogue decides, not a name
 * prefix (SendGrid's rule, which its own Billing area happens to follow).
 */
function billingSet(areas: readonly Area[]): ReadonlySet<string> {
  return new Set(billingScopes(areas));
}

export function scopesFor(area: Area, level: Level): readonly string[] {
  return level === 'full' ? area.full : level === 'read' ? area.read : [];
}

/** The level each row shows for a set of scopes: the highest one the scopes cover. */
export function levelsFromScopes(areas: readonly Area[], scopes: readonly string[]): Levels {
  const held = new Set(scopes);
  const levels: Record<string, Level> = {};
  for (const area of restrictedAreas(areas)) {
    const covers = (level: Level) => scopesFor(area, level).every((s) => held.has(s));
    levels[area.id] =
      area.full.length > 0 && covers('full')
        ? 'full'
        : area.read.length > 0 && covers('read')
          ? 'read'
          : 'none';
  }
  return levels;
}

/** The scopes a Restricted Access choice grants, sorted and unique. */
export function scopesFromLevels(areas: readonly Area[], levels: Levels): string[] {
  const scopes = new Set<string>();
  for (const area of restrictedAreas(areas)) {
    for (const scope of scopesFor(area, levels[area.id] ?? 'none')) scopes.add(scope);
  }
  return [...scopes].sort();
}

/**
 * What Full Access grants: every scope of the signed-in key that an area holds, billing aside,
 * sorted. The API's own default for a create without scopes, so an Edit to Full Access sends
 * exactly what a create would have granted.
 */
export function fullAccessScopes(
  areas: readonly Area[],
  callerScopes: readonly string[],
): string[] {
  const billing = billingSet(areas);
  const known = new Set(areas.flatMap((a) => a.full));
  return [...new Set(callerScopes)].filter((s) => known.has(s) && !billing.has(s)).sort();
}

/** Whether the signed-in key holds every scope a choice would grant. */
export function canGrant(held: ReadonlySet<string>, scopes: readonly string[]): boolean {
  return scopes.every((s) => held.has(s));
}

/** The key type a key's scopes show as in the picker. */
export function accessTypeOf(
  areas: readonly Area[],
  scopes: readonly string[],
  callerScopes: readonly string[],
): AccessType {
  const billing = billingSet(areas);
  if (scopes.length > 0 && scopes.every((s) => billing.has(s))) return 'billing';
  const full = fullAccessScopes(areas, callerScopes);
  const held = new Set(scopes);
  return full.length > 0 && full.every((s) => held.has(s)) && held.size === full.length
    ? 'full'
    : 'restricted';
}

/**
 * The scopes of a create or replace request for a choice. Full Access on create omits `scopes`
 * (SendGrid's default: every scope of the caller but billing); PUT must list them.
 */
export function scopesForRequest(
  areas: readonly Area[],
  type: AccessType,
  levels: Levels,
  callerScopes: readonly string[],
): string[] {
  if (type === 'billing') return billingScopes(areas);
  if (type === 'full') return fullAccessScopes(areas, callerScopes);
  return scopesFromLevels(areas, levels);
}

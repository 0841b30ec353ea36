import catalogueJson from '../catalogue/sendgrid-scopes.json' with { type: 'json' };
import { type ScopeCatalogue, SENDGRID_CATALOGUE } from './catalogue.js';
import { BadRequestError, ForbiddenError, fail, ok, type Result } from './errors.js';

/**
 * Scope rules, in one pure module, over a deployment's catalogue (`catalogue.ts`): SendGrid's
 * published permission list by default (`shared/catalogue/sendgrid-scopes.json`), grouped by
 * category as SendGrid's UI groups it, or a team's own areas.
 */

export interface ScopeCategory {
  name: string;
  uiLabels: readonly string[];
  scopes: readonly string[];
  read: readonly string[];
  full: readonly string[];
}

export type KeyType = 'owner' | 'general' | 'billing';

export const SCOPE_CATEGORIES: readonly ScopeCategory[] = Object.entries(
  catalogueJson.categories,
).map(([name, c]) => ({
  name,
  uiLabels: c.ui_labels,
  scopes: c.scopes,
  read: c.read,
  full: c.full,
}));

/** Every scope of the catalogue, billing included, sorted: what an account's owner key holds. */
export const ALL_SCOPES: readonly string[] = [
  ...new Set(SCOPE_CATEGORIES.flatMap((c) => c.scopes)),
].sort();

/**
 * Scopes SendGrid assigns to real keys by itself (`2fa_required`, …). Clients that round-trip a
 * SendGrid key's scopes send them back; Keygate accepts and drops them instead of failing.
 */
export const AUTO_ASSIGNED_SCOPES: ReadonlySet<string> = new Set(
  catalogueJson.auto_assigned_scopes.scopes,
);

export const BILLING_MIX_MESSAGE =
  'An API Key can either have billing permissions or any other set of permissions but not both.';

/** SendGrid's rule (and its C# client's): any scope starting with `billing` is a billing scope. */
export function isBillingScope(scope: string): boolean {
  return scope.startsWith('billing');
}

/** The type a set of scopes gives a key; the owner type is only ever set by bootstrap. */
export function keyTypeOf(
  scopes: readonly string[],
  catalogue: ScopeCatalogue = SENDGRID_CATALOGUE,
): Exclude<KeyType, 'owner'> {
  return scopes.length > 0 && scopes.every((s) => catalogue.isBilling(s)) ? 'billing' : 'general';
}

/** Scopes in `wanted` that `held` lacks, sorted. */
export function missingScopes(held: Iterable<string>, wanted: readonly string[]): string[] {
  const have = held instanceof Set ? (held as Set<string>) : new Set(held);
  return wanted.filter((s) => !have.has(s)).sort();
}

/** Sorted, unique, without SendGrid's auto-assigned scopes: the form keys store. */
export function normaliseScopes(
  requested: readonly string[],
  catalogue: ScopeCatalogue = SENDGRID_CATALOGUE,
): string[] {
  return [...new Set(requested)].filter((s) => !catalogue.autoAssigned.has(s)).sort();
}

/** What a request asks for, after validation: sorted, unique, typed. */
export interface GrantedScopes {
  scopes: string[];
  type: Exclude<KeyType, 'owner'>;
}

/**
 * Validates the scopes a caller asks to give a key (on create or replace) and resolves them.
 *
 * - `requested` omitted → SendGrid's "Full Access": every scope the caller holds except billing.
 * - unknown scopes → 400 naming them; billing mixed with anything else → 400;
 * - an empty list → 400; scopes the caller does not hold → 403 naming them.
 *
 * @example
 * resolveGrant(['api_keys.read', 'mail.send'], ['mail.send']) // ok: { scopes: ['mail.send'], type: 'general' }
 */
export function resolveGrant(
  callerScopes: readonly string[],
  requested: readonly string[] | undefined,
  catalogue: ScopeCatalogue = SENDGRID_CATALOGUE,
): Result<GrantedScopes> {
  if (requested === undefined) {
    const scopes = [...new Set(callerScopes)].filter(
      (s) => catalogue.isKnown(s) && !catalogue.isBilling(s),
    );
    if (scopes.length === 0) {
      return fail(new BadRequestError('the calling key has no scopes it can grant', 'scopes'));
    }
    return ok({ scopes: scopes.sort(), type: 'general' });
  }
  const scopes = normaliseScopes(requested, catalogue);
  const unknown = scopes.filter((s) => !catalogue.isKnown(s));
  if (unknown.length > 0) {
    return fail(
      new BadRequestError(
        `one or more of given scopes are invalid: ${formatScopes(unknown)}`,
        'scopes',
      ),
    );
  }
  if (scopes.length === 0) {
    return fail(new BadRequestError('scopes must contain at least one scope', 'scopes'));
  }
  const billing = scopes.filter((s) => catalogue.isBilling(s)).length;
  if (billing > 0 && billing < scopes.length) {
    return fail(new BadRequestError(BILLING_MIX_MESSAGE, 'scopes'));
  }
  const missing = missingScopes(callerScopes, scopes);
  if (missing.length > 0) {
    return fail(
      new ForbiddenError(
        `cannot grant scopes the calling key does not have: ${formatScopes(missing)}`,
        'scopes',
        missing,
      ),
    );
  }
  return ok({ scopes, type: keyTypeOf(scopes, catalogue) });
}

/**
 * A caller may only change or delete a key whose scopes it holds itself, so a restricted key
 * can never demote or revoke a stronger one (the owner key above all).
 */
export function checkCanManage(
  callerScopes: readonly string[],
  targetScopes: readonly string[],
): Result<true> {
  const missing = missingScopes(callerScopes, targetScopes);
  if (missing.length === 0) return ok(true);
  return fail(
    new ForbiddenError(
      `cannot modify a key that holds scopes the calling key does not have: ${formatScopes(missing)}`,
      null,
      missing,
    ),
  );
}

const LISTED_IN_MESSAGES = 10;

/** Names scopes in an error message; long lists are cut so a message stays readable. */
function formatScopes(scopes: readonly string[]): string {
  const shown = scopes.slice(0, LISTED_IN_MESSAGES).map((s) => JSON.stringify(s));
  const rest = scopes.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

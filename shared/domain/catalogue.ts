import sendgridJson from '../catalogue/sendgrid-scopes.json' with { type: 'json' };

/**
 * The scope catalogue a deployment grants from: its areas (what the console's permission picker
 * shows, with No / Read / Full access each, as SendGrid's page describes) and their scopes.
 * SendGrid's catalogue is the built-in preset; a team's config adds its own areas, or replaces
 * the preset (`shared/deployment`). Pure: no I/O.
 */

/** One area of the permission picker. */
export interface ScopeArea {
  /** Stable identifier (SendGrid's category name for the preset). */
  id: string;
  label: string;
  scopes: readonly string[];
  /** Read Access: the area's `*.read` scopes (SendGrid's C# client's rule). */
  read: readonly string[];
  /** Full Access: every scope of the area. */
  full: readonly string[];
  /** Billing areas make billing keys, which hold nothing else (SendGrid's rule). */
  billing: boolean;
  /** Labels SendGrid's UI uses for the area (the preset only). */
  uiLabels: readonly string[];
}

/** What an area is declared with: its scopes, and whether it is a billing area. */
export interface AreaInput {
  id: string;
  label: string;
  scopes: readonly string[];
  billing?: boolean;
  /** Read Access; by default the scopes ending in `.read`. */
  read?: readonly string[];
  uiLabels?: readonly string[];
}

export interface ScopeCatalogue {
  readonly areas: readonly ScopeArea[];
  /** Every scope, sorted and unique; one frozen array (memos key on it). */
  readonly all: readonly string[];
  /** Scopes of billing areas. */
  readonly billing: ReadonlySet<string>;
  /**
   * Scopes SendGrid assigns to real keys by itself (`2fa_required`, …): accepted and dropped when
   * a client sends them back (the SendGrid preset only).
   */
  readonly autoAssigned: ReadonlySet<string>;
  isKnown(scope: string): boolean;
  isBilling(scope: string): boolean;
}

/** Builds a catalogue from its areas (later areas may not repeat a scope of an earlier one). */
export function catalogueOf(
  areas: readonly AreaInput[],
  options: { autoAssigned?: Iterable<string> } = {},
): ScopeCatalogue {
  const built: ScopeArea[] = areas.map((area) => ({
    id: area.id,
    label: area.label,
    scopes: Object.freeze([...area.scopes]),
    read: Object.freeze([...(area.read ?? area.scopes.filter((s) => s.endsWith('.read')))]),
    full: Object.freeze([...area.scopes]),
    billing: area.billing === true,
    uiLabels: Object.freeze([...(area.uiLabels ?? [])]),
  }));
  const all = Object.freeze([...new Set(built.flatMap((a) => a.scopes))].sort());
  const known = new Set(all);
  const billing = new Set(built.filter((a) => a.billing).flatMap((a) => a.scopes));
  return Object.freeze({
    areas: Object.freeze(built),
    all,
    billing,
    autoAssigned: new Set(options.autoAssigned ?? []),
    isKnown: (scope: string) => known.has(scope),
    isBilling: (scope: string) => billing.has(scope),
  });
}

/** SendGrid's billing rule (and its C# client's): a scope starting with `billing`. */
const sendgridBilling = (scopes: readonly string[]) =>
  scopes.length > 0 && scopes.every((s) => s.startsWith('billing'));

/** SendGrid's published catalogue (`shared/catalogue/sendgrid-scopes.json`): the preset. */
export const SENDGRID_AREAS: readonly AreaInput[] = Object.entries(sendgridJson.categories).map(
  ([name, c]) => ({
    id: name,
    label: name,
    scopes: c.scopes,
    read: c.read,
    uiLabels: c.ui_labels,
    billing: sendgridBilling(c.scopes),
  }),
);

export const SENDGRID_CATALOGUE: ScopeCatalogue = catalogueOf(SENDGRID_AREAS, {
  autoAssigned: sendgridJson.auto_assigned_scopes.scopes,
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessType,
  type Area,
  accessTypeOf,
  billingScopes,
  canGrant,
  fullAccessScopes,
  type Level,
  levelsFromScopes,
  restrictedAreas,
  scopesFor,
  scopesForRequest,
  scopesFromLevels,
} from '../../console/src/permissions.js';
import sendgridJson from '../../shared/catalogue/sendgrid-scopes.json' with { type: 'json' };
import { SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';

/**
 * The console's permission picker, fed the areas as `GET /v3/scopes/areas` answers them: SendGrid's
 * (a deployment without a config) and a small team catalogue without SendGrid.
 */

/** What the API answers without a config: SendGrid's categories, in the catalogue's order. */
const SENDGRID: readonly Area[] = SENDGRID_CATALOGUE.areas.map(
  ({ id, label, billing, read, full }) => ({ id, label, billing, read, full }),
);

/**
 * A team's deployment with `preset: "none"`: Keygate's own API Keys area, its invoices, a
 * billing area whose scopes do not start with `billing`, and a non-billing area whose do.
 */
const TEAM: readonly Area[] = [
  {
    id: 'API Keys',
    label: 'API Keys',
    billing: false,
    read: ['api_keys.read'],
    full: ['api_keys.create', 'api_keys.delete', 'api_keys.read', 'api_keys.update'],
  },
  {
    id: 'invoices',
    label: 'Invoices',
    billing: false,
    read: ['invoices.read'],
    full: ['invoices.create', 'invoices.read'],
  },
  {
    id: 'payments',
    label: 'Payments',
    billing: true,
    read: ['payments.read'],
    full: ['payments.charge', 'payments.read'],
  },
  {
    id: 'billing-exports',
    label: 'Billing exports',
    billing: false,
    read: ['billing_exports.read'],
    full: ['billing_exports.read'],
  },
];

/**
 * What the console built its picker from before the route: its own copy of SendGrid's catalogue,
 * with SendGrid's billing rule (a `billing` prefix).
 */
const SENDGRID_CATEGORIES = Object.entries(sendgridJson.categories).map(([name, c]) => ({
  name,
  ...c,
}));
const isBillingScope = (scope: string) => scope.startsWith('billing');

const TEAM_OWNER = [...new Set(TEAM.flatMap((a) => a.full))].sort();
const SENDGRID_OWNER = [...SENDGRID_CATALOGUE.all];

const byLabel = (areas: readonly Area[], label: string): Area => {
  const area = areas.find((a) => a.label === label);
  if (!area) throw new Error(`no area ${label}`);
  return area;
};

const levelsArb = (areas: readonly Area[]) =>
  fc.record(
    Object.fromEntries(
      restrictedAreas(areas).map((a) => [
        a.id,
        fc
          .constantFrom<Level>('none', 'read', 'full')
          .filter((l) => l === 'none' || scopesFor(a, l).length > 0),
      ]),
    ),
  );

describe('SendGrid’s areas (no config): the picker the console always showed', () => {
  it('has a row per non-billing category, in the catalogue’s order, with its name and scopes', () => {
    // Arrange: the picker as the console built it from its own copy of the catalogue
    const before = SENDGRID_CATEGORIES.filter((c) => !c.scopes.every(isBillingScope));

    // Act
    const rows = restrictedAreas(SENDGRID);

    // Assert
    expect(rows.map((a) => a.label)).toEqual(before.map((c) => c.name));
    expect(rows.map((a) => [a.read, a.full])).toEqual(before.map((c) => [c.read, c.full]));
    expect(rows.map((a) => a.label)).toContain('API Keys');
    expect(rows.map((a) => a.label)).not.toContain('Billing');
  });

  it('grants the Billing category’s scopes with Billing Access', () => {
    const billing = SENDGRID_CATEGORIES.find((c) => c.name === 'Billing');

    expect(billingScopes(SENDGRID)).toEqual(billing?.full);
    expect(billingScopes(SENDGRID).every(isBillingScope)).toBe(true);
  });

  it('shows each row at the highest level a key’s scopes cover', () => {
    // Arrange
    const mail = byLabel(SENDGRID, 'Mail');
    const apiKeys = byLabel(SENDGRID, 'API Keys');

    // Act
    const levels = levelsFromScopes(SENDGRID, [...mail.full, ...apiKeys.read, 'alerts.create']);

    // Assert: keyed by area ID; a partial Full without Read is No Access
    expect(levels).toMatchObject({ Mail: 'full', 'API Keys': 'read', Alerts: 'none' });
    expect(Object.keys(levels)).toEqual(restrictedAreas(SENDGRID).map((a) => a.id));
    expect(Object.values(levelsFromScopes(SENDGRID, [])).every((l) => l === 'none')).toBe(true);
  });

  it('grants what the chosen levels say, sorted', () => {
    expect(scopesFromLevels(SENDGRID, { Mail: 'read', Alerts: 'full', Teammates: 'none' })).toEqual(
      [...byLabel(SENDGRID, 'Alerts').full, ...byLabel(SENDGRID, 'Mail').read].sort(),
    );
    expect(scopesFromLevels(SENDGRID, {})).toEqual([]);
  });

  it('round-trips: the levels an Edit shows grant what the key holds', () => {
    fc.assert(
      fc.property(levelsArb(SENDGRID), (levels) => {
        const scopes = scopesFromLevels(SENDGRID, levels);
        expect(scopesFromLevels(SENDGRID, levelsFromScopes(SENDGRID, scopes))).toEqual(scopes);
      }),
    );
  });

  it('Full Access is every non-billing scope the signed-in key holds', () => {
    // Act
    const full = fullAccessScopes(SENDGRID, SENDGRID_OWNER);

    // Assert
    expect(full).toEqual(SENDGRID_OWNER.filter((s) => !isBillingScope(s)));
    expect(fullAccessScopes(SENDGRID, ['mail.send', 'api_keys.read', 'billing.read'])).toEqual([
      'api_keys.read',
      'mail.send',
    ]);
  });

  it.each<[string, string[], AccessType]>([
    [
      'every non-billing scope of the caller',
      SENDGRID_OWNER.filter((s) => !isBillingScope(s)),
      'full',
    ],
    ['billing scopes only', ['billing.read'], 'billing'],
    ['some scopes', ['mail.send', 'alerts.read'], 'restricted'],
    ['no scopes', [], 'restricted'],
    ['every scope, billing included', SENDGRID_OWNER, 'restricted'],
  ])('shows a key with %s as %s', (_, scopes, type) => {
    expect(accessTypeOf(SENDGRID, scopes, SENDGRID_OWNER)).toBe(type);
  });

  it('asks for each access type’s scopes', () => {
    // Arrange
    const caller = ['api_keys.read', 'mail.send', 'billing.read', 'alerts.read'];

    // Act / Assert
    expect(scopesForRequest(SENDGRID, 'full', { Mail: 'full' }, caller)).toEqual([
      'alerts.read',
      'api_keys.read',
      'mail.send',
    ]);
    expect(scopesForRequest(SENDGRID, 'billing', {}, caller)).toEqual(billingScopes(SENDGRID));
    expect(scopesForRequest(SENDGRID, 'restricted', { Alerts: 'read' }, caller)).toEqual([
      'alerts.read',
    ]);
  });
});

describe('a team’s areas (no SendGrid)', () => {
  it('shows the team’s non-billing areas as rows, in the API’s order, by their labels', () => {
    expect(restrictedAreas(TEAM).map((a) => a.label)).toEqual([
      'API Keys',
      'Invoices',
      'Billing exports',
    ]);
  });

  it('grants the team’s billing area with Billing Access, whatever its scopes are called', () => {
    expect(billingScopes(TEAM)).toEqual(['payments.charge', 'payments.read']);
    expect(accessTypeOf(TEAM, ['payments.read'], TEAM_OWNER)).toBe('billing');
  });

  it('takes a scope for billing only when a billing area holds it, not by its name', () => {
    // Act
    const full = fullAccessScopes(TEAM, TEAM_OWNER);

    // Assert
    expect(full).toContain('billing_exports.read');
    expect(full).not.toContain('payments.read');
    expect(accessTypeOf(TEAM, ['billing_exports.read'], TEAM_OWNER)).toBe('restricted');
    expect(accessTypeOf(TEAM, full, TEAM_OWNER)).toBe('full');
  });

  it('maps a key’s scopes to Read or Full Access per area, by area ID', () => {
    expect(levelsFromScopes(TEAM, ['invoices.read'])).toEqual({
      'API Keys': 'none',
      invoices: 'read',
      'billing-exports': 'none',
    });
    expect(levelsFromScopes(TEAM, ['invoices.create', 'invoices.read', 'api_keys.read'])).toEqual({
      'API Keys': 'read',
      invoices: 'full',
      'billing-exports': 'none',
    });
  });

  it('grants the chosen levels', () => {
    expect(
      scopesFromLevels(TEAM, { invoices: 'full', 'billing-exports': 'read', payments: 'full' }),
    ).toEqual(['billing_exports.read', 'invoices.create', 'invoices.read']);
  });

  it('round-trips: the levels an Edit shows grant what the key holds', () => {
    fc.assert(
      fc.property(levelsArb(TEAM), (levels) => {
        const scopes = scopesFromLevels(TEAM, levels);
        expect(scopesFromLevels(TEAM, levelsFromScopes(TEAM, scopes))).toEqual(scopes);
      }),
    );
  });

  it('leaves scopes the deployment does not declare out of Full Access (the API refuses them)', () => {
    expect(fullAccessScopes(TEAM, ['invoices.read', 'mail.send', 'api_keys.read'])).toEqual([
      'api_keys.read',
      'invoices.read',
    ]);
  });

  it('offers no Billing Access without a billing area, and never shows a key as billing', () => {
    // Arrange
    const noBilling = TEAM.filter((a) => !a.billing);

    // Act / Assert
    expect(billingScopes(noBilling)).toEqual([]);
    expect(accessTypeOf(noBilling, ['payments.read'], TEAM_OWNER)).toBe('restricted');
    expect(scopesForRequest(noBilling, 'full', {}, TEAM_OWNER)).toEqual(
      fullAccessScopes(TEAM, TEAM_OWNER),
    );
  });

  it('disables a level the signed-in key cannot grant', () => {
    // Arrange: a key that reads invoices and manages keys
    const held = new Set(['invoices.read', 'api_keys.read', 'api_keys.create']);
    const invoices = byLabel(TEAM, 'Invoices');

    // Act / Assert
    expect(canGrant(held, scopesFor(invoices, 'read'))).toBe(true);
    expect(canGrant(held, scopesFor(invoices, 'full'))).toBe(false);
    expect(canGrant(held, billingScopes(TEAM))).toBe(false);
    expect(canGrant(held, scopesFor(invoices, 'none'))).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError, ForbiddenError } from '../../shared/domain/errors.js';
import {
  ALL_SCOPES,
  AUTO_ASSIGNED_SCOPES,
  BILLING_MIX_MESSAGE,
  checkCanManage,
  isBillingScope,
  keyTypeOf,
  resolveGrant,
  SCOPE_CATEGORIES,
} from '../../shared/domain/scopes.js';
import { failure, unwrap } from './support.js';

const KNOWN = new Set(ALL_SCOPES);
const BILLING = ALL_SCOPES.filter(isBillingScope);
const NON_BILLING = ALL_SCOPES.filter((s) => !isBillingScope(s));
const AUTO_ASSIGNED = [...AUTO_ASSIGNED_SCOPES];

const sortedUnique = (scopes: Iterable<string>): string[] => [...new Set(scopes)].sort();

const scopesArb = fc.subarray([...ALL_SCOPES]);
const nonBillingArb = (minLength = 0) => fc.subarray(NON_BILLING, { minLength });
const billingArb = (minLength = 0) => fc.subarray(BILLING, { minLength });
const unknownScopeArb = fc
  .string({ minLength: 1, maxLength: 30 })
  .filter((s) => !KNOWN.has(s) && !AUTO_ASSIGNED_SCOPES.has(s));
/** Requests may repeat scopes and list them in any order. */
const shuffledWithDuplicates = (scopes: string[]) =>
  fc
    .subarray(scopes)
    .chain((dups) =>
      fc.shuffledSubarray([...scopes, ...dups], { minLength: scopes.length + dups.length }),
    );

describe('the scope catalogue', () => {
  it('contains the billing and API-key scopes', () => {
    // Act
    const scopes = new Set(ALL_SCOPES);

    // Assert
    for (const scope of [
      'billing.create',
      'billing.delete',
      'billing.read',
      'billing.update',
      'api_keys.create',
      'api_keys.delete',
      'api_keys.read',
      'api_keys.update',
      'mail.send',
      'alerts.read',
    ]) {
      expect(scopes.has(scope), scope).toBe(true);
    }
  });

  it('lists ALL_SCOPES sorted and without duplicates', () => {
    // Act
    const expected = sortedUnique(ALL_SCOPES);

    // Assert
    expect(ALL_SCOPES).toEqual(expected);
    expect(ALL_SCOPES.length).toBeGreaterThan(100);
  });

  it('holds every scope of every category in ALL_SCOPES', () => {
    // Act
    const fromCategories = sortedUnique(SCOPE_CATEGORIES.flatMap((c) => c.scopes));

    // Assert
    expect(fromCategories).toEqual(ALL_SCOPES);
  });

  it('makes every category full level a superset of its read level', () => {
    for (const category of SCOPE_CATEGORIES) {
      // Act
      const full = new Set(category.full);

      // Assert
      expect(category.read.length, category.name).toBeGreaterThan(0);
      for (const scope of category.read)
        expect(full.has(scope), `${category.name}: ${scope}`).toBe(true);
      for (const scope of category.full) {
        expect(category.scopes.includes(scope), `${category.name}: ${scope}`).toBe(true);
      }
    }
  });

  it('keeps auto-assigned scopes out of the grantable catalogue', () => {
    // Act
    const overlap = AUTO_ASSIGNED.filter((s) => KNOWN.has(s));

    // Assert
    expect(AUTO_ASSIGNED).toContain('2fa_required');
    expect(overlap).toEqual([]);
  });
});

describe('isBillingScope and keyTypeOf', () => {
  it('treats exactly the scopes starting with "billing" as billing scopes', () => {
    // Act
    const billing = ALL_SCOPES.filter(isBillingScope);

    // Assert
    expect(billing).toEqual(['billing.create', 'billing.delete', 'billing.read', 'billing.update']);
    expect(isBillingScope('mail.send')).toBe(false);
  });

  it('types a non-empty all-billing set as billing and anything else as general', () => {
    fc.assert(
      fc.property(scopesArb, (scopes) => {
        // Act
        const type = keyTypeOf(scopes);

        // Assert
        const allBilling = scopes.length > 0 && scopes.every((s) => s.startsWith('billing'));
        expect(type).toBe(allBilling ? 'billing' : 'general');
      }),
    );
  });
});

describe('resolveGrant', () => {
  describe('with scopes omitted (Full Access)', () => {
    it('grants every known scope of the caller except billing, sorted', () => {
      fc.assert(
        fc.property(
          scopesArb,
          fc.subarray(AUTO_ASSIGNED),
          fc.array(unknownScopeArb, { maxLength: 3 }),
          (held, auto, unknown) => {
            // Arrange
            const caller = [...unknown, ...auto, ...held].reverse();
            const expected = sortedUnique(held.filter((s) => !isBillingScope(s)));
            fc.pre(expected.length > 0);

            // Act
            const granted = unwrap(resolveGrant(caller, undefined));

            // Assert
            expect(granted).toEqual({ scopes: expected, type: 'general' });
            expect(granted.scopes.some(isBillingScope)).toBe(false);
            for (const scope of granted.scopes) expect(caller).toContain(scope);
          },
        ),
      );
    });

    it('refuses with 400 when the caller holds nothing grantable', () => {
      fc.assert(
        fc.property(billingArb(), fc.subarray(AUTO_ASSIGNED), (billing, auto) => {
          // Act
          const error = failure(resolveGrant([...billing, ...auto], undefined));

          // Assert
          expect(error).toBeInstanceOf(BadRequestError);
          expect(error.code).toBe('bad_request');
          expect(error.errors[0]?.field).toBe('scopes');
        }),
      );
    });
  });

  it('rejects unknown scopes with 400 on the scopes field, naming them', () => {
    fc.assert(
      fc.property(
        scopesArb,
        scopesArb,
        fc.uniqueArray(unknownScopeArb, { minLength: 1, maxLength: 5 }),
        (held, known, unknown) => {
          // Arrange
          const requested = [...known, ...unknown];

          // Act
          const error = failure(resolveGrant(held, requested));

          // Assert
          expect(error).toBeInstanceOf(BadRequestError);
          expect(error.code).toBe('bad_request');
          expect(error.errors).toHaveLength(1);
          expect(error.errors[0]?.field).toBe('scopes');
          for (const scope of unknown) expect(error.message).toContain(JSON.stringify(scope));
          for (const scope of known) expect(error.message).not.toContain(JSON.stringify(scope));
        },
      ),
    );
  });

  it('rejects billing scopes mixed with any other scope with 400, whatever the caller holds', () => {
    fc.assert(
      fc.property(scopesArb, billingArb(1), nonBillingArb(1), (held, billing, other) => {
        // Arrange
        const requested = [...other, ...billing];

        // Act
        const error = failure(resolveGrant(held, requested));

        // Assert
        expect(error.code).toBe('bad_request');
        expect(error.errors).toEqual([
          {
            field: 'scopes',
            message:
              'An API Key can either have billing permissions or any other set of permissions but not both.',
          },
        ]);
        expect(error.message).toBe(BILLING_MIX_MESSAGE);
      }),
    );
  });

  it('types a billing-only grant as billing', () => {
    fc.assert(
      fc.property(billingArb(1), (billing) => {
        // Act
        const granted = unwrap(resolveGrant(ALL_SCOPES, billing));

        // Assert
        expect(granted).toEqual({ scopes: sortedUnique(billing), type: 'billing' });
      }),
    );
  });

  it('refuses with 403 to grant scopes the caller lacks, naming them', () => {
    fc.assert(
      fc.property(
        fc.oneof(nonBillingArb(1), billingArb(1)).chain((requested) =>
          fc.record({
            requested: fc.constant(requested),
            held: fc.subarray([...ALL_SCOPES]),
          }),
        ),
        ({ requested, held }) => {
          // Arrange
          const missing = requested.filter((s) => !held.includes(s)).sort();
          fc.pre(missing.length > 0);

          // Act
          const error = failure(resolveGrant(held, requested));

          // Assert
          expect(error).toBeInstanceOf(ForbiddenError);
          expect(error.code).toBe('forbidden');
          expect(error.errors[0]?.field).toBe('scopes');
          for (const scope of missing.slice(0, 10)) {
            expect(error.message).toContain(JSON.stringify(scope));
          }
          for (const scope of requested.filter((s) => held.includes(s))) {
            expect(error.message).not.toContain(JSON.stringify(scope));
          }
        },
      ),
    );
  });

  it('cuts a long list of missing scopes in the message', () => {
    // Arrange
    const requested = NON_BILLING.slice(0, 15);

    // Act
    const error = failure(resolveGrant(['mail.send'], requested));

    // Assert
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(/ and \d+ more$/);
  });

  it('returns a grant that is sorted, unique, a subset of the caller and typed by its scopes', () => {
    const requestArb = fc
      .oneof(nonBillingArb(1), billingArb(1), scopesArb)
      .chain((scopes) => shuffledWithDuplicates(scopes));
    fc.assert(
      fc.property(scopesArb, requestArb, fc.subarray(AUTO_ASSIGNED), (held, requested, auto) => {
        // Act
        const result = resolveGrant(held, [...requested, ...auto]);

        // Assert
        if (!result.ok) return;
        const { scopes, type } = result.value;
        expect(scopes).toEqual(sortedUnique(requested));
        expect(scopes.length).toBeGreaterThan(0);
        for (const scope of scopes) expect(held).toContain(scope);
        expect(type).toBe(scopes.every(isBillingScope) ? 'billing' : 'general');
      }),
    );
  });

  it('grants exactly the requested scopes whenever the caller holds them all', () => {
    fc.assert(
      fc.property(fc.oneof(nonBillingArb(1), billingArb(1)), scopesArb, (requested, extra) => {
        // Arrange
        const held = [...extra, ...requested];

        // Act
        const result = resolveGrant(held, requested);

        // Assert
        expect(result.ok).toBe(true);
        expect(result.ok && result.value.scopes).toEqual(sortedUnique(requested));
      }),
    );
  });

  it('drops auto-assigned scopes such as 2fa_required instead of failing', () => {
    fc.assert(
      fc.property(
        nonBillingArb(1),
        fc.subarray(AUTO_ASSIGNED, { minLength: 1 }),
        (wanted, auto) => {
          // Arrange
          const requested = [...auto, ...wanted];

          // Act
          const granted = unwrap(resolveGrant(ALL_SCOPES, requested));

          // Assert
          expect(granted.scopes).toEqual(sortedUnique(wanted));
          for (const scope of auto) expect(granted.scopes).not.toContain(scope);
        },
      ),
    );
  });

  it('drops 2fa_required next to billing scopes without calling it a mix', () => {
    // Act
    const granted = unwrap(resolveGrant(ALL_SCOPES, ['2fa_required', 'billing.read']));

    // Assert
    expect(granted).toEqual({ scopes: ['billing.read'], type: 'billing' });
  });

  it('rejects an empty list with 400', () => {
    // Act
    const error = failure(resolveGrant(ALL_SCOPES, []));

    // Assert
    expect(error.code).toBe('bad_request');
    expect(error.errors[0]?.field).toBe('scopes');
  });

  it('rejects a list of only auto-assigned scopes with 400', () => {
    // Act
    const error = failure(resolveGrant(ALL_SCOPES, ['2fa_required']));

    // Assert
    expect(error.code).toBe('bad_request');
    expect(error.errors[0]?.field).toBe('scopes');
  });

  it('does not modify the arrays it is given', () => {
    // Arrange
    const held = ['mail.send', 'alerts.read'];
    const requested = ['mail.send', 'mail.send'];

    // Act
    resolveGrant(held, requested);
    resolveGrant(held, undefined);

    // Assert
    expect(held).toEqual(['mail.send', 'alerts.read']);
    expect(requested).toEqual(['mail.send', 'mail.send']);
  });
});

describe('checkCanManage', () => {
  it('allows managing a key exactly when the caller holds all of its scopes', () => {
    fc.assert(
      fc.property(scopesArb, scopesArb, (caller, target) => {
        // Arrange
        const isSubset = target.every((s) => caller.includes(s));

        // Act
        const result = checkCanManage(caller, target);

        // Assert
        expect(result.ok).toBe(isSubset);
        if (!result.ok) {
          expect(result.error.code).toBe('forbidden');
          const firstMissing = target.filter((s) => !caller.includes(s)).sort()[0];
          expect(result.error.message).toContain(JSON.stringify(firstMissing));
        }
      }),
    );
  });

  it('always allows managing a key with a subset of the caller scopes', () => {
    fc.assert(
      fc.property(
        scopesArb.chain((caller) =>
          fc.record({ caller: fc.constant(caller), target: fc.subarray(caller) }),
        ),
        ({ caller, target }) => {
          // Act
          const result = checkCanManage(caller, target);

          // Assert
          expect(result).toEqual({ ok: true, value: true });
        },
      ),
    );
  });
});

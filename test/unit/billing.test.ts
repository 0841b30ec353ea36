import { describe, expect, it } from 'vitest';
import { bootstrapAccount, DEFAULT_PLAN } from '../../shared/domain/accounts.js';
import type { Caller } from '../../shared/domain/api-keys.js';
import { getBillingProfile, updateBillingProfile } from '../../shared/domain/billing.js';
import { BadRequestError, ServiceUnavailableError } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/domain/ports.js';
import { ALL_SCOPES } from '../../shared/domain/scopes.js';
import {
  CONTACT_FIELDS,
  EMPTY_UPDATE_MESSAGE,
  PLAN_READ_ONLY_MESSAGE,
  UpdateBillingProfileBody,
} from '../../shared/schemas/billing.js';
import { failure, makeDeps, START, unwrap } from './support.js';

async function newOwner(deps: Deps, name = 'acme', plan?: string): Promise<Caller> {
  const account = unwrap(
    await bootstrapAccount(deps, { name, ...(plan === undefined ? {} : { plan }) }),
  );
  return { accountId: account.accountId, keyId: account.keyId, type: 'owner', scopes: ALL_SCOPES };
}

/** Parses a body exactly as the handler does, then applies it. */
async function patch(deps: Deps, caller: Caller, body: unknown) {
  return updateBillingProfile(deps, caller, UpdateBillingProfileBody.parse(body));
}

/** The `{field, message}` pairs a body is refused with, or [] when it parses. */
function refusals(body: unknown): { field: string | null; message: string }[] {
  const parsed = UpdateBillingProfileBody.safeParse(body);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({
    field: issue.path[0] === undefined ? null : String(issue.path[0]),
    message: issue.message,
  }));
}

const FULL_CONTACT = {
  first_name: 'Ada',
  last_name: 'Lovelace',
  email: 'ada@example.com',
  company: 'Analytical Engines Ltd',
  address1: '12 St James Square',
  address2: 'Floor 2',
  city: 'London',
  state: 'Greater London',
  zip: 'SW1Y 4JH',
  country: 'GB',
  phone: '+44 20 7946 0000',
};

describe('getBillingProfile', () => {
  it('answers the default plan and an empty, never-updated contact after bootstrap', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps);

    // Act
    const profile = unwrap(await getBillingProfile(deps, owner));

    // Assert
    expect(profile).toEqual({ plan: 'free', contact: {}, updatedAt: null });
    expect(DEFAULT_PLAN).toBe('free');
  });

  it('answers the plan given at bootstrap', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps, 'acme', 'pro-2026');

    // Act
    const profile = unwrap(await getBillingProfile(deps, owner));

    // Assert
    expect(profile.plan).toBe('pro-2026');
  });

  it('answers 503, not 404, when the caller account has vanished', async () => {
    // Arrange
    const { deps } = makeDeps();
    const ghost: Caller = { accountId: 'gone', keyId: 'k', type: 'owner', scopes: ALL_SCOPES };

    // Act
    const error = failure(await getBillingProfile(deps, ghost));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.code).toBe('unavailable');
  });
});

describe('bootstrapAccount plan', () => {
  it.each(['', 'Pro', 'pro plan', `p${'x'.repeat(63)}`, '-pro'])(
    'refuses the plan %j',
    async (plan) => {
      // Arrange
      const { deps } = makeDeps();

      // Act
      const error = failure(await bootstrapAccount(deps, { name: 'acme', plan }));

      // Assert
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error.errors[0]?.field).toBe('plan');
      expect(await deps.repo.findAccountIdByName('acme')).toBeUndefined();
    },
  );
});

describe('updateBillingProfile', () => {
  it('sets every contact field and answers the whole profile with the update time', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps);

    // Act
    const updated = unwrap(await patch(deps, owner, FULL_CONTACT));

    // Assert
    expect(updated.plan).toBe('free');
    expect(updated.contact).toEqual(FULL_CONTACT);
    expect(Object.keys(updated.contact)).toEqual([...CONTACT_FIELDS]);
    expect(updated.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(updated.updatedAt ?? '')).toBeGreaterThan(START);
    expect(unwrap(await getBillingProfile(deps, owner))).toEqual(updated);
  });

  it('keeps omitted fields, replaces given ones and clears fields sent as null', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps);
    const first = unwrap(await patch(deps, owner, FULL_CONTACT));

    // Act
    const second = unwrap(
      await patch(deps, owner, { city: 'Paris', country: 'FR', address2: null, phone: null }),
    );

    // Assert
    const { address2: _a, phone: _p, ...kept } = FULL_CONTACT;
    expect(second.contact).toEqual({ ...kept, city: 'Paris', country: 'FR' });
    expect(second.contact).not.toHaveProperty('address2');
    expect(second.updatedAt).not.toBe(first.updatedAt);
    expect(unwrap(await getBillingProfile(deps, owner)).contact).toEqual(second.contact);
  });

  it('clearing a field that was never set is accepted and still records the update', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps);

    // Act
    const updated = unwrap(await patch(deps, owner, { company: null }));

    // Assert
    expect(updated.contact).toEqual({});
    expect(updated.updatedAt).not.toBeNull();
  });

  it('trims values and upper-cases the country code', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps);

    // Act
    const updated = unwrap(
      await patch(deps, owner, {
        first_name: '  Ada ',
        email: ' ada@example.com\t',
        country: 'gb',
      }),
    );

    // Assert
    expect(updated.contact).toEqual({ first_name: 'Ada', email: 'ada@example.com', country: 'GB' });
  });

  it('never touches another account', async () => {
    // Arrange
    const { deps } = makeDeps();
    const owner = await newOwner(deps, 'acme');
    const other = await newOwner(deps, 'other', 'enterprise');
    unwrap(await patch(deps, other, { first_name: 'Grace', email: 'grace@example.com' }));

    // Act
    unwrap(await patch(deps, owner, FULL_CONTACT));
    unwrap(await patch(deps, owner, { first_name: null }));

    // Assert
    expect(unwrap(await getBillingProfile(deps, other))).toEqual({
      plan: 'enterprise',
      contact: { first_name: 'Grace', email: 'grace@example.com' },
      updatedAt: expect.any(String),
    });
    expect(unwrap(await getBillingProfile(deps, owner)).contact).not.toHaveProperty('first_name');
  });

  it('refuses an update that neither sets nor clears a field, and writes nothing', async () => {
    // Arrange
    const { deps, repo } = makeDeps();
    const owner = await newOwner(deps);

    // Act
    const error = failure(await updateBillingProfile(deps, owner, {}));

    // Assert
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.errors).toEqual([{ field: null, message: EMPTY_UPDATE_MESSAGE }]);
    expect((await repo.getBillingProfile(owner.accountId))?.updatedAt).toBeUndefined();
  });

  it('answers 503 and writes nothing when the caller account has vanished', async () => {
    // Arrange
    const { deps, repo } = makeDeps();
    const ghost: Caller = { accountId: 'gone', keyId: 'k', type: 'owner', scopes: ALL_SCOPES };

    // Act
    const error = failure(await patch(deps, ghost, { city: 'Paris' }));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(await repo.getBillingProfile('gone')).toBeUndefined();
  });
});

describe('UpdateBillingProfileBody', () => {
  it.each(['pro', null, 0, {}, 'free'])(
    'refuses the plan %j, alone or with valid fields',
    (plan) => {
      // Act
      const alone = refusals({ plan });
      const withContact = refusals({ plan, city: 'Paris' });

      // Assert
      expect(alone).toEqual([{ field: 'plan', message: PLAN_READ_ONLY_MESSAGE }]);
      expect(withContact).toEqual([{ field: 'plan', message: PLAN_READ_ONLY_MESSAGE }]);
    },
  );

  it('requires at least one contact field; unknown fields do not count and are dropped', () => {
    // Act
    const empty = refusals({});
    const unknownOnly = refusals({ website: 'https://example.com', type: 'owner' });
    const mixed = UpdateBillingProfileBody.parse({ city: 'Paris', accountId: 'someone-else' });

    // Assert
    expect(empty).toEqual([{ field: null, message: EMPTY_UPDATE_MESSAGE }]);
    expect(unknownOnly).toEqual([{ field: null, message: EMPTY_UPDATE_MESSAGE }]);
    expect(mixed).toEqual({ city: 'Paris' });
  });

  it.each([
    [{ first_name: 42 }, 'first_name', 'first_name must be a string or null'],
    [{ last_name: ['x'] }, 'last_name', 'last_name must be a string or null'],
    [{ city: '   ' }, 'city', 'city must not be empty (send null to clear it)'],
    [{ company: 'x'.repeat(101) }, 'company', 'company must be at most 100 characters'],
    [{ address1: 'line\nbreak' }, 'address1', 'address1 must not contain control characters'],
    [{ address2: 'nul\u0000' }, 'address2', 'address2 must not contain control characters'],
    [{ state: 'c1\u0085' }, 'state', 'state must not contain control characters'],
    [{ email: 'not-an-email' }, 'email', 'email must be a valid email address'],
    [{ email: 'a@b' }, 'email', 'email must be a valid email address'],
    [{ email: `${'a'.repeat(250)}@example.com` }, 'email', 'email must be at most 254 characters'],
    [{ country: 'USA' }, 'country', 'country must be a 2-letter ISO 3166-1 country code'],
    [{ country: 'U1' }, 'country', 'country must be a 2-letter ISO 3166-1 country code'],
    [{ country: '' }, 'country', 'country must be a 2-letter ISO 3166-1 country code'],
    [{ zip: '941#07' }, 'zip', 'zip may contain only letters, digits, spaces and "-"'],
    [{ zip: '1'.repeat(17) }, 'zip', 'zip must be at most 16 characters'],
    [
      { phone: 'call me' },
      'phone',
      'phone may contain only digits, spaces, "+", "-", ".", "(" and ")"',
    ],
    [
      { phone: '()-' },
      'phone',
      'phone may contain only digits, spaces, "+", "-", ".", "(" and ")"',
    ],
  ])('refuses %j', (body, field, message) => {
    // Act
    const errors = refusals(body);

    // Assert
    expect(errors).toEqual([{ field, message }]);
  });

  it('accepts usual real-world values', () => {
    // Act
    const errors = [
      FULL_CONTACT,
      { zip: '94107-1234', phone: '(555) 010-0000', email: "o'brien+billing@mail.example.co.uk" },
      { first_name: 'Zoë', last_name: 'Ōkubo-Nuñez', city: 'São Paulo', country: 'BR' },
      { company: 'x'.repeat(100) },
    ].map(refusals);

    // Assert
    expect(errors).toEqual([[], [], [], []]);
  });

  it('reports each invalid field of one body', () => {
    // Act
    const errors = refusals({ email: 'nope', country: 'Narnia', plan: 'pro', city: 'Paris' });

    // Assert
    expect(errors.map((e) => e.field).sort()).toEqual(['country', 'email', 'plan']);
  });
});

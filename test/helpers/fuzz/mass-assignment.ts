import fc from 'fast-check';
import { expect } from 'vitest';
import { itemScopes } from '../../../shared/adapters/dynamodb/keys-repository.js';
import { storedItem } from '../table-items.js';
import type { Fixtures } from './gateway.js';
import { BILLING_SCOPES, GENERAL_SCOPES, j, objectBody, validName } from './values.js';

/**
 * The arrange helpers of the mass-assignment property: what it sends (valid bodies among
 * server-owned fields), and the stored items it reads back.
 */

/** The attributes a stored key may have (no schema names them: they are the table's). */
const KEY_ATTRIBUTES = new Set([
  'keyId',
  'accountId',
  'name',
  'scopeCodes',
  'type',
  'keyHash',
  'createdAt',
  'updatedAt',
  'version',
  'expiresAt',
  'allowedIps',
  'lastUsedAt',
  'lastUsedIp',
  'previousKeyHash',
  'previousValidUntil',
]);

/**
 * A key's plan (its scopes, names, the company of the billing update) and the five bodies sent
 * for it: create, rename, replace, roll and billing update, each among server-owned fields.
 */
export function massAssignmentArb(fx: Fixtures) {
  const scopesArb = fc.oneof(
    fc.constant(undefined),
    fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 5 }),
    fc.subarray([...BILLING_SCOPES], { minLength: 1 }),
  );
  const withScopes = (scopes: string[] | undefined) =>
    scopes === undefined ? [] : ([['scopes', fc.constant(j(scopes))]] as const);
  return fc
    .record({
      scopes: scopesArb,
      newScopes: fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 3 }),
      name: validName,
      newName: validName,
      company: fc.integer({ min: 0 }).map((n) => `Acme ${n}`),
    })
    .chain((plan) =>
      fc.record({
        plan: fc.constant(plan),
        create: objectBody(fx, [['name', fc.constant(j(plan.name))], ...withScopes(plan.scopes)]),
        rename: objectBody(fx, [['name', fc.constant(j(plan.newName))]]),
        replace: objectBody(fx, [
          ['name', fc.constant(j(plan.newName))],
          ['scopes', fc.constant(j(plan.newScopes))],
        ]),
        roll: objectBody(fx, [], [['grace_seconds', fc.integer({ min: 0, max: 60 }).map(j)]]),
        billing: objectBody(fx, [['company', fc.constant(j(plan.company))]]),
      }),
    );
}

/** A stored key, with no attribute but the table's, and its scopes as the repository reads them. */
export async function storedKey(keyId: string): Promise<Record<string, unknown>> {
  const item = await storedItem('keys', { keyId });
  expect(item, `key ${keyId} is stored`).toBeDefined();
  const attributes = Object.keys(item ?? {});
  expect(
    attributes.filter((a) => !KEY_ATTRIBUTES.has(a)),
    'unexpected attributes',
  ).toEqual([]);
  const record = item as Record<string, unknown>;
  return { ...record, scopes: itemScopes(record) };
}

/** An account's stored item. */
export async function storedAccount(accountId: string): Promise<Record<string, unknown>> {
  return (await storedItem('accounts', { pk: `account#${accountId}` })) as Record<string, unknown>;
}

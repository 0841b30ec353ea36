import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { hashApiKey } from '../../shared/domain/key-format.js';
import { keyTypeOf } from '../../shared/domain/scopes.js';
import {
  ApiKeyView,
  CreatedApiKey,
  RenamedApiKey,
  RolledApiKey,
} from '../../shared/schemas/api-keys.js';
import { BillingProfile, CONTACT_FIELDS } from '../../shared/schemas/billing.js';
import * as fuzz from '../helpers/fuzz/gateway.js';
import { massAssignmentArb, storedAccount, storedKey } from '../helpers/fuzz/mass-assignment.js';
import { newAccount } from '../helpers/harness.js';
import { bodyAs } from '../helpers/typed-body.js';

/** The fields of each answer, from its schema: a field added to one is expected here too. */
const CREATED_FIELDS = Object.keys(CreatedApiKey.shape).sort();
const RENAMED_FIELDS = Object.keys(RenamedApiKey.shape).sort();

/**
 * Hostile input (issue 8; what every response must be: test/helpers/fuzz/gateway.ts): bodies
 * that also set server-owned fields (the answers' own, the stored items' attributes, prototype
 * keys) change nothing of them.
 */
describe(`hostile input, fuzzed through the gateway: mass assignment (seed ${fuzz.SEED})`, () => {
  const fixtures = fuzz.useFixtures();

  it(
    'never lets a body set server-owned fields of a key or an account (mass assignment)',
    async () => {
      // Arrange: an account with room for every key the property creates.
      const arb = massAssignmentArb(fixtures());
      const account = await newAccount({ keyLimit: 10_000 });
      const auth = {
        Authorization: `Bearer ${account.ownerKey}`,
        'Content-Type': 'application/json',
      };
      let sent = 0;
      const request = async <S extends z.ZodType>(
        method: string,
        path: string,
        body: string,
        answer: S,
      ) => {
        const response = await fuzz.send({ method, path, headers: auth, body });
        sent += 1;
        const where = `${method} ${path} ${body} → ${response.status}`;
        return { status: response.status, body: bodyAs(answer, JSON.parse(response.body), where) };
      };

      // Act / Assert
      await fc.assert(
        fc.asyncProperty(arb, async ({ plan, create, rename, replace, roll, billing }) => {
          // Create: the account, type, hash, version and counters are the server's.
          const accountBefore = await storedAccount(account.accountId);
          const created = await request('POST', '/v3/api_keys', create, CreatedApiKey);
          expect(created.status, create).toBe(201);
          expect(Object.keys(created.body).sort()).toEqual(CREATED_FIELDS);
          const keyId = created.body.api_key_id;
          const expectedType = plan.scopes === undefined ? 'general' : keyTypeOf(plan.scopes);
          expect(created.body.type).toBe(expectedType);
          let item = await storedKey(keyId);
          expect(item).toMatchObject({
            keyId,
            accountId: account.accountId,
            type: expectedType,
            keyHash: hashApiKey(created.body.api_key),
            version: 1,
            name: plan.name.trim(),
          });
          const { keyCount, ...accountRest } = await storedAccount(account.accountId);
          const { keyCount: countBefore, ...accountRestBefore } = accountBefore;
          expect(keyCount).toBe(Number(countBefore) + 1);
          expect(accountRest).toEqual(accountRestBefore);

          // Rename and replace: only the name and scopes change, and the version by one.
          const renamed = await request('PATCH', `/v3/api_keys/${keyId}`, rename, RenamedApiKey);
          expect(renamed.status, rename).toBe(200);
          expect(Object.keys(renamed.body).sort()).toEqual(RENAMED_FIELDS);
          const afterRename = await storedKey(keyId);
          expect(afterRename).toMatchObject({
            accountId: account.accountId,
            type: expectedType,
            keyHash: item.keyHash,
            version: 2,
            scopes: item.scopes,
            name: plan.newName.trim(),
          });
          const replaced = await request('PUT', `/v3/api_keys/${keyId}`, replace, ApiKeyView);
          expect(replaced.status, replace).toBe(200);
          item = await storedKey(keyId);
          expect(item).toMatchObject({
            accountId: account.accountId,
            type: keyTypeOf(plan.newScopes),
            keyHash: afterRename.keyHash,
            version: 3,
            scopes: [...plan.newScopes].sort(),
          });

          // Roll: a new hash, of the key returned; nothing else of the caller's choosing.
          const rolled = await request('POST', `/v3/api_keys/${keyId}/roll`, roll, RolledApiKey);
          expect(rolled.status, roll).toBe(200);
          const afterRoll = await storedKey(keyId);
          expect(afterRoll).toMatchObject({
            accountId: account.accountId,
            type: keyTypeOf(plan.newScopes),
            keyHash: hashApiKey(rolled.body.api_key),
            version: 4,
            scopes: item.scopes,
          });

          // Billing: the contact changes; the account's own fields do not.
          const before = await storedAccount(account.accountId);
          const updated = await request('PATCH', '/v3/billing/profile', billing, BillingProfile);
          expect(updated.status, billing).toBe(200);
          const after = await storedAccount(account.accountId);
          const strip = ({
            billingContact: _c,
            billingUpdatedAt: _u,
            ...rest
          }: Record<string, unknown>) => rest;
          expect(strip(after)).toEqual(strip(before));
          expect(
            Object.keys(after.billingContact as object).every((f) =>
              (CONTACT_FIELDS as readonly string[]).includes(f),
            ),
          ).toBe(true);
          expect((after.billingContact as Record<string, unknown>).company).toBe(plan.company);
        }),
        fuzz.runs(fuzz.PLAN.massAssignment.runs),
      );
      expect(sent).toBe(fuzz.PLAN.massAssignment.runs * fuzz.PLAN.massAssignment.requests);
      fuzz.expectPrototypesClean();
    },
    fuzz.PROPERTY_TIMEOUT_MS,
  );
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as fuzz from '../helpers/fuzz/gateway.js';
import {
  REFUSABLE_ROUTES,
  REJECTION_FAMILIES,
  rejectedRequestArb,
} from '../helpers/fuzz/requests.js';

/**
 * Hostile input (issue 8; what every response must be: test/helpers/fuzz/gateway.ts). Requests
 * that must be rejected are sent in batches between two snapshots of every stored item of the
 * accounts involved, which must be equal: a rejected request writes nothing.
 */
describe(`hostile input, fuzzed through the gateway: rejected requests (seed ${fuzz.SEED})`, () => {
  const fixtures = fuzz.useFixtures();

  it(`plans at least 10,000 requests per run across the fuzz files (${fuzz.PLANNED_REQUESTS})`, () => {
    expect(fuzz.PLANNED_REQUESTS).toBeGreaterThanOrEqual(10_000);
  });

  it(
    'rejects hostile requests with a 4xx in the envelope, and they write nothing',
    async () => {
      // Arrange
      const fx = fixtures();
      const arb = fc.array(rejectedRequestArb(fx), {
        minLength: fuzz.PLAN.rejected.batch,
        maxLength: fuzz.PLAN.rejected.batch,
      });
      const accounts = [fx.account.accountId, fx.other.accountId];
      const reached = new Set<string>();
      let sent = 0;

      // Act / Assert: each batch between two snapshots of every item of both accounts.
      await fc.assert(
        fc.asyncProperty(arb, async (batch) => {
          const before = await fuzz.snapshot(accounts);
          for (const { family, request, expected } of batch) {
            const response = await fuzz.send(request);
            sent += 1;
            reached.add(family).add(response.routeId ?? '-');
            expect(
              expected,
              `${family}: ${fuzz.summary(request)} → ${response.status} ${response.body.slice(0, 300)}`,
            ).toContain(response.status);
          }
          expect(await fuzz.snapshot(accounts)).toEqual(before);
        }),
        fuzz.runs(fuzz.PLAN.rejected.runs),
      );
      expect(sent).toBeGreaterThanOrEqual(fuzz.PLAN.rejected.runs * fuzz.PLAN.rejected.batch);
      fuzz.expectPrototypesClean();
      // Not vacuous: every kind of rejection, on every route that can refuse anything.
      expect(
        [...REJECTION_FAMILIES, ...REFUSABLE_ROUTES.map((r) => r.id)].filter(
          (x) => !reached.has(x),
        ),
      ).toEqual([]);
    },
    fuzz.PROPERTY_TIMEOUT_MS,
  );
});

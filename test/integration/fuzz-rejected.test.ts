import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectPrototypesClean,
  PLAN,
  PLANNED_REQUESTS,
  PROPERTY_TIMEOUT_MS,
  runs,
  SEED,
  send,
  snapshot,
  summary,
  useFixtures,
} from '../helpers/fuzz/gateway.js';
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
describe(`hostile input, fuzzed through the gateway: rejected requests (seed ${SEED})`, () => {
  const fixtures = useFixtures();

  it(`plans at least 10,000 requests per run across the fuzz files (${PLANNED_REQUESTS})`, () => {
    expect(PLANNED_REQUESTS).toBeGreaterThanOrEqual(10_000);
  });

  it(
    'rejects hostile requests with a 4xx in the envelope, and they write nothing',
    async () => {
      // Arrange
      const fx = fixtures();
      const arb = fc.array(rejectedRequestArb(fx), {
        minLength: PLAN.rejected.batch,
        maxLength: PLAN.rejected.batch,
      });
      const accounts = [fx.account.accountId, fx.other.accountId];
      const reached = new Set<string>();
      let sent = 0;

      // Act / Assert: each batch between two snapshots of every item of both accounts.
      await fc.assert(
        fc.asyncProperty(arb, async (batch) => {
          const before = await snapshot(accounts);
          for (const { family, request, expected } of batch) {
            const response = await send(request);
            sent += 1;
            reached.add(family).add(response.routeId ?? '-');
            expect(
              expected,
              `${family}: ${summary(request)} → ${response.status} ${response.body.slice(0, 300)}`,
            ).toContain(response.status);
          }
          expect(await snapshot(accounts)).toEqual(before);
        }),
        runs(PLAN.rejected.runs),
      );
      expect(sent).toBeGreaterThanOrEqual(PLAN.rejected.runs * PLAN.rejected.batch);
      expectPrototypesClean();
      // Not vacuous: every kind of rejection, on every route that can refuse anything.
      expect(
        [...REJECTION_FAMILIES, ...REFUSABLE_ROUTES.map((r) => r.id)].filter(
          (x) => !reached.has(x),
        ),
      ).toEqual([]);
    },
    PROPERTY_TIMEOUT_MS,
  );
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTE_LIST } from '../../shared/routes.js';
import {
  chaosFixtures,
  randomRequestArb,
  routeShapedArb,
  spareTargets,
} from '../helpers/fuzz/chaos.js';
import * as fuzz from '../helpers/fuzz/gateway.js';
import { REFUSABLE_ROUTES } from '../helpers/fuzz/requests.js';

/**
 * Hostile input (issue 8; what every response must be: test/helpers/fuzz/gateway.ts): random
 * methods, paths, headers, queries and bodies, and route-shaped requests with hostile values,
 * from keys of every kind. They may succeed, but only where a success is plausible.
 */
describe(`hostile input, fuzzed through the gateway: random requests (seed ${fuzz.SEED})`, () => {
  const fixtures = fuzz.useFixtures();

  it(
    'answers random methods, paths, headers, queries and bodies without a 5xx, a 2xx only where plausible',
    async () => {
      // Arrange
      const fx = fixtures();
      const chaos = await chaosFixtures();
      const outcomes = new Set<string>();
      let sent = 0;

      // Act / Assert
      await fc.assert(
        fc.asyncProperty(
          fc
            .tuple(
              fc.oneof(randomRequestArb(fx, chaos), routeShapedArb(fx, chaos)),
              fc.constantFrom(...chaos.disposable),
            )
            .map(([request, spare]) => spareTargets(request, chaos, spare)),
          async (request) => {
            const response = await fuzz.send(request);
            sent += 1;
            outcomes.add(`${response.routeId ?? '-'} ${Math.floor(response.status / 100)}xx`);
            if (response.status >= 300) return;
            const where = `${fuzz.summary(request)} → ${response.status}`;
            const route = ROUTE_LIST.find((r) => r.id === response.routeId);
            expect(route, `a 2xx outside the route table: ${where}`).toBeDefined();
            if (!route) return;
            expect(fuzz.SUCCESS[route.id], where).toContain(response.status);
            if (route.access.kind === 'key') {
              const caller = chaos.callers.find((c) => c.keyId === response.keyId);
              expect(caller, `a 2xx without a working key: ${where}`).toBeDefined();
              expect(
                caller && fuzz.allowed(caller, route),
                `a 2xx for a refused key: ${where}`,
              ).toBe(true);
              if (caller && 'allowedIps' in caller) {
                expect(request.sourceIp ?? '', where).toMatch(/^203\.0\.113\./);
              }
            }
          },
        ),
        fuzz.runs(fuzz.PLAN.chaos),
      );
      expect(sent).toBe(fuzz.PLAN.chaos);
      fuzz.expectPrototypesClean();
      // Not vacuous: every route answered a success, and every route that can refuse, a refusal.
      const missing = [
        ...ROUTE_LIST.map((r) => `${r.id} 2xx`),
        ...REFUSABLE_ROUTES.map((r) => `${r.id} 4xx`),
      ].filter((outcome) => !outcomes.has(outcome));
      expect(missing).toEqual([]);
    },
    fuzz.PROPERTY_TIMEOUT_MS,
  );
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as fuzz from '../helpers/fuzz/gateway.js';
import { unworkingAuthorizationArb, withHeaders } from '../helpers/fuzz/requests.js';
import { countDynamoCommands } from '../helpers/gateway.js';

/**
 * Hostile input (issue 8; what every response must be: test/helpers/fuzz/gateway.ts): an
 * Authorization header that is not a working key, on every route that needs one.
 */
describe(`hostile input, fuzzed through the gateway: Authorization (seed ${fuzz.SEED})`, () => {
  const fixtures = fuzz.useFixtures();

  it(
    'answers 401 to any Authorization that is not a working key, reading DynamoDB only for well-formed keys',
    async () => {
      // Arrange
      const arb = unworkingAuthorizationArb(fixtures());
      const dynamo = countDynamoCommands();
      let sent = 0;

      // Act / Assert
      await fc.assert(
        fc.asyncProperty(arb, async ({ route, request, authorization }) => {
          const readsBefore = dynamo.count;
          const response = await fuzz.send(
            withHeaders(request, { Authorization: authorization.header }),
          );
          sent += 1;
          const where = `${JSON.stringify(authorization.header)} on ${route.method} ${route.path}`;
          expect(response.status, where).toBe(401);
          expect(JSON.parse(response.body), where).toEqual({
            errors: [{ field: null, message: 'authorization required' }],
          });
          expect(dynamo.count - readsBefore, `DynamoDB commands for ${where}`).toBe(
            authorization.reads,
          );
        }),
        fuzz.runs(fuzz.PLAN.authorization),
      );
      expect(sent).toBe(fuzz.PLAN.authorization);
    },
    fuzz.PROPERTY_TIMEOUT_MS,
  );
});

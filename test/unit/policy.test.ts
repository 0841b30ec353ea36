import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiGatewayEmulator, type EmulatorRoute, policyAllows } from '../../local/emulator.js';
import { catalogueOf } from '../../shared/domain/catalogue.js';
import { ALL_SCOPES, type KeyType } from '../../shared/domain/scopes.js';
import { arnMatches, routeArn } from '../../shared/gateway/api-gateway.js';
import type { authorize } from '../../shared/gateway/authorize.js';
import { findRoute, keyMayCall, type PolicyRoute, policyFor } from '../../shared/gateway/policy.js';
import { type HttpMethod, ROUTE_LIST, ROUTES } from '../../shared/routes.js';
import { authorizerOver, keyInMemory } from './support.js';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';
const keyTypes: KeyType[] = ['owner', 'general', 'billing'];

/** A concrete request ARN for a route, with path parameters filled in. */
function requestArn(method: string, path: string, value = 'qfTQ6KG0QBiwWdJ0-pCLCA') {
  return `${STAGE}/${method}${path.replace(/\{[^}]+\}/g, value)}`;
}

describe('policyFor (one route per cached result)', () => {
  it('allows exactly the route asked for when the key may call it, for any scopes', () => {
    const required = [
      ...new Set(ROUTE_LIST.flatMap((r) => (r.access.kind === 'key' ? r.access.scopes : []))),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...keyTypes),
        fc.subarray([...required, 'alerts.read', 'billing.read']),
        fc.constantFrom('current' as const, 'previous' as const),
        (type, scopes, secret) => {
          const held = new Set(scopes);
          for (const route of ROUTE_LIST.filter((r) => r.access.kind === 'key')) {
            const policy = policyFor(STAGE, { type, scopes, secret }, route);
            const allowed = policyAllows(policy, requestArn(route.method, route.path));
            expect(allowed, `${type} ${secret} ${scopes.join(' ')} ${route.id}`).toBe(
              keyMayCall(route, type, held, secret),
            );
          }
        },
      ),
    );
  });

  it('refuses a retiring secret every route that manages keys, and nothing else', () => {
    const owner = { type: 'owner' as const, scopes: [...ALL_SCOPES] };
    for (const route of ROUTE_LIST.filter((r) => r.access.kind === 'key')) {
      const manages = route.access.kind === 'key' && route.access.managesKeys === true;
      const previous = policyFor(STAGE, { ...owner, secret: 'previous' }, route);
      const current = policyFor(STAGE, { ...owner, secret: 'current' }, route);

      expect(policyAllows(previous, requestArn(route.method, route.path)), route.id).toBe(!manages);
      expect(policyAllows(current, requestArn(route.method, route.path)), route.id).toBe(true);
    }
    expect(
      ['createApiKey', 'renameApiKey', 'replaceApiKey', 'rollApiKey', 'deleteApiKey'].every(
        (id) => {
          const route = ROUTE_LIST.find((r) => r.id === id);
          return route?.access.kind === 'key' && route.access.managesKeys === true;
        },
      ),
    ).toBe(true);
  });

  it('denies everything for a route it does not know (fail closed)', () => {
    const policy = policyFor(STAGE, { type: 'owner', scopes: [...ALL_SCOPES] }, undefined);

    expect(policy.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${STAGE}/*`] },
    ]);
  });

  it("keeps the owner key's whole authorizer result well under API Gateway's 8 KB", () => {
    const policy = policyFor(STAGE, { type: 'owner', scopes: [...ALL_SCOPES] }, ROUTES.sendMail);
    const widestIpv6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128';
    const result = JSON.stringify({
      principalId: 'qfTQ6KG0QBiwWdJ0-pCLCA',
      policyDocument: policy,
      context: {
        accountId: 'x'.repeat(22),
        keyId: 'x'.repeat(22),
        type: 'general',
        // The largest context a general key can have: every non-billing scope, 50 IPv6 blocks.
        scopes: ALL_SCOPES.filter((s) => !s.startsWith('billing')).join(' '),
        expiresAt: new Date().toISOString(),
        secret: 'previous',
        allowedIps: Array(50).fill(widestIpv6).join(' '),
      },
    });

    expect(Buffer.byteLength(result)).toBeLessThan(8 * 1024);
  });

  it('returns the same object for the same stage, key and route (memoised)', () => {
    const key = { type: 'general' as const, scopes: ['mail.send'] };
    expect(policyFor(STAGE, key, ROUTES.sendMail)).toBe(policyFor(STAGE, key, ROUTES.sendMail));
  });
});

/**
 * The property the per-route cache key buys: for ANY route table a deployment can have (nested
 * parameters, literals beside parameters, shared prefixes, routes nested under a `{param}`), a key
 * reaches a route exactly when it holds every scope the route needs and is of an allowed type,
 * checked through the emulator, which routes as API Gateway does, caches authorizer results by
 * the identity sources, and evaluates the policies with IAM's wildcards (`*` across `/`).
 */
describe('exact access for generated route tables', () => {
  const SCOPES = ['s1', 's2', 's3'];
  // The owner key holds every scope of the deployment's catalogue.
  const GENERATED = catalogueOf([{ id: 'generated', label: 'Generated', scopes: SCOPES }]);
  const LITERALS = ['a', 'b', 'events', 'usage'];
  // Values of path parameters include the literals, so a request can match a literal route and
  // a parameter route at once (API Gateway picks the literal).
  const VALUES = ['a', 'b', 'events', 'usage', 'x1'];

  const segment = (depth: number) =>
    fc.oneof(fc.constantFrom(...LITERALS), fc.constant(`{p${depth}}`));
  const pathArb = fc
    .integer({ min: 1, max: 4 })
    .chain((n) =>
      fc
        .tuple(...Array.from({ length: n }, (_, i) => segment(i)))
        .map((parts) => `/${parts.join('/')}`),
    );
  const routeArb = fc.record({
    method: fc.constantFrom<HttpMethod>('GET', 'POST'),
    path: pathArb,
    scopes: fc.subarray(SCOPES),
    keyTypes: fc.subarray(keyTypes, { minLength: 1 }),
    managesKeys: fc.boolean(),
  });
  const tableArb = fc
    .uniqueArray(routeArb, {
      minLength: 1,
      maxLength: 8,
      selector: (r) => `${r.method} ${r.path}`,
    })
    .map((routes) =>
      routes.map(
        (r, i): EmulatorRoute => ({
          id: `r${i}`,
          method: r.method,
          path: r.path,
          handler: 'test',
          summary: 'generated',
          access: {
            kind: 'key',
            scopes: r.scopes,
            keyTypes: r.keyTypes,
            managesKeys: r.managesKeys,
          },
        }),
      ),
    );
  const keyArb = fc.record({
    type: fc.constantFrom(...keyTypes),
    scopes: fc.subarray(SCOPES),
    secret: fc.constantFrom('current' as const, 'previous' as const),
  });
  const concrete = (path: string, pick: number[]) =>
    path.replace(/\{[^}]+\}/g, () => VALUES[(pick.shift() ?? 0) % VALUES.length] ?? 'x1');

  it('allows a request exactly when the key may call the route API Gateway routes it to', async () => {
    await fc.assert(
      fc.asyncProperty(
        tableArb,
        keyArb,
        fc.array(fc.tuple(fc.nat(), fc.array(fc.nat(), { maxLength: 4 })), {
          minLength: 1,
          maxLength: 12,
        }),
        async (routes, key, requests) => {
          const { authorization, deps } = await keyInMemory(key, GENERATED);
          const gateway = new ApiGatewayEmulator({
            routes,
            cacheTtlSeconds: 300,
            authorizer: (event) => runAuthorizer(deps, routes, event),
            loadHandler: async () => async () => ({ statusCode: 200, body: '{}' }),
          });
          try {
            for (const [which, pick] of requests) {
              const route = routes[which % routes.length] as EmulatorRoute;
              const path = concrete(route.path, [...pick]);
              const response = await gateway.handle({
                method: route.method,
                path,
                headers: { Authorization: authorization },
              });
              // The route API Gateway serves this path with: the most specific resource (literal
              // segments win), then the method on it; none (404) when that resource lacks it.
              const served = routes.find((r) => r.id === response.routeId);
              if (!served) {
                expect(response.status, `${route.method} ${path}`).toBe(404);
                continue;
              }
              const expected = keyMayCall(
                served as EmulatorRoute,
                key.type,
                new Set(key.type === 'owner' ? GENERATED.all : key.scopes),
                key.secret,
              );
              expect(response.status, `${route.method} ${path} → ${served?.path}`).toBe(
                expected ? 200 : 403,
              );
            }
          } finally {
            gateway.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('would not hold with one policy listing every allowed route (why the cache is per route)', () => {
    // `/a/{p1}` allowed, `/a/{p1}/usage` not: IAM's `*` lets the first's ARN match the second.
    const allowed = routeArn(STAGE, 'GET', '/a/{p1}');
    expect(arnMatches(allowed, `${STAGE}/GET/a/x1/usage`)).toBe(true);
  });
});

/** The Lambda authorizer's mapping over `authorize`, for requests the route table knows. */
async function runAuthorizer(
  deps: Parameters<typeof authorize>[0],
  routes: readonly PolicyRoute[],
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> {
  const result = await authorizerOver(deps, routes)(event);
  expect(findRoute(routes, event.httpMethod, event.requestContext.resourcePath)).toBeDefined();
  return result;
}

describe('gateway ARN helpers', () => {
  it('turns path parameters into wildcards', () => {
    expect(routeArn(STAGE, 'GET', '/v3/api_keys/{api_key_id}')).toBe(`${STAGE}/GET/v3/api_keys/*`);
  });

  it("matches IAM's * across slashes and ? as one character, everything else literally", () => {
    expect(arnMatches('a/*', 'a/b/c')).toBe(true);
    expect(arnMatches('a/?', 'a/b')).toBe(true);
    expect(arnMatches('a/?', 'a/bc')).toBe(false);
    expect(arnMatches('a.b', 'axb')).toBe(false);
    expect(arnMatches('GET/v3/(x)', 'GET/v3/(x)')).toBe(true);
    // Line terminators too: a decoded path may hold U+2028 (IAM's * is any character).
    expect(arnMatches('a/*', 'a/\u2028\u2029\n')).toBe(true);
    expect(arnMatches('a/?', 'a/\u2028')).toBe(true);
  });
});

describe('policyAllows', () => {
  const arn = `${STAGE}/GET/v3/scopes`;

  it('lets an explicit Deny win over an Allow', () => {
    const policy: Parameters<typeof policyAllows>[0] = {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${STAGE}/*`] },
        { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: arn },
      ],
    };

    expect(policyAllows(policy, arn)).toBe(false);
  });

  it('denies by default', () => {
    expect(policyAllows({ Version: '2012-10-17', Statement: [] }, arn)).toBe(false);
  });
});

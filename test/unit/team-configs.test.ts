import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiGatewayEmulator } from '../../local/emulator.js';
import {
  type DeployedRoute,
  deploymentOf,
  specFromConfig,
} from '../../shared/deployment/deployment.js';
import type { TeamConfig, TeamRoute } from '../../shared/deployment/team-config.js';
import type { KeyType } from '../../shared/domain/scopes.js';
import { keyMayCall } from '../../shared/gateway/policy.js';
import { wrapTeamHandler } from '../../shared/http/team-handler.js';
import { type HttpMethod, ROUTE_LIST } from '../../shared/routes.js';
import { authorizerOver, keyInMemory } from './support.js';

/**
 * The property a team's config relies on: for ANY config a team can write (nested parameters,
 * literals beside parameters, shared prefixes with each other and with Keygate's own routes,
 * random scope sets and key types, either preset), built as `npm start` and CDK build it
 * (`specFromConfig`, `deploymentOf`), every (key, route, concrete path) is allowed exactly when
 * the key holds the route's scopes and is of its types. Checked through the emulator, which
 * routes as API Gateway does, caches the authorizer's results by its identity sources and
 * evaluates the real `authorize`'s policies with IAM's wildcards (`*` across `/`), with the
 * team's handlers wrapped as deployed (`wrapTeamHandler`). The expectation for a team's route is
 * computed from the config itself, not from the deployment built from it.
 */

const KEY_TYPES: KeyType[] = ['owner', 'general', 'billing'];
const ACTIONS = ['read', 'create', 'delete'];
/** Literal segments: shared with each other, with Keygate's (`v3`, `api_keys`, `events`). */
const FIRST = ['v1', 'v2', 'v3'];
const LITERALS = ['invoices', 'api_keys', 'events', 'a', 'pdf'];
/** Path parameter values include the literals: a request can match a literal and a parameter. */
const VALUES = ['invoices', 'api_keys', 'events', 'a', 'pdf', 'x1'];

/**
 * The parameter names API Gateway forces: one name per parent (Keygate's own where it has a
 * parameter under that parent, `{api_key_id}` under `/v3/api_keys`).
 */
const BUILT_IN_PARAMS = new Map<string, string>();
for (const route of ROUTE_LIST) {
  const segments = route.path.split('/').filter(Boolean);
  segments.forEach((segment, i) => {
    if (segment.startsWith('{')) BUILT_IN_PARAMS.set(`/${segments.slice(0, i).join('/')}`, segment);
  });
}
function paramUnder(parent: string[]): string {
  return BUILT_IN_PARAMS.get(`/${parent.join('/')}`) ?? `{p${parent.length}}`;
}

const pathArb = fc
  .tuple(
    fc.constantFrom(...FIRST),
    fc.array(fc.oneof(fc.constantFrom(...LITERALS), fc.constant(null)), {
      minLength: 0,
      maxLength: 3,
    }),
  )
  .map(([first, rest]) => {
    const segments = [first];
    for (const part of rest) segments.push(part ?? paramUnder(segments));
    return `/${segments.join('/')}`;
  });

const areasArb = fc
  .uniqueArray(fc.constantFrom('inv', 'docs', 'pay', 'reports'), { minLength: 1, maxLength: 3 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.record({
          id: fc.constant(id),
          label: fc.constant(id.toUpperCase()),
          scopes: fc
            .subarray(ACTIONS, { minLength: 1 })
            .map((actions) => actions.map((a) => `${id}.${a}`)),
          billing: fc.constantFrom(false, false, false, true),
        }),
      ),
    ),
  );

const configArb = fc
  .record({ preset: fc.constantFrom('sendgrid' as const, 'none' as const), areas: areasArb })
  .chain(({ preset, areas }) => {
    const declared = [
      ...areas.flatMap((a) => a.scopes),
      'api_keys.read',
      ...(preset === 'sendgrid' ? ['mail.send'] : []),
    ];
    const routeArb = fc.record({
      method: fc.constantFrom<HttpMethod>('GET', 'POST', 'DELETE'),
      path: pathArb,
      scopes: fc.subarray(declared),
      keyTypes: fc.option(fc.subarray(KEY_TYPES, { minLength: 1 }), { nil: undefined }),
    });
    return fc.record({
      preset: fc.constant(preset),
      areas: fc.constant(areas),
      routes: fc.uniqueArray(routeArb, {
        minLength: 1,
        maxLength: 8,
        selector: (r) => `${r.method} ${r.path.replace(/\{[^}]+\}/g, '*')}`,
      }),
    });
  })
  .map(
    ({ preset, areas, routes }): TeamConfig => ({
      preset,
      areas: areas.map((a) => ({ ...a, ...(a.billing ? {} : { billing: undefined }) })),
      routes: routes.map(
        (r, i): TeamRoute => ({
          method: r.method,
          path: r.path,
          scopes: r.scopes,
          ...(r.keyTypes === undefined ? {} : { keyTypes: r.keyTypes }),
          handler: `./handlers/r${i}.ts`,
        }),
      ),
    }),
  );

/** The spec of a config, or undefined when it collides with one of Keygate's own routes. */
function specOf(config: TeamConfig) {
  const outcome = specFromConfig(config, {
    file: 'keygate.config.ts',
    handlerExists: () => true,
    lock: [],
  });
  return outcome.ok ? outcome.spec : undefined;
}
const buildableConfigArb = configArb.filter((config) => specOf(config) !== undefined);

/** What the config itself says about a team route: its scopes, and its types (or the default). */
function configAllows(
  config: TeamConfig,
  route: TeamRoute,
  type: KeyType,
  held: ReadonlySet<string>,
): boolean {
  const billing = new Set((config.areas ?? []).filter((a) => a.billing).flatMap((a) => a.scopes));
  const types =
    route.keyTypes ??
    (route.scopes.length > 0 && route.scopes.every((s) => billing.has(s))
      ? ['owner', 'billing']
      : ['owner', 'general']);
  return types.includes(type) && route.scopes.every((s) => held.has(s));
}

const keyArb = fc.record({
  type: fc.constantFrom(...KEY_TYPES),
  scopes: fc.subarray([
    'inv.read',
    'inv.create',
    'inv.delete',
    'docs.read',
    'docs.create',
    'pay.read',
    'pay.delete',
    'reports.read',
    'api_keys.read',
    'mail.send',
  ]),
  secret: fc.constantFrom('current' as const, 'previous' as const),
});

const requestsArb = fc.array(fc.tuple(fc.nat(), fc.array(fc.nat(), { maxLength: 4 })), {
  minLength: 1,
  maxLength: 12,
});

function concrete(path: string, pick: number[]): string {
  return path.replace(/\{[^}]+\}/g, () => VALUES[(pick.shift() ?? 0) % VALUES.length] ?? 'x1');
}

describe('exact access for generated team configs', () => {
  it('allows a request exactly when the key holds the route’s scopes and is of its types', async () => {
    await fc.assert(
      fc.asyncProperty(buildableConfigArb, keyArb, requestsArb, async (config, key, requests) => {
        // Arrange: the deployment built from the config, served with stub handlers
        const spec = specOf(config);
        if (!spec) throw new Error('unreachable: filtered');
        const deployment = deploymentOf(spec);
        const { authorization, deps } = await keyInMemory(key, deployment.catalogue);
        const held = new Set(key.type === 'owner' ? deployment.catalogue.all : key.scopes);
        const stub = async () => ({ statusCode: 200, body: '{}' });
        const gateway = new ApiGatewayEmulator({
          routes: deployment.routes,
          cacheTtlSeconds: 300,
          authorizer: authorizerOver(deps, deployment.routes),
          loadHandler: async (route) => (route.team ? wrapTeamHandler(stub, route) : stub),
        });
        const teamRoutes = config.routes ?? [];
        try {
          for (const [which, pick] of requests) {
            const route = teamRoutes[which % teamRoutes.length] as TeamRoute;
            const path = concrete(route.path, [...pick]);

            // Act
            const response = await gateway.handle({
              method: route.method,
              path,
              headers: { Authorization: authorization },
            });

            // Assert: against the route API Gateway serves the path with (the most specific
            // resource, literals first; a 404 when that resource lacks the method)
            const served = deployment.routes.find((r) => r.id === response.routeId);
            const name = `${route.method} ${path} → ${served?.path}`;
            if (!served) {
              expect(response.status, name).toBe(404);
              continue;
            }
            const own = served.team
              ? teamRoutes.find((r) => r.method === served.method && r.path === served.path)
              : undefined;
            const expected = own
              ? configAllows(config, own, key.type, held)
              : keyMayCall(served as DeployedRoute, key.type, held, key.secret);
            expect(response.status, name).toBe(expected ? 200 : 403);
          }
        } finally {
          gateway.close();
        }
      }),
      { numRuns: 120 },
    );
  });

  it('generates what it claims: nested parameters, literals beside parameters, Keygate’s prefixes', () => {
    const samples = fc.sample(buildableConfigArb, { numRuns: 300, seed: 13 });
    const paths = samples.flatMap((c) => (c.routes ?? []).map((r) => r.path));

    expect(paths.some((p) => (p.match(/\{/g)?.length ?? 0) >= 2)).toBe(true);
    expect(paths.some((p) => p.startsWith('/v3/api_keys/{api_key_id}/'))).toBe(true);
    expect(
      samples.some((c) => {
        const ps = (c.routes ?? []).map((r) => r.path);
        return ps.some((p) => /\/\{p\d\}$/.test(p) && ps.includes(p.replace(/\{p\d\}$/, 'a')));
      }),
    ).toBe(true);
    expect(samples.some((c) => c.preset === 'none')).toBe(true);
  });
});

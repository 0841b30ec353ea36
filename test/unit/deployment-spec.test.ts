import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPEC,
  deploymentOf,
  type SpecOutcome,
  specFromConfig,
} from '../../shared/deployment/deployment.js';
import type { TeamConfig, TeamRoute } from '../../shared/deployment/team-config.js';
import { SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';
import { routeArn } from '../../shared/gateway/api-gateway.js';
import { type HttpMethod, ROUTE_LIST } from '../../shared/routes.js';

/**
 * `specFromConfig`: what a team's `keygate.config.ts` may say, and the one line it answers when
 * the config cannot be served (naming the file and the entry), before anything starts.
 */

const FILE = 'examples/acme/keygate.config.ts';
const INVOICES = {
  id: 'invoices',
  label: 'Invoices',
  scopes: ['invoices.read', 'invoices.create'],
};
const route = (overrides: Partial<TeamRoute> = {}): TeamRoute => ({
  method: 'GET',
  path: '/v1/invoices',
  scopes: ['invoices.read'],
  handler: './handlers/list.ts',
  ...overrides,
});
const CREATE = route({
  method: 'POST',
  scopes: ['invoices.create'],
  handler: './handlers/create.ts',
});

function build(
  config: unknown,
  options: { handlerExists?: (h: string) => boolean; lock?: string[] } = {},
): SpecOutcome {
  return specFromConfig(config, {
    file: FILE,
    handlerExists: options.handlerExists ?? (() => true),
    lock: options.lock ?? [],
  });
}

function errorOf(config: unknown, options?: Parameters<typeof build>[1]): string {
  const outcome = build(config, options);
  if (outcome.ok) throw new Error('expected the config to be refused');
  expect(outcome.error).not.toContain('\n');
  return outcome.error;
}

describe('specFromConfig refuses, in one line naming the file and the entry', () => {
  it('a route scope no area declares', () => {
    const error = errorOf({
      areas: [INVOICES],
      routes: [route(), route({ method: 'DELETE', scopes: ['invoices.delete'] })],
    });

    expect(error).toBe(
      `${FILE}: routes[1] (DELETE /v1/invoices): unknown scope "invoices.delete" (declare it in an area)`,
    );
  });

  it('a scope of SendGrid’s preset when the config leaves the preset out', () => {
    const error = errorOf({ preset: 'none', routes: [route({ scopes: ['mail.send'] })] });

    expect(error).toBe(
      `${FILE}: routes[0] (GET /v1/invoices): unknown scope "mail.send" (declare it in an area)`,
    );
  });

  it('a duplicate route', () => {
    const error = errorOf({ areas: [INVOICES], routes: [route(), CREATE, route()] });

    expect(error).toBe(
      `${FILE}: routes[2] (GET /v1/invoices): overlaps routes GET /v1/invoices (same method and shape)`,
    );
  });

  it('an overlapping route: the same method and shape under other parameter names', () => {
    const error = errorOf({
      areas: [INVOICES],
      routes: [
        route({ path: '/v1/invoices/{invoice_id}' }),
        route({ path: '/v1/invoices/{id}', handler: './handlers/get.ts' }),
      ],
    });

    expect(error).toBe(
      `${FILE}: routes[1] (GET /v1/invoices/{id}): overlaps routes GET /v1/invoices/{invoice_id} (same method and shape)`,
    );
  });

  it.each([
    ['GET', '/v3/api_keys', "Keygate's GET /v3/api_keys"],
    ['DELETE', '/v3/api_keys/{key}', "Keygate's DELETE /v3/api_keys/{api_key_id}"],
    ['GET', '/health', "Keygate's GET /health"],
    ['POST', '/v3/mail/send', "Keygate's POST /v3/mail/send"],
  ] as const)('a route colliding with Keygate’s own: %s %s', (method, path, clash) => {
    const error = errorOf({ areas: [INVOICES], routes: [route({ method, path })] });

    expect(error).toBe(
      `${FILE}: routes[0] (${method} ${path}): overlaps ${clash} (same method and shape)`,
    );
  });

  it('a handler that does not exist', () => {
    const error = errorOf(
      { areas: [INVOICES], routes: [route(), CREATE] },
      { handlerExists: (h) => h !== './handlers/create.ts' },
    );

    expect(error).toBe(
      `${FILE}: routes[1] (POST /v1/invoices): handler ./handlers/create.ts does not exist`,
    );
  });

  it('sibling path parameters of other names (API Gateway refuses them)', () => {
    const error = errorOf({
      areas: [INVOICES],
      routes: [
        route({ path: '/v1/invoices/{invoice_id}' }),
        route({ method: 'POST', path: '/v1/invoices/{id}/send', scopes: ['invoices.create'] }),
      ],
    });

    expect(error).toBe(
      `${FILE}: routes[1] (POST /v1/invoices/{id}/send): {id} would sit beside {invoice_id} under /v1/invoices; use the same parameter name`,
    );
  });

  it('a path parameter beside one of Keygate’s own', () => {
    const error = errorOf({
      areas: [INVOICES],
      routes: [route({ path: '/v3/api_keys/{key}/invoices' })],
    });

    expect(error).toBe(
      `${FILE}: routes[0] (GET /v3/api_keys/{key}/invoices): {key} would sit beside {api_key_id} under /v3/api_keys; use the same parameter name`,
    );
  });

  it.each([
    ['not an object', [], 'default export: must be an object { areas, routes, preset? }'],
    [
      'an unknown setting',
      { area: [] },
      'area: is not a setting (areas, routes, preset, plans, defaultPlan, warnings)',
    ],
    ['another preset', { preset: 'stripe' }, 'preset: must be "sendgrid" or "none"'],
    [
      'an area id used twice',
      {
        areas: [
          { ...INVOICES, id: 'invoices' },
          { ...INVOICES, scopes: ['x.read'] },
        ],
      },
      'areas[1] (invoices): the id is taken',
    ],
    [
      'a scope of Keygate’s in an area',
      { areas: [{ ...INVOICES, scopes: ['mail.send'] }] },
      'areas[0] (invoices): mail.send is already a Keygate scope',
    ],
    [
      'one scope in two areas',
      { areas: [INVOICES, { id: 'docs', label: 'Docs', scopes: ['invoices.read'] }] },
      'areas[1] (docs): invoices.read is already in areas[0] (invoices)',
    ],
    [
      'a scope that is not like area.action',
      { areas: [{ ...INVOICES, scopes: ['Invoices'] }] },
      'areas[0] (invoices): "Invoices" is not a scope like "invoices.read"',
    ],
    [
      'a path API Gateway cannot serve',
      { areas: [INVOICES], routes: [route({ path: 'v1/invoices' })] },
      'routes[0]: path must be a resource path like /v1/invoices/{invoice_id}',
    ],
    [
      'an unknown key type',
      { areas: [INVOICES], routes: [route({ keyTypes: ['admin' as never] })] },
      'routes[0] (GET /v1/invoices): keyTypes must be a non-empty list of owner, general, billing',
    ],
  ])('%s', (_case, config, problem) => {
    expect(errorOf(config)).toBe(`${FILE}: ${problem}`);
  });
});

describe('specFromConfig accepts', () => {
  it('a config, warning (one line each) of an area scope no route uses', () => {
    const outcome = build({
      areas: [{ ...INVOICES, scopes: [...INVOICES.scopes, 'invoices.delete'] }],
      routes: [route(), CREATE],
    });

    expect(outcome.ok && outcome.warnings).toEqual([
      `${FILE}: areas[0] (invoices): no route uses invoices.delete`,
    ]);
  });

  it('SendGrid’s paths once the config leaves the preset out', () => {
    const outcome = build({
      preset: 'none',
      areas: [{ id: 'mail', label: 'Mail', scopes: ['mail.send'] }],
      routes: [route({ method: 'POST', path: '/v3/mail/send', scopes: ['mail.send'] })],
    });

    expect(outcome.ok).toBe(true);
  });

  it('no config at all as SendGrid’s service, exactly', () => {
    const outcome = build({});

    expect(outcome.ok && outcome.spec).toEqual(DEFAULT_SPEC);
    expect(deploymentOf(DEFAULT_SPEC).catalogue).toBe(SENDGRID_CATALOGUE);
    expect(deploymentOf(DEFAULT_SPEC).routes.map((r) => r.id)).toEqual(ROUTE_LIST.map((r) => r.id));
  });

  it('keeps the lock’s order and appends the new scopes, sorted', () => {
    const outcome = build(
      { areas: [{ ...INVOICES, scopes: ['invoices.read', 'invoices.create', 'invoices.void'] }] },
      { lock: ['invoices.read', 'gone.read'] },
    );

    expect(outcome.ok && outcome.spec.scopeLock).toEqual([
      'invoices.read',
      'gone.read',
      'invoices.create',
      'invoices.void',
    ]);
    expect(outcome.ok && outcome.lockChanged).toBe(true);
  });
});

/**
 * Whatever a team writes, two routes of the same method and shape, or a route scope that no area
 * (nor Keygate) declares, never make a spec.
 */
describe('specFromConfig, for generated configs', () => {
  const DECLARED = ['inv.read', 'inv.create', 'docs.read'];
  const UNDECLARED = ['inv.delete', 'pay.read', 'mail.sendx'];
  const segment = fc.oneof(
    fc.constantFrom('v1', 'v3', 'api_keys', 'invoices', 'events'),
    fc.constantFrom('{id}', '{invoice_id}', '{api_key_id}'),
  );
  const routeArb = fc.record({
    method: fc.constantFrom<HttpMethod>('GET', 'POST', 'DELETE'),
    path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
    // Now and then a scope no area declares (mail.send: only with SendGrid's preset).
    scopes: fc
      .tuple(
        fc.subarray([...DECLARED, 'api_keys.read', 'mail.send']),
        fc.oneof(
          { arbitrary: fc.constant([]), weight: 12 },
          { arbitrary: fc.constantFrom(...UNDECLARED).map((u) => [u]), weight: 1 },
        ),
      )
      .map(([declared, undeclared]) => [...declared, ...undeclared]),
    handler: fc.constant('./handlers/h.ts'),
  });
  const configArb = fc.record({
    preset: fc.constantFrom('sendgrid' as const, 'none' as const),
    areas: fc.constant([
      { id: 'inv', label: 'Invoices', scopes: ['inv.read', 'inv.create'] },
      { id: 'docs', label: 'Documents', scopes: ['docs.read'] },
    ]),
    routes: fc.array(routeArb, { minLength: 1, maxLength: 6 }),
  });
  const shape = (r: { method: string; path: string }) => routeArn('', r.method, r.path);

  it('never makes a spec with two routes of one method and shape, or an undeclared scope', () => {
    fc.assert(
      fc.property(configArb, (config) => {
        const outcome = build(config);
        if (!outcome.ok) return;
        const deployment = deploymentOf(outcome.spec);
        const shapes = deployment.routes.map(shape);
        expect(new Set(shapes).size).toBe(shapes.length);
        for (const r of deployment.teamRoutes) {
          if (r.access.kind !== 'key') throw new Error('a team route is never public');
          for (const s of r.access.scopes) expect(deployment.catalogue.isKnown(s), s).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a config the moment it repeats a route’s method and shape', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.nat(),
        fc.constantFrom('{a}', '{b}'),
        (config: TeamConfig, which, name) => {
          const ok = build(config);
          fc.pre(ok.ok);
          const routes = config.routes ?? [];
          const original = routes[which % routes.length] as TeamRoute;
          // The same shape, its parameters renamed.
          const again = { ...original, path: original.path.replace(/\{[^}]+\}/g, name) };

          const error = errorOf({ ...config, routes: [...routes, again] });

          expect(error).toMatch(new RegExp(`^${FILE}: routes\\[${routes.length}\\] .*: overlaps `));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a config the moment a route needs a scope no area declares', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(...UNDECLARED), fc.nat(), (config, scope, which) => {
        const routes = config.routes;
        const index = which % routes.length;
        const changed = routes.map((r, i) =>
          i === index ? { ...r, scopes: [...r.scopes, scope] } : r,
        );

        const outcome = build({ ...config, routes: changed });

        expect(outcome.ok).toBe(false);
        if (build(config).ok) {
          expect(outcome.ok || outcome.error).toContain(`unknown scope "${scope}"`);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('plans in the config (issue 17: declared and checked)', () => {
  const STARTER = { id: 'starter', rate: { perSecond: 5, burst: 10 }, quota: { perDay: 1000 } };

  it('carries the plans, the default plan and a route cost into the spec', () => {
    // Act
    const outcome = build({
      areas: [INVOICES],
      routes: [route(), { ...CREATE, cost: 5 }],
      plans: [STARTER, { id: 'pro', quota: { perMonth: 100_000 } }],
      defaultPlan: 'starter',
    });

    // Assert
    expect(outcome.ok && outcome.spec.plans).toEqual([
      STARTER,
      { id: 'pro', quota: { perMonth: 100_000 } },
    ]);
    expect(outcome.ok && outcome.spec.defaultPlan).toBe('starter');
    expect(outcome.ok && outcome.spec.routes.map((r) => r.cost)).toEqual([undefined, 5]);
  });

  it.each([
    [{ plans: [STARTER, STARTER] }, 'plans[1] (starter): the id is taken'],
    [{ plans: [{ id: 'Big Plan' }] }, 'plans[0]: id must be lowercase letters'],
    [
      { plans: [{ id: 'p', rate: { perSecond: 0, burst: 1 } }] },
      'plans[0] (p): rate.perSecond must be a number above 0',
    ],
    [
      { plans: [{ id: 'p', quota: { perDay: 10, perMonth: 5 } }] },
      'plans[0] (p): quota.perDay cannot exceed quota.perMonth',
    ],
    [{ plans: [STARTER], defaultPlan: 'gold' }, 'defaultPlan: "gold" is not one of the plans'],
    [{ defaultPlan: 'starter' }, 'defaultPlan: names a plan, but there are no plans'],
    [
      { routes: [{ ...CREATE, cost: 11 }], plans: [STARTER] },
      'plans[0] (starter): its burst (10) is below the cost of POST /v1/invoices',
    ],
    [{ routes: [{ ...CREATE, cost: -1 }] }, 'cost must be a whole number from 0 to 1000'],
  ])('refuses %j', (extra, message) => {
    expect(errorOf({ areas: [INVOICES], routes: [route(), CREATE], ...extra })).toContain(message);
  });
});

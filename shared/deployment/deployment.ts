import {
  type AreaInput,
  catalogueOf,
  type ScopeCatalogue,
  SENDGRID_AREAS,
  SENDGRID_CATALOGUE,
} from '../domain/catalogue.js';
import type { WarningsConfig } from '../domain/key-warnings.js';
import { limitsFault, type Plan } from '../domain/limits.js';
import type { KeyType } from '../domain/scopes.js';
import { routeArn } from '../gateway/api-gateway.js';
import {
  type HttpMethod,
  ROUTE_LIST,
  type RouteContract,
  TEAM_ROUTE_MEMORY_MB,
} from '../routes.js';
import { EXTRA_ROUTE_PATH } from '../runtime/extra-routes.js';
import type { TeamConfig } from './team-config.js';

/**
 * A deployment: which scopes keys may hold (the catalogue) and which routes the API serves. With
 * no team config it is exactly SendGrid's service; a team's config adds its areas and routes, or
 * replaces SendGrid's preset with them. Every consumer reads it: the authorizer's policies, the
 * handlers' grants, the emulator, CDK, the OpenAPI document, the console (through the API).
 *
 * The {@link DeploymentSpec} is its serialisable form: what a Lambda bundle carries (esbuild's
 * `define`, no 4 KB environment limit) and what `npm start` hands its in-process handlers. Pure.
 */

/** The `API Keys` area: Keygate's own routes need it, with or without SendGrid's preset. */
const KEY_MANAGEMENT_AREA_ID = 'API Keys';

/**
 * Without SendGrid's preset, the Subusers routes (always served: a team's customers are
 * subusers) need their four scopes; SendGrid's other Subusers scopes (credits, stats, …) name
 * features Keygate does not have, so they stay with the preset.
 */
const SUBUSERS_AREA: AreaInput = {
  id: 'Subusers',
  label: 'Subusers',
  scopes: ['subusers.create', 'subusers.delete', 'subusers.read', 'subusers.update'],
  uiLabels: ['Subusers'],
};

/** The areas a deployment starts from: SendGrid's, or only what Keygate's own routes need. */
function baseAreas(preset: 'sendgrid' | 'none'): readonly AreaInput[] {
  return preset === 'sendgrid'
    ? SENDGRID_AREAS
    : [...SENDGRID_AREAS.filter((a) => a.id === KEY_MANAGEMENT_AREA_ID), SUBUSERS_AREA];
}

export interface TeamRouteSpec {
  /** `GET /v1/invoices/{invoice_id}`: unique, stable. */
  id: string;
  method: HttpMethod;
  path: string;
  scopes: readonly string[];
  keyTypes: readonly KeyType[];
  /** The handler module, relative to the config file's directory. */
  handler: string;
  summary: string;
  /** Requests one call counts as against a plan (1 unless the config says). */
  cost?: number;
}

export interface DeploymentSpec {
  version: 1;
  preset: 'sendgrid' | 'none';
  /** The team's own areas. */
  areas: readonly AreaInput[];
  routes: readonly TeamRouteSpec[];
  /**
   * The team's scopes in the order they were first seen (`keygate.lock.json`, append-only):
   * their codes in stored keys follow SendGrid's registry, so renaming or removing a scope never
   * shifts another.
   */
  scopeLock: readonly string[];
  /** The team's plans and the default one (absent: nothing is limited beyond the stage's throttle). */
  plans?: readonly Plan[];
  defaultPlan?: string;
  /**
   * The key warnings' settings (docs/limits.md#warnings); absent: expiry warnings at 30, 7 and
   * 1 days, no unused-key warnings.
   */
  warnings?: WarningsConfig;
}

/** A route the deployment serves: the route table's, or a team's (`team` set). */
export type DeployedRoute = RouteContract & {
  id: string;
  /** A team's route: its handler is `handler`, relative to the config's directory. */
  team?: true;
};

export interface Deployment {
  spec: DeploymentSpec;
  catalogue: ScopeCatalogue;
  /** Every route served: Keygate's own, SendGrid's preset (when kept), the team's. */
  routes: readonly DeployedRoute[];
  teamRoutes: readonly DeployedRoute[];
  /** Scopes appended to SendGrid's code registry, and registry entries no key may hold now. */
  scopeRegistry: { appended: readonly string[]; retired: readonly string[] };
}

/** SendGrid's service, exactly: no team config. */
export const DEFAULT_SPEC: DeploymentSpec = Object.freeze({
  version: 1,
  preset: 'sendgrid',
  areas: [],
  routes: [],
  scopeLock: [],
});

/**
 * Whether a spec is SendGrid's service exactly, with nothing of a team's: then a Lambda bundle
 * needs no spec inlined. Plans and warnings count as a team's too (a config with only those must
 * still reach the functions).
 */
export function isSendGridServiceExactly(spec: DeploymentSpec): boolean {
  return (
    spec.preset === 'sendgrid' &&
    spec.areas.length === 0 &&
    spec.routes.length === 0 &&
    spec.plans === undefined &&
    spec.defaultPlan === undefined &&
    spec.warnings === undefined
  );
}

const memo = new WeakMap<DeploymentSpec, Deployment>();

/** The deployment a spec describes (one object per spec). */
export function deploymentOf(spec: DeploymentSpec): Deployment {
  const known = memo.get(spec);
  if (known) return known;
  const base = baseAreas(spec.preset);
  const catalogue =
    spec.preset === 'sendgrid' && spec.areas.length === 0
      ? SENDGRID_CATALOGUE
      : catalogueOf([...base, ...spec.areas], {
          autoAssigned: spec.preset === 'sendgrid' ? SENDGRID_CATALOGUE.autoAssigned : [],
        });
  const builtIn: DeployedRoute[] = ROUTE_LIST.filter(
    (route) => spec.preset === 'sendgrid' || route.preset !== 'sendgrid',
  );
  const teamRoutes: DeployedRoute[] = spec.routes.map((route) => ({
    id: route.id,
    method: route.method,
    path: route.path,
    handler: route.handler,
    summary: route.summary,
    access: { kind: 'key', scopes: route.scopes, keyTypes: route.keyTypes },
    // The team's handler answers its own statuses and bodies (documented as open JSON), and its
    // function gets no storage permission of Keygate's: its wrapper reads the authorizer's context.
    response: { status: 200 },
    permissions: [],
    lambda: { memoryMB: TEAM_ROUTE_MEMORY_MB },
    ...(route.cost === undefined ? {} : { cost: route.cost }),
    team: true,
  }));
  const appended = spec.scopeLock;
  const deployment: Deployment = {
    spec,
    catalogue,
    routes: [...builtIn, ...teamRoutes],
    teamRoutes,
    scopeRegistry: {
      appended,
      retired: [...SENDGRID_CATALOGUE.all, ...appended].filter((s) => !catalogue.isKnown(s)),
    },
  };
  memo.set(spec, deployment);
  return deployment;
}

/** The outcome of reading a team's config: a spec, or one line saying what is wrong. */
export type SpecOutcome =
  | { ok: true; spec: DeploymentSpec; warnings: readonly string[]; lockChanged: boolean }
  | { ok: false; error: string };

const AREA_ID = /^[a-z][a-z0-9_-]{0,62}$/;
const SCOPE = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$/;
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const KEY_TYPES: readonly KeyType[] = ['owner', 'general', 'billing'];

/**
 * Checks a team's config (the module's default export, as loaded) and builds its spec. Each
 * problem is one line naming the file and the entry: an unknown scope in a route, a duplicate or
 * overlapping route (same method and shape), a route colliding with Keygate's own, a handler
 * that does not exist. An area scope no route uses is a warning. `lock` is the scope lock as
 * committed; scopes new to it are appended (`lockChanged`), never reordered or dropped.
 */
export function specFromConfig(
  raw: unknown,
  options: {
    /** The config file, for messages. */
    file: string;
    /** Whether the handler module exists (relative to the config's directory). */
    handlerExists: (handler: string) => boolean;
    lock: readonly string[];
  },
): SpecOutcome {
  const at = (entry: string, problem: string): SpecOutcome => ({
    ok: false,
    error: `${options.file}: ${entry}: ${problem}`,
  });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return at('default export', 'must be an object { areas, routes, preset? }');
  }
  const config = raw as Record<string, unknown> & TeamConfig;
  for (const key of Object.keys(config)) {
    if (!['areas', 'routes', 'preset', 'plans', 'defaultPlan', 'warnings'].includes(key)) {
      return at(key, 'is not a setting (areas, routes, preset, plans, defaultPlan, warnings)');
    }
  }
  const preset = config.preset ?? 'sendgrid';
  if (preset !== 'sendgrid' && preset !== 'none') {
    return at('preset', 'must be "sendgrid" or "none"');
  }
  const base = baseAreas(preset);
  const baseScopes = new Set(base.flatMap((a) => a.scopes));
  const baseIds = new Set(base.map((a) => a.id));

  // Areas
  if (config.areas !== undefined && !Array.isArray(config.areas)) {
    return at('areas', 'must be an array');
  }
  const areas: AreaInput[] = [];
  const teamScopes = new Map<string, string>();
  for (const [i, area] of (config.areas ?? []).entries()) {
    const entry = `areas[${i}]`;
    if (area === null || typeof area !== 'object') return at(entry, 'must be an object');
    if (typeof area.id !== 'string' || !AREA_ID.test(area.id)) {
      return at(entry, 'id must be lowercase letters, digits, "-" or "_", starting with a letter');
    }
    const name = `${entry} (${area.id})`;
    if (baseIds.has(area.id) || areas.some((a) => a.id === area.id)) {
      return at(name, 'the id is taken');
    }
    if (typeof area.label !== 'string' || area.label.trim() === '') {
      return at(name, 'label must be a non-empty string');
    }
    if (!Array.isArray(area.scopes) || area.scopes.length === 0) {
      return at(name, 'scopes must be a non-empty array');
    }
    for (const scope of area.scopes) {
      if (typeof scope !== 'string' || !SCOPE.test(scope)) {
        return at(name, `${JSON.stringify(scope)} is not a scope like "invoices.read"`);
      }
      if (baseScopes.has(scope)) return at(name, `${scope} is already a Keygate scope`);
      const other = teamScopes.get(scope);
      if (other !== undefined) return at(name, `${scope} is already in ${other}`);
      teamScopes.set(scope, name);
    }
    if (area.billing !== undefined && typeof area.billing !== 'boolean') {
      return at(name, 'billing must be true or false');
    }
    areas.push({
      id: area.id,
      label: area.label.trim(),
      scopes: [...area.scopes],
      ...(area.billing ? { billing: true } : {}),
    });
  }
  const billingScopes = new Set(areas.filter((a) => a.billing).flatMap((a) => a.scopes));
  const isBilling = (scope: string) =>
    billingScopes.has(scope) || (preset === 'sendgrid' && scope.startsWith('billing'));

  // Routes
  if (config.routes !== undefined && !Array.isArray(config.routes)) {
    return at('routes', 'must be an array');
  }
  const builtIn = ROUTE_LIST.filter((r) => preset === 'sendgrid' || r.preset !== 'sendgrid');
  const shapes = new Map(
    builtIn.map((r) => [routeArn('', r.method, r.path), `Keygate's ${r.method} ${r.path}`]),
  );
  const parents = new Map<string, string>();
  for (const r of builtIn) notePathParams(r.path, parents);
  const routes: TeamRouteSpec[] = [];
  const used = new Set<string>();
  for (const [i, route] of (config.routes ?? []).entries()) {
    const entry = `routes[${i}]`;
    if (route === null || typeof route !== 'object') return at(entry, 'must be an object');
    if (!METHODS.includes(route.method)) {
      return at(entry, `method must be one of ${METHODS.join(', ')}`);
    }
    if (typeof route.path !== 'string' || !EXTRA_ROUTE_PATH.test(route.path)) {
      return at(entry, 'path must be a resource path like /v1/invoices/{invoice_id}');
    }
    const name = `${entry} (${route.method} ${route.path})`;
    const shape = routeArn('', route.method, route.path);
    const clash = shapes.get(shape);
    if (clash !== undefined) {
      return at(name, `overlaps ${clash} (same method and shape)`);
    }
    shapes.set(shape, `routes ${route.method} ${route.path}`);
    const sibling = notePathParams(route.path, parents);
    if (sibling) return at(name, sibling);
    if (!Array.isArray(route.scopes)) return at(name, 'scopes must be an array (empty: any key)');
    for (const scope of route.scopes) {
      if (typeof scope !== 'string' || !(baseScopes.has(scope) || teamScopes.has(scope))) {
        return at(name, `unknown scope ${JSON.stringify(scope)} (declare it in an area)`);
      }
      used.add(scope);
    }
    const keyTypes =
      route.keyTypes ??
      (route.scopes.length > 0 && route.scopes.every(isBilling)
        ? (['owner', 'billing'] as const)
        : (['owner', 'general'] as const));
    if (
      !Array.isArray(keyTypes) ||
      keyTypes.length === 0 ||
      !keyTypes.every((t) => KEY_TYPES.includes(t))
    ) {
      return at(name, 'keyTypes must be a non-empty list of owner, general, billing');
    }
    if (typeof route.handler !== 'string' || route.handler === '') {
      return at(name, 'handler must be the path of a module exporting handler');
    }
    if (!options.handlerExists(route.handler)) {
      return at(name, `handler ${route.handler} does not exist`);
    }
    if (route.summary !== undefined && typeof route.summary !== 'string') {
      return at(name, 'summary must be a string');
    }
    if (
      route.cost !== undefined &&
      !(Number.isInteger(route.cost) && route.cost >= 0 && route.cost <= 1000)
    ) {
      return at(name, 'cost must be a whole number from 0 to 1000');
    }
    routes.push({
      id: `${route.method} ${route.path}`,
      method: route.method,
      path: route.path,
      scopes: [...route.scopes].sort(),
      keyTypes: [...keyTypes],
      handler: route.handler,
      summary: route.summary ?? `${route.method} ${route.path}`,
      ...(route.cost === undefined ? {} : { cost: route.cost }),
    });
  }
  const plans = plansOf(config, routes);
  if (!plans.ok) return at(plans.entry, plans.problem);
  const warningsSetting = warningsOf(config.warnings);
  if (!warningsSetting.ok) return at(warningsSetting.entry, warningsSetting.problem);
  const warnings = [...teamScopes.entries()]
    .filter(([scope]) => !used.has(scope))
    .map(([scope, area]) => `${options.file}: ${area}: no route uses ${scope}`);

  const lock = [...options.lock];
  for (const scope of [...teamScopes.keys()].sort()) if (!lock.includes(scope)) lock.push(scope);
  return {
    ok: true,
    spec: {
      version: 1,
      preset,
      areas,
      routes,
      scopeLock: lock,
      ...plans.value,
      ...(warningsSetting.value === undefined ? {} : { warnings: warningsSetting.value }),
    },
    warnings,
    lockChanged: lock.length !== options.lock.length,
  };
}

/**
 * Records the path parameter under each parent; API Gateway refuses two different names under
 * one parent (`{id}` beside `{invoice_id}`). A message when the path would.
 */
function notePathParams(path: string, parents: Map<string, string>): string | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  for (const [i, segment] of segments.entries()) {
    if (!segment.startsWith('{')) continue;
    const parent = `/${segments.slice(0, i).join('/')}`;
    const existing = parents.get(parent);
    if (existing !== undefined && existing !== segment) {
      return `${segment} would sit beside ${existing} under ${parent}; use the same parameter name`;
    }
    parents.set(parent, segment);
  }
  return undefined;
}

const PLAN_ID = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * The config's plans, each checked: a unique id, limits that can work, and no route costing more
 * than a plan's burst (such a call could never pass); `defaultPlan` one of them.
 */
function plansOf(
  config: TeamConfig,
  routes: readonly TeamRouteSpec[],
):
  | { ok: true; value: { plans?: Plan[]; defaultPlan?: string } }
  | { ok: false; entry: string; problem: string } {
  const bad = (entry: string, problem: string) => ({ ok: false as const, entry, problem });
  if (config.plans === undefined) {
    return config.defaultPlan === undefined
      ? { ok: true, value: {} }
      : bad('defaultPlan', 'names a plan, but there are no plans');
  }
  if (!Array.isArray(config.plans)) return bad('plans', 'must be an array');
  const plans: Plan[] = [];
  for (const [i, plan] of config.plans.entries()) {
    const entry = `plans[${i}]`;
    if (plan === null || typeof plan !== 'object') return bad(entry, 'must be an object');
    if (typeof plan.id !== 'string' || !PLAN_ID.test(plan.id)) {
      return bad(entry, 'id must be lowercase letters, digits, "-" or "_", starting with a letter');
    }
    const name = `${entry} (${plan.id})`;
    if (plans.some((p) => p.id === plan.id)) return bad(name, 'the id is taken');
    const fault = limitsFault(plan);
    if (fault) return bad(name, fault);
    const costly = plan.rate && routes.find((r) => (r.cost ?? 1) > (plan.rate?.burst ?? 0));
    if (costly) {
      return bad(name, `its burst (${plan.rate?.burst}) is below the cost of ${costly.id}`);
    }
    plans.push({
      id: plan.id,
      ...(plan.rate ? { rate: { perSecond: plan.rate.perSecond, burst: plan.rate.burst } } : {}),
      ...(plan.quota ? { quota: { ...plan.quota } } : {}),
    });
  }
  if (config.defaultPlan !== undefined && !plans.some((p) => p.id === config.defaultPlan)) {
    return bad('defaultPlan', `${JSON.stringify(config.defaultPlan)} is not one of the plans`);
  }
  return {
    ok: true,
    value: {
      plans,
      ...(config.defaultPlan === undefined ? {} : { defaultPlan: config.defaultPlan }),
    },
  };
}

/** Longest threshold a warning may have: ten years, past any key's sensible lifetime. */
const MAX_WARNING_DAYS = 3650;
const MAX_EXPIRY_THRESHOLDS = 10;

/**
 * The config's `warnings`, each setting checked: `expiryDays` distinct whole days (at most
 * {@link MAX_EXPIRY_THRESHOLDS}; `[]` turns expiry warnings off), `unusedDays` whole days, and
 * `disableUnused` only with `unusedDays` (it has nothing to act on otherwise).
 */
function warningsOf(
  raw: unknown,
): { ok: true; value: WarningsConfig | undefined } | { ok: false; entry: string; problem: string } {
  const bad = (entry: string, problem: string) => ({ ok: false as const, entry, problem });
  if (raw === undefined) return { ok: true, value: undefined };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return bad('warnings', 'must be an object { expiryDays?, unusedDays?, disableUnused? }');
  }
  const given = raw as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!['expiryDays', 'unusedDays', 'disableUnused'].includes(key)) {
      return bad(`warnings.${key}`, 'is not a setting (expiryDays, unusedDays, disableUnused)');
    }
  }
  const wholeDays = (value: unknown) =>
    Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_WARNING_DAYS;
  const { expiryDays, unusedDays, disableUnused } = given;
  if (expiryDays !== undefined) {
    if (
      !Array.isArray(expiryDays) ||
      expiryDays.length > MAX_EXPIRY_THRESHOLDS ||
      !expiryDays.every(wholeDays)
    ) {
      return bad(
        'warnings.expiryDays',
        `must be a list of at most ${MAX_EXPIRY_THRESHOLDS} whole numbers of days from 1 to ${MAX_WARNING_DAYS} ([] for none)`,
      );
    }
    if (new Set(expiryDays).size !== expiryDays.length) {
      return bad('warnings.expiryDays', 'lists a number of days twice');
    }
  }
  if (unusedDays !== undefined && !wholeDays(unusedDays)) {
    return bad(
      'warnings.unusedDays',
      `must be a whole number of days from 1 to ${MAX_WARNING_DAYS}`,
    );
  }
  if (disableUnused !== undefined && typeof disableUnused !== 'boolean') {
    return bad('warnings.disableUnused', 'must be true or false');
  }
  if (disableUnused === true && unusedDays === undefined) {
    return bad('warnings.disableUnused', 'needs unusedDays (after how many days unused)');
  }
  return {
    ok: true,
    value: {
      ...(expiryDays === undefined
        ? {}
        : { expiryDays: [...(expiryDays as number[])].sort((a, b) => b - a) }),
      ...(unusedDays === undefined ? {} : { unusedDays: unusedDays as number }),
      ...(disableUnused === undefined ? {} : { disableUnused }),
    },
  };
}

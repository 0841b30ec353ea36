import { remember } from '../domain/memo.js';
import type { KeyType } from '../domain/scopes.js';
import { ROUTE_LIST, type RouteDefinition } from '../routes.js';
import { routeArn } from './api-gateway.js';

/** An IAM policy as a REST API Lambda authorizer returns it. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: {
    Action: 'execute-api:Invoke';
    Effect: 'Allow' | 'Deny';
    Resource: string[];
  }[];
}

/** What the policy builder needs of a route: the route table's, or one a deployment added. */
export type PolicyRoute = Pick<RouteDefinition, 'method' | 'path' | 'access'>;

/**
 * Which of a key's secrets was presented: its current one, or the one a roll is retiring (valid
 * until the grace period ends). A retiring secret may have leaked (that is why one rolls), so it
 * may read and use the API but never manage keys: it cannot roll, change or delete its own key
 * (or any other), so nothing it does can end the newer secret or mint one of its own.
 */
export type SecretKind = 'current' | 'previous';

/** Whether a key of this type with these scopes, presented with this secret, may call the route. */
export function keyMayCall(
  route: Pick<RouteDefinition, 'access'>,
  type: KeyType,
  scopes: ReadonlySet<string>,
  secret: SecretKind = 'current',
) {
  if (route.access.kind === 'public') return true;
  if (secret === 'previous' && route.access.managesKeys === true) return false;
  return route.access.keyTypes.includes(type) && route.access.scopes.every((s) => scopes.has(s));
}

/** The route of a request among `routes`, by method and resource path (the route's template). */
export function findRoute<R extends PolicyRoute>(
  routes: readonly R[],
  method: string,
  resourcePath: string,
): R | undefined {
  let byKey = routeIndexes.get(routes) as Map<string, R> | undefined;
  if (!byKey) {
    byKey = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
    routeIndexes.set(routes, byKey);
  }
  return byKey.get(`${method} ${resourcePath}`);
}

const routeIndexes = new WeakMap<readonly PolicyRoute[], Map<string, PolicyRoute>>();

/** Policies by stage, type and secret, for one route and one scope set. */
type PolicyCache = Map<string, PolicyDocument>;

/**
 * Memoised policies per route (the route object itself: two route lists may hold routes of the
 * same path with other access), then per scope set: by the array itself first (repositories hand
 * out one shared, frozen array per scope set, `internScopes` in `scope-codes.ts`, so a warm
 * authorizer finds its policy without hashing some 5 KB of scope names), then by the joined
 * names, once.
 */
const byRoute = new WeakMap<
  PolicyRoute,
  { byArray: WeakMap<readonly string[], PolicyCache>; byNames: Map<string, PolicyCache> }
>();
const unknownRoute = new Map<string, PolicyDocument>();

/**
 * The policy for one key on one route: Allow that route's method ARN when the key may call it,
 * else an explicit Deny of the whole stage.
 *
 * The result is cached by API Gateway per key, source address, method and resource path (see
 * `IDENTITY_SOURCES`), so it only ever answers requests to the route it was computed for, and it
 * is exact for any route table: a request reaches a route exactly when the key holds every scope
 * the route needs and is of an allowed type. A policy listing every route a key may call cannot
 * be exact, because an IAM `*` also matches `/`: `GET/v3/api_keys/*` would allow a deeper route
 * `GET /v3/api_keys/{id}/usage` that needs other scopes.
 *
 * `route` undefined (a method the route list does not know): Deny, fail closed.
 *
 * @example
 * policyFor(stage, { type: 'general', scopes: ['mail.send'] }, ROUTES.sendMail)
 * // Allow [arn:…/prod/POST/v3/mail/send]
 */
export function policyFor(
  stage: string,
  key: { type: KeyType; scopes: readonly string[]; secret?: SecretKind },
  route: PolicyRoute | undefined,
): PolicyDocument {
  if (route === undefined) {
    return unknownRoute.get(stage) ?? remember(unknownRoute, stage, denyAll(stage), 64);
  }
  let forRoute = byRoute.get(route);
  if (!forRoute) {
    forRoute = { byArray: new WeakMap(), byNames: new Map() };
    byRoute.set(route, forRoute);
  }
  let cache = forRoute.byArray.get(key.scopes);
  if (!cache) {
    const names = key.scopes.join(' ');
    cache = forRoute.byNames.get(names);
    // Distinct scope sets are few; the bound only guards a container against unbounded growth.
    if (!cache) cache = remember(forRoute.byNames, names, new Map(), 1024);
    forRoute.byArray.set(key.scopes, cache);
  }
  const secret = key.secret ?? 'current';
  const memoKey = `${stage}\u0000${key.type}\u0000${secret}`;
  const memoised = cache.get(memoKey);
  if (memoised) return memoised;
  const allowed =
    route.access.kind === 'key' && keyMayCall(route, key.type, new Set(key.scopes), secret);
  const policy = freeze({
    Version: '2012-10-17',
    Statement: [
      allowed
        ? {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: [routeArn(stage, route.method, route.path)],
          }
        : { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${stage}/*`] },
    ],
  });
  // Per route and scope set: a few stages, types and secrets.
  remember(cache, memoKey, policy, 64);
  return policy;
}

/** An explicit Deny of every method of the stage. */
export function denyAll(stage: string): PolicyDocument {
  return freeze({
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${stage}/*`] }],
  });
}

/** Frozen, deeply: one memoised object answers every verification of a scope set. */
function freeze(policy: PolicyDocument): PolicyDocument {
  for (const statement of policy.Statement) {
    Object.freeze(statement.Resource);
    Object.freeze(statement);
  }
  Object.freeze(policy.Statement);
  return Object.freeze(policy);
}

/** The route table, for callers that have no list of their own. */
export const DEFAULT_POLICY_ROUTES: readonly PolicyRoute[] = ROUTE_LIST;

import { routeArn } from '../gateway.js';
import { ROUTE_LIST, type RouteDefinition } from '../routes.js';
import { remember } from './memo.js';
import type { KeyType } from './scopes.js';

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

/** Whether a key of this type with these scopes may call the route. */
export function keyMayCall(
  route: Pick<RouteDefinition, 'access'>,
  type: KeyType,
  scopes: ReadonlySet<string>,
) {
  if (route.access.kind === 'public') return true;
  return route.access.keyTypes.includes(type) && route.access.scopes.every((s) => scopes.has(s));
}

/** Policies by stage and type, for one scope set. */
type PolicyCache = Map<string, PolicyDocument>;

/**
 * Memoised policies per route list (the authorizer builds its list once per container), per
 * scope set, then per stage and type. Scope sets are found by the array itself first:
 * repositories hand out one shared array per scope set (`internScopes` in `scope-codes.ts`), and hashing the
 * joined names of a full-access key (some 5 KB) cost more than the rest of the hot path
 * together. Another array with the same scopes is found by its joined names, once.
 */
const caches = new WeakMap<
  readonly PolicyRoute[],
  { byArray: WeakMap<readonly string[], PolicyCache>; byNames: Map<string, PolicyCache> }
>();

/**
 * The policy for a key: every method ARN of the route table its type and scopes permit, so one
 * cached authorizer result is right for every route. Never the single `methodArn` of the
 * request (a cached result would then deny every other route, or allow the wrong one).
 *
 * Kept small for API Gateway's result size limit: one statement; when the key may call every
 * route (the owner key), one stage-wide wildcard instead of the list. Memoised per route list,
 * stage, type and scope set, so the hot path builds each distinct policy once per container
 * (pass the same `routes` array every time: the route table, or the authorizer's list with the
 * deployment's extra routes).
 *
 * @example
 * policyFor('arn:aws:execute-api:us-east-1:123:abc/prod', 'general', ['mail.send'])
 * // Allow [.../prod/POST/v3/mail/send, .../prod/GET/v3/scopes]
 */
export function policyFor(
  stage: string,
  type: KeyType,
  scopes: readonly string[],
  routes: readonly PolicyRoute[] = ROUTE_LIST,
): PolicyDocument {
  let forRoutes = caches.get(routes);
  if (!forRoutes) {
    forRoutes = { byArray: new WeakMap(), byNames: new Map() };
    caches.set(routes, forRoutes);
  }
  let cache = forRoutes.byArray.get(scopes);
  if (!cache) {
    const names = scopes.join(' ');
    cache = forRoutes.byNames.get(names);
    if (!cache) {
      // Distinct scope sets are few; the bound only guards a container against unbounded growth.
      cache = remember(forRoutes.byNames, names, new Map(), 1024);
    }
    forRoutes.byArray.set(scopes, cache);
  }
  const memoKey = `${stage}\u0000${type}`;
  const memoised = cache.get(memoKey);
  if (memoised) return memoised;
  const held = new Set(scopes);
  const keyed = routes.filter((r) => r.access.kind === 'key');
  const allowed = keyed.filter((r) => keyMayCall(r, type, held));
  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement:
      allowed.length === 0
        ? [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${stage}/*`] }]
        : [
            {
              Action: 'execute-api:Invoke',
              Effect: 'Allow',
              Resource:
                allowed.length === keyed.length
                  ? [`${stage}/*`]
                  : allowed.map((r) => routeArn(stage, r.method, r.path)),
            },
          ],
  };
  // Frozen, deeply: one memoised object answers every verification of this scope set.
  for (const statement of policy.Statement) {
    Object.freeze(statement.Resource);
    Object.freeze(statement);
  }
  Object.freeze(policy.Statement);
  Object.freeze(policy);
  cache.set(memoKey, policy);
  return policy;
}

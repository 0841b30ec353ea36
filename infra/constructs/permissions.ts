import type { DeployedRoute } from '../../shared/deployment/deployment.js';
import { keys, ON_BEHALF_OF, type Permission } from '../../shared/permissions.js';
import type { AdapterName } from '../../shared/routes.js';

export type { DynamoAction, Permission, TableName } from '../../shared/permissions.js';

/**
 * What each Lambda function may do. A route's function gets what its contract in the route
 * table declares (`permissions`: its operation's storage calls), what its adapters need, and
 * resolving `on-behalf-of` where the route takes it; the other functions' are below.
 */

/** What an adapter's calls need. */
const ADAPTER_PERMISSIONS: { readonly [A in AdapterName]: Permission } = {
  authorizerCache: { kind: 'flushAuthorizerCache' },
  mailer: { kind: 'sendEmail' },
};

/** The trailing flusher: the flush lease's stream, and the flush (with the lease) itself. */
export const CACHE_FLUSHER_PERMISSIONS: readonly Permission[] = [
  { kind: 'flushAuthorizerCache' },
  { kind: 'readStream', table: 'flush' },
];

/** The lifecycle-events publisher: the audit table's stream, and putting onto the bus. */
export const AUDIT_EVENTS_PERMISSIONS: readonly Permission[] = [
  { kind: 'readStream', table: 'audit' },
  { kind: 'putEvents' },
];

/**
 * The key-warnings scan: reading every key, recording its warnings, and, where the config
 * disables unused keys, flushing the stage's authorizer cache after it disabled some.
 */
export function keyWarningsPermissions(disables: boolean): readonly Permission[] {
  return [
    { kind: 'keyWarnings' },
    ...(disables ? [{ kind: 'flushAuthorizerCache' } as const] : []),
  ];
}

/**
 * What a route's function may do: its contract's storage calls, its adapters', `on-behalf-of`,
 * and counting usage where the team declared plans (every key route counts against the
 * caller's plan unless it costs nothing).
 */
export function permissionsOf(route: DeployedRoute, withPlans = false): readonly Permission[] {
  const access = route.access;
  const counted = withPlans && access.kind === 'key' && route.cost !== 0;
  return [
    ...route.permissions,
    ...(route.adapters ?? []).map((adapter) => ADAPTER_PERMISSIONS[adapter]),
    ...(access.kind === 'key' && access.onBehalfOf === true ? [ON_BEHALF_OF] : []),
    ...(counted ? [{ kind: 'countUsage' } as const] : []),
  ];
}

/**
 * The authorizer: one strongly consistent `GetItem` by key ID, and the last-use record (a
 * conditional `UpdateItem` at most once a minute per key, limited to the last-use attributes).
 */
export const AUTHORIZER_PERMISSIONS: readonly Permission[] = [
  keys('dynamodb:GetItem'),
  { kind: 'touchKeys' },
];

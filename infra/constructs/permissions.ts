import { CURSOR_KEY_PK } from '../../shared/adapters/dynamodb/keys-repository.js';
import { ROUTES, type RouteId } from '../../shared/routes.js';

/**
 * What each Lambda function may do, derived from the code it runs (read from
 * `shared/adapters/dynamodb/keys-repository.ts`, `shared/domain/*.ts`, the SES mailer and the
 * authorizer-cache adapter). The map is keyed by every {@link RouteId}: a route added to the table
 * without a decision here does not compile.
 *
 * Transactions (`TransactWriteItems`) have no IAM action of their own: each item is authorised
 * as the single-item action it performs (`Put` → `PutItem`, `Update` → `UpdateItem`, …).
 */

export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:Query';

export type TableName = 'keys' | 'accounts' | 'audit' | 'flush';

export type Permission =
  /**
   * Item actions on a table (never its indexes); with `leadingKeys`, only on the items whose
   * partition key is one of them (IAM's `dynamodb:LeadingKeys`).
   */
  | {
      kind: 'table';
      table: TableName;
      actions: readonly DynamoAction[];
      leadingKeys?: readonly string[];
    }
  /** `Query` on one global secondary index of a table. */
  | { kind: 'index'; table: TableName; index: string }
  /**
   * `FlushStageAuthorizersCache` on this API's stage (`apigateway:DELETE` on its cache), through
   * the stage's flush lease (`GetItem`, `UpdateItem` on the flush table's one item).
   */
  | { kind: 'flushAuthorizerCache' }
  /** `ses:SendEmail` as the configured SES identity (nothing when none is configured). */
  | { kind: 'sendEmail' }
  /** `UpdateItem` on the keys table, only of the last-use attributes (the authorizer). */
  | { kind: 'touchKeys' }
  /** Reading a table's stream, for a Lambda trigger on it (the trailing flusher). */
  | { kind: 'readStream'; table: TableName }
  /** `events:PutEvents` on the deployment's event bus only (the lifecycle-events publisher). */
  | { kind: 'putEvents' };

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

const keys = (...actions: DynamoAction[]): Permission => ({
  kind: 'table',
  table: 'keys',
  actions,
});
const accounts = (...actions: DynamoAction[]): Permission => ({
  kind: 'table',
  table: 'accounts',
  actions,
});
/** Appending to the audit log: `PutItem` only (under `attribute_not_exists`), never update or delete. */
const AUDIT: Permission = { kind: 'table', table: 'audit', actions: ['dynamodb:PutItem'] };
const FLUSH: Permission = { kind: 'flushAuthorizerCache' };
/**
 * The deployment's audit-cursor key: one item of the accounts table, read, and created on the
 * deployment's first use (a `PutItem` under `attribute_not_exists`); never an account's item.
 */
const CURSOR_KEY: Permission = {
  kind: 'table',
  table: 'accounts',
  actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  leadingKeys: [CURSOR_KEY_PK],
};

/**
 * Counting a key's refused attempts (`recordRefusal`: one `UpdateItem` of its
 * `refusals#<key id>#<hour>` counter, in the transaction that appends the event), and nothing
 * else of the accounts table, for the functions that have no wider `UpdateItem` there.
 */
const REFUSALS: Permission = {
  kind: 'table',
  table: 'accounts',
  actions: ['dynamodb:UpdateItem'],
  leadingKeys: ['refusals#*'],
};

/**
 * Resolving `on-behalf-of` (`actingCaller`): the name's reservation, then the account's item;
 * both `GetItem`, on those two kinds of item only.
 */
const ON_BEHALF_OF: Permission = {
  kind: 'table',
  table: 'accounts',
  actions: ['dynamodb:GetItem'],
  leadingKeys: ['name#*', 'account#*'],
};

/**
 * Per route, beyond writing its own log group. Routes that take `on-behalf-of` also resolve it
 * (ON_BEHALF_OF). Every change to a key is one transaction that
 * also appends its audit event; a refused attempt appends one with its bounded counter (REFUSALS,
 * or the function's own `UpdateItem` on accounts).
 * - createApiKey: `getAccount` (its maximum key lifetime), `insertKey` = one transaction:
 *   `Update` the account's counter, `Put` the key, `Put` the event.
 * - listApiKeys: `listKeys` = `Query` on `byAccount`.
 * - getApiKey: `getKey` = `GetItem`.
 * - renameApiKey: `getKey`, `updateKey` (`Update` the key, `Put` the event); never flushes.
 * - replaceApiKey: `getAccount` (when an expiry is asked for), `getKey`, `updateKey`, and a
 *   flush when access changes.
 * - deleteApiKey: `getKey`, `deleteKey` = one transaction: `Delete` the key, `Update` the
 *   account's counter, `Put` the event; then a flush.
 * - listApiKeyEvents: `Query` on the audit table and its `byTarget` index; `cursorKey` =
 *   `GetItem` of the cursor key's item, and `PutItem` of it on the deployment's first use.
 * - rollApiKey: `getKey`, `updateKey`, then a flush.
 * - revokeApiKeysByValue: `getKey` (the ID is in the value), then `deleteKey` or `updateKey`
 *   (grace periods), then a flush; refused attempts count on the accounts table.
 * - revokeLeakedApiKeys: `Query` on `byHash`, `getKey`, then `deleteKey` or `updateKey` (owner
 *   keys, grace periods), then a flush.
 * - listScopes: answers from the authorizer context, no I/O.
 * - listScopeAreas: answers from the deployment's catalogue (in the bundle), no I/O.
 * - sendMail: SES `SendEmail`; no table.
 * - getBillingProfile: `getBillingProfile` = `GetItem` on the account.
 * - updateBillingProfile: `updateBillingContact` = conditional `UpdateItem` on the account.
 * - getHealth, getOpenApi: no I/O.
 * - listSubusers: `getAccount` (the caller must be a parent), `Query` on accounts' `byParent`.
 * - createSubuser: `getAccount`, `createSubuser` = one transaction: `Update` the parent's
 *   counter, `Put` the name's and the ID's reservations and the account, `Put` the event.
 * - updateSubuser: `getAccount`, the name's reservation and the subuser (`GetItem`),
 *   `setAccountDisabled` = a transaction (`Update` the account, `Put` the events), then
 *   `Query` on keys' `byAccount` and transactions that `ConditionCheck` the account and `Update`
 *   each key, an `UpdateItem` ending the marking window; then a flush.
 * - deleteSubuser: as update to find it, then `UpdateItem` (being deleted), `Query` on
 *   `byAccount`, transactions that `Update` the counter and `Delete` keys, and one that
 *   `Delete`s the account and its reservations, `Update`s the parent's counter and `Put`s the
 *   event; then a flush. The audit log stays append-only: the subuser's events are kept.
 */
export const ROUTE_PERMISSIONS: { readonly [K in RouteId]: readonly Permission[] } = {
  createApiKey: [
    keys('dynamodb:PutItem'),
    accounts('dynamodb:GetItem', 'dynamodb:UpdateItem'),
    AUDIT,
  ],
  listApiKeys: [{ kind: 'index', table: 'keys', index: 'byAccount' }],
  getApiKey: [keys('dynamodb:GetItem')],
  renameApiKey: [keys('dynamodb:GetItem', 'dynamodb:UpdateItem'), AUDIT, REFUSALS],
  replaceApiKey: [
    keys('dynamodb:GetItem', 'dynamodb:UpdateItem'),
    accounts('dynamodb:GetItem'),
    REFUSALS,
    AUDIT,
    FLUSH,
  ],
  deleteApiKey: [
    keys('dynamodb:GetItem', 'dynamodb:DeleteItem'),
    accounts('dynamodb:UpdateItem'),
    AUDIT,
    FLUSH,
  ],
  listApiKeyEvents: [
    { kind: 'table', table: 'audit', actions: ['dynamodb:Query'] },
    { kind: 'index', table: 'audit', index: 'byTarget' },
    CURSOR_KEY,
  ],
  rollApiKey: [keys('dynamodb:GetItem', 'dynamodb:UpdateItem'), REFUSALS, AUDIT, FLUSH],
  revokeApiKeysByValue: [
    keys('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
    accounts('dynamodb:UpdateItem'),
    AUDIT,
    FLUSH,
  ],
  revokeLeakedApiKeys: [
    { kind: 'index', table: 'keys', index: 'byHash' },
    keys('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
    accounts('dynamodb:UpdateItem'),
    AUDIT,
    FLUSH,
  ],
  listScopes: [],
  listScopeAreas: [],
  listSubusers: [
    accounts('dynamodb:GetItem'),
    { kind: 'index', table: 'accounts', index: 'byParent' },
  ],
  createSubuser: [accounts('dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'), AUDIT],
  updateSubuser: [
    accounts('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'),
    { kind: 'index', table: 'keys', index: 'byAccount' },
    keys('dynamodb:GetItem', 'dynamodb:UpdateItem'),
    AUDIT,
    FLUSH,
  ],
  deleteSubuser: [
    accounts('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
    { kind: 'index', table: 'keys', index: 'byAccount' },
    keys('dynamodb:DeleteItem'),
    AUDIT,
    FLUSH,
  ],
  sendMail: [{ kind: 'sendEmail' }],
  getBillingProfile: [accounts('dynamodb:GetItem')],
  updateBillingProfile: [accounts('dynamodb:UpdateItem')],
  getHealth: [],
  getOpenApi: [],
};

/** What a route's function may do: its own needs, and resolving `on-behalf-of` where it is taken. */
export function permissionsOf(id: RouteId): readonly Permission[] {
  const access = ROUTES[id].access;
  const own = ROUTE_PERMISSIONS[id];
  return access.kind === 'key' && 'onBehalfOf' in access && access.onBehalfOf === true
    ? [...own, ON_BEHALF_OF]
    : own;
}

/**
 * The authorizer: one strongly consistent `GetItem` by key ID, and the last-use record (a
 * conditional `UpdateItem` at most once a minute per key, limited to the last-use attributes).
 */
export const AUTHORIZER_PERMISSIONS: readonly Permission[] = [
  keys('dynamodb:GetItem'),
  { kind: 'touchKeys' },
];

import type { RouteId } from '../../shared/routes.js';

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
  | 'dynamodb:Query';

export type TableName = 'keys' | 'accounts';

export type Permission =
  /** Item actions on a table (never its indexes). */
  | { kind: 'table'; table: TableName; actions: readonly DynamoAction[] }
  /** `Query` on one global secondary index of a table. */
  | { kind: 'index'; table: TableName; index: string }
  /** `FlushStageAuthorizersCache` on this API's stage (`apigateway:DELETE` on its cache). */
  | { kind: 'flushAuthorizerCache' }
  /** `ses:SendEmail` as the configured SES identity (nothing when none is configured). */
  | { kind: 'sendEmail' };

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
const FLUSH: Permission = { kind: 'flushAuthorizerCache' };

/**
 * Per route, beyond writing its own log group:
 * - createApiKey: `insertKey` = one transaction: `Update` the account's counter, `Put` the key.
 * - listApiKeys: `listKeys` = `Query` on `byAccount`.
 * - getApiKey: `getKey` = `GetItem`.
 * - renameApiKey: `getKey`, `updateKey` (`UpdateItem`); scopes never change, so it never flushes.
 * - replaceApiKey: `getKey`, `updateKey`, and a flush when the scopes change.
 * - deleteApiKey: `getKey`, `deleteKey` = one transaction: `Delete` the key, `Update` the
 *   account's counter; then a flush.
 * - listScopes: answers from the authorizer context, no I/O.
 * - sendMail: SES `SendEmail`; no table.
 * - getBillingProfile: `getBillingProfile` = `GetItem` on the account.
 * - updateBillingProfile: `updateBillingContact` = conditional `UpdateItem` on the account.
 * - getHealth, getOpenApi: no I/O.
 */
export const ROUTE_PERMISSIONS: { readonly [K in RouteId]: readonly Permission[] } = {
  createApiKey: [keys('dynamodb:PutItem'), accounts('dynamodb:UpdateItem')],
  listApiKeys: [{ kind: 'index', table: 'keys', index: 'byAccount' }],
  getApiKey: [keys('dynamodb:GetItem')],
  renameApiKey: [keys('dynamodb:GetItem', 'dynamodb:UpdateItem')],
  replaceApiKey: [keys('dynamodb:GetItem', 'dynamodb:UpdateItem'), FLUSH],
  deleteApiKey: [
    keys('dynamodb:GetItem', 'dynamodb:DeleteItem'),
    accounts('dynamodb:UpdateItem'),
    FLUSH,
  ],
  listScopes: [],
  sendMail: [{ kind: 'sendEmail' }],
  getBillingProfile: [accounts('dynamodb:GetItem')],
  updateBillingProfile: [accounts('dynamodb:UpdateItem')],
  getHealth: [],
  getOpenApi: [],
};

/** The authorizer: one strongly consistent `GetItem` by key ID, nothing else. */
export const AUTHORIZER_PERMISSIONS: readonly Permission[] = [keys('dynamodb:GetItem')];

import { CURSOR_KEY_PK } from './adapters/dynamodb/keys-repository.js';

/**
 * What a function may do beyond writing its own log group, as data: each route declares its own
 * in the route table (`permissions`), from the storage calls its operation makes; infra turns
 * them into IAM statements (`infra/constructs/permissions.ts`), and a test holds the statements
 * to these declarations.
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
  | 'dynamodb:Query'
  | 'dynamodb:Scan';

export type TableName = 'keys' | 'accounts' | 'audit' | 'flush' | 'usage';

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
  | { kind: 'putEvents' }
  /**
   * Counting requests against the account's plan (where the team declared plans): `UpdateItem`
   * and `GetItem` on the usage table, `GetItem` of account items (their plan), and `PutItem` on
   * the audit table (a quota threshold crossed).
   */
  | { kind: 'countUsage' }
  /**
   * The key-warnings scan: `Scan` of the keys table, `UpdateItem` of a key's warning markers only
   * (and `disabledAt`: IAM's `dynamodb:Attributes` names every attribute it may touch), `PutItem`
   * on the audit table (the warnings' events).
   */
  | { kind: 'keyWarnings' };

export const keys = (...actions: DynamoAction[]): Permission => ({
  kind: 'table',
  table: 'keys',
  actions,
});
export const accounts = (...actions: DynamoAction[]): Permission => ({
  kind: 'table',
  table: 'accounts',
  actions,
});
export const index = (table: TableName, name: string): Permission => ({
  kind: 'index',
  table,
  index: name,
});
/** Appending to the audit log: `PutItem` only (under `attribute_not_exists`), never update or delete. */
export const AUDIT: Permission = { kind: 'table', table: 'audit', actions: ['dynamodb:PutItem'] };
/**
 * The deployment's audit-cursor key: one item of the accounts table, read, and created on the
 * deployment's first use (a `PutItem` under `attribute_not_exists`); never an account's item.
 */
export const CURSOR_KEY: Permission = {
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
export const REFUSALS: Permission = {
  kind: 'table',
  table: 'accounts',
  actions: ['dynamodb:UpdateItem'],
  leadingKeys: ['refusals#*'],
};
/**
 * Resolving `on-behalf-of` (`actingCaller`): the name's reservation, then the account's item;
 * both `GetItem`, on those two kinds of item only. Every route that takes the header gets it.
 */
export const ON_BEHALF_OF: Permission = {
  kind: 'table',
  table: 'accounts',
  actions: ['dynamodb:GetItem'],
  leadingKeys: ['name#*', 'account#*'],
};
/**
 * Reading usage counters (`UsageStore.read`): `GetItem` on the usage table, nothing else of it,
 * so a reader can never count, reset or change anyone's usage.
 */
export const USAGE_READ: Permission = {
  kind: 'table',
  table: 'usage',
  actions: ['dynamodb:GetItem'],
};

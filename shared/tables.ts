import type { CreateTableCommandInput, UpdateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one definition of Keygate's tables. Infra (CDK), the local runtime and the tests all build
 * their tables from these objects, so the key schema cannot drift between them.
 */

export interface IndexDefinition {
  indexName: string;
  partitionKey: string;
  sortKey?: string;
  /** `KEYS_ONLY` when callers only need the key, `ALL` when they read the item from the index. */
  projection: 'KEYS_ONLY' | 'ALL';
}

export interface TableDefinition {
  /** Suffix of the physical table name (`<prefix>-<suffix>`). */
  suffix: string;
  partitionKey: string;
  sortKey?: string;
  indexes: readonly IndexDefinition[];
  /** A number attribute (epoch seconds) after which DynamoDB deletes the item (TTL). */
  timeToLiveAttribute?: string;
  /** A DynamoDB stream of the items' new images, for a Lambda trigger (deployed tables only). */
  stream?: 'NEW_IMAGE';
}

/** The TTL attribute of the tables that have one. */
export const TTL_ATTRIBUTE = 'ttl';

/**
 * Keys, one item per key, keyed by key ID (the authorizer's single `GetItem`).
 * - `byHash`: SHA-256 of the key → key ID (leaked-key reports, operator look-ups). KEYS_ONLY:
 *   the caller then reads the item strongly consistently by ID.
 * - `byAccount`: account → its keys, oldest first (listing). ALL, because the list shows the
 *   key's metadata and a GSI's projection cannot be changed in place later.
 */
export const KEYS_TABLE: TableDefinition = {
  suffix: 'keys',
  partitionKey: 'keyId',
  indexes: [
    { indexName: 'byHash', partitionKey: 'keyHash', projection: 'KEYS_ONLY' },
    { indexName: 'byAccount', partitionKey: 'accountId', sortKey: 'createdAt', projection: 'ALL' },
  ],
};

/**
 * Accounts: `account#<id>` items hold the name, key limit, the exact key counter and the state
 * (disabled, being deleted); `name#<lowercased name>` items reserve a name (unique names, whatever
 * their case, without a scan); `userid#<n>` items reserve a subuser's numeric ID;
 * `refusals#<key id>#<hour>` items count a key's refused attempts (bounding their audit events)
 * and expire through the TTL attribute.
 * - `byParent`: a parent's subusers by lowercased name (listing, with a name prefix). Sparse:
 *   only subusers' items have `parentAccountId`. ALL, since the list shows the subuser.
 */
export const ACCOUNTS_TABLE: TableDefinition = {
  suffix: 'accounts',
  partitionKey: 'pk',
  indexes: [
    {
      indexName: 'byParent',
      partitionKey: 'parentAccountId',
      sortKey: 'nameKey',
      projection: 'ALL',
    },
  ],
  timeToLiveAttribute: TTL_ATTRIBUTE,
};

/**
 * The audit log, append-only (the application only ever puts new items, under a condition): one
 * item per event, keyed by account and a time-ordered event ID.
 * - `byTarget`: the events about one key, newest first (the console's per-key history).
 * - A stream of new images: the lifecycle events on the deployment's bus (docs/events.md).
 */
export const AUDIT_TABLE: TableDefinition = {
  suffix: 'audit',
  partitionKey: 'accountId',
  sortKey: 'eventId',
  indexes: [
    { indexName: 'byTarget', partitionKey: 'targetKeyId', sortKey: 'eventId', projection: 'ALL' },
  ],
  // Feeds the lifecycle-events publisher (`functions/audit-events/handler.ts`): every change's
  // event reaches the bus once its transaction committed, whatever its handler did next.
  stream: 'NEW_IMAGE',
};

/**
 * The stage's authorizer-cache flush lease: one item (`shared/adapters/dynamodb/flush-lease.ts`)
 * that lets at most one flush start per second and counts the changes waiting for one. Its
 * stream wakes the trailing flusher (`functions/cache-flusher.ts`). Used on AWS only: locally
 * the in-process gateway's flush costs nothing and has no quota.
 */
export const FLUSH_TABLE: TableDefinition = {
  suffix: 'flush',
  partitionKey: 'pk',
  indexes: [],
  stream: 'NEW_IMAGE',
};

/**
 * Usage counters of plans and limits: one item per subject (an account, later a key) and UTC
 * month, `u#<subject>#<YYYY-MM>`, with the month's and each day's counts and the rate limit's
 * state (`shared/adapters/dynamodb/usage-store.ts`), expiring through the TTL. Written only where
 * the team declared plans. No stream: nothing reads its changes.
 */
export const USAGE_TABLE: TableDefinition = {
  suffix: 'usage',
  partitionKey: 'pk',
  indexes: [],
  timeToLiveAttribute: TTL_ATTRIBUTE,
};

export const TABLES = [KEYS_TABLE, ACCOUNTS_TABLE, AUDIT_TABLE, FLUSH_TABLE, USAGE_TABLE] as const;

export interface TableNames {
  keys: string;
  accounts: string;
  audit: string;
}

/** The physical name of a table in a deployment whose tables share `prefix`. */
export function physicalTableName(prefix: string, table: TableDefinition): string {
  return `${prefix}-${table.suffix}`;
}

export function tableNames(prefix: string): TableNames {
  return {
    keys: physicalTableName(prefix, KEYS_TABLE),
    accounts: physicalTableName(prefix, ACCOUNTS_TABLE),
    audit: physicalTableName(prefix, AUDIT_TABLE),
  };
}

/** `CreateTable` input for DynamoDB Local (on-demand, like the deployed tables). */
export function createTableInput(
  table: TableDefinition,
  tableName: string,
): CreateTableCommandInput {
  const attributes = new Set<string>([table.partitionKey]);
  if (table.sortKey) attributes.add(table.sortKey);
  for (const index of table.indexes) {
    attributes.add(index.partitionKey);
    if (index.sortKey) attributes.add(index.sortKey);
  }
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' },
      ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
  };
  if (table.indexes.length > 0) {
    input.GlobalSecondaryIndexes = table.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
      ],
      Projection: { ProjectionType: index.projection },
    }));
  }
  return input;
}

/** `UpdateTable` input adding one index to a table an earlier release created without it. */
export function addIndexInput(tableName: string, index: IndexDefinition): UpdateTableCommandInput {
  const attributes = new Set<string>([index.partitionKey]);
  if (index.sortKey) attributes.add(index.sortKey);
  return {
    TableName: tableName,
    AttributeDefinitions: [...attributes].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    GlobalSecondaryIndexUpdates: [
      {
        Create: {
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
          ],
          Projection: { ProjectionType: index.projection },
        },
      },
    ],
  };
}

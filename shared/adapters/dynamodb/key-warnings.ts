import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../../domain/errors.js';
import type {
  DueWarning,
  KeyWarningStore,
  ScannedKey,
  WarningMarks,
} from '../../domain/key-warnings.js';
import { NEVER_USED } from '../../domain/key-warnings.js';
import type { AuditEvent } from '../../domain/ports.js';
import { logger } from '../../observability/logger.js';
import type { TableNames } from '../../tables.js';
import { storageCall, toKey, transactWrite } from './keys-repository.js';

/**
 * The attributes the scan writes on a key item, beside the key's own: the warnings' markers and
 * the disabling. The scan function's IAM policy names exactly these (with those its conditions
 * read), so it can never rewrite a key's scopes, hash or name (`infra/constructs/keygate.ts`).
 * IAM's `dynamodb:Attributes` cannot tell an attribute a condition reads from one an update
 * sets, so the role could also set the read ones (`expiresAt`, `lastUsedAt`, `version`, `type`):
 * a bound on the function's own code, not a guarantee that only markers change.
 */
export const WARNING_ATTRIBUTES = {
  /** The expiry the last expiry warning was about, and its threshold in days. */
  expiryFor: 'expiryWarnedFor',
  expiryDays: 'expiryWarnedDays',
  /** The last use (`lastUsedAt`, or `never`) the last unused warning was about. */
  unusedFor: 'unusedWarnedFor',
  disabledAt: 'disabledAt',
} as const;

/**
 * Every attribute a warning's write names (updated, or read by its condition), for IAM; enabling
 * a key (`enableKey`, also `accountId`) is the operator's, not the scan function's.
 */
export const WARNING_WRITE_ATTRIBUTES: readonly string[] = [
  'keyId',
  'expiresAt',
  'lastUsedAt',
  'version',
  'type',
  ...Object.values(WARNING_ATTRIBUTES),
];

/**
 * {@link KeyWarningStore} on DynamoDB: a paginated `Scan` of the keys table (eventually
 * consistent, half the read units of a consistent one: a key changed a moment ago is seen at the
 * next scan, and every write below re-checks the key under its condition), and one transaction per
 * warning: the marker on the key's item, under conditions, with the audit events.
 *
 * Why a marker on the key rather than a deterministic audit event ID under `attribute_not_exists`:
 * the audit table's key is `accountId` + `eventId`, and an event ID starts with its time (the log's
 * order, its cursors and `detail.id` on the bus rely on it). A deterministic ID would need a
 * deterministic time (the moment the warning became due, not when it was recorded: out of order
 * after a late scan), and could never be re-armed for an expiry that comes back to an earlier value.
 * The key's own item is where "what was this warning about" can be compared with the key's current
 * expiry and last use in the same condition.
 */
export class DynamoKeyWarningStore implements KeyWarningStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async scanKeys(after: string | undefined): Promise<{ keys: ScannedKey[]; next?: string }> {
    const page = await storageCall(() =>
      this.client.send(
        new ScanCommand({
          TableName: this.tables.keys,
          ...(after === undefined ? {} : { ExclusiveStartKey: { keyId: after } }),
        }),
      ),
    );
    // An item that cannot be read (damaged limits) is skipped and logged, not the page failed:
    // one bad item must not stop every later key's warnings. The authorizer still fails closed on
    // it.
    const keys = (page.Items ?? []).flatMap((item) => {
      try {
        return [{ key: toKey(item), marks: marksOf(item) }];
      } catch (error) {
        logger.error('key item unreadable; skipped by the warnings scan', {
          keyId: String(item.keyId),
          error,
        });
        return [];
      }
    });
    const next = page.LastEvaluatedKey?.keyId;
    return { keys, ...(typeof next === 'string' ? { next } : {}) };
  }

  async recordWarning(
    warning: DueWarning,
    events: readonly AuditEvent[],
    at: string,
  ): Promise<boolean> {
    const reasons = await transactWrite(this.client, {
      TransactItems: [
        {
          Update: {
            TableName: this.tables.keys,
            Key: { keyId: warning.key.keyId },
            ...write(warning, at),
          },
        },
        ...events.map((event) => ({
          Put: {
            TableName: this.tables.audit,
            Item: event,
            ConditionExpression: 'attribute_not_exists(eventId)',
          },
        })),
      ],
    });
    if (reasons === undefined) return true;
    // The key changed, went, or another scan recorded this warning first.
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
    throw new ServiceUnavailableError();
  }

  async enableKey(
    keyId: string,
    accountId: string,
    event: AuditEvent,
  ): Promise<'done' | 'not_found' | 'not_disabled'> {
    const reasons = await transactWrite(this.client, {
      TransactItems: [
        {
          Update: {
            TableName: this.tables.keys,
            Key: { keyId },
            UpdateExpression: `REMOVE ${WARNING_ATTRIBUTES.disabledAt}`,
            ConditionExpression: `accountId = :account AND attribute_exists(${WARNING_ATTRIBUTES.disabledAt})`,
            ExpressionAttributeValues: { ':account': accountId },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: this.tables.audit,
            Item: event,
            ConditionExpression: 'attribute_not_exists(eventId)',
          },
        },
      ],
    });
    if (reasons === undefined) return 'done';
    const key = reasons[0];
    if (key?.Code !== 'ConditionalCheckFailed') throw new ServiceUnavailableError();
    return key.Item?.accountId?.S === accountId ? 'not_disabled' : 'not_found';
  }
}

/** The conditional update recording one warning on its key's item. */
function write(warning: DueWarning, at: string) {
  const { expiryFor, expiryDays, unusedFor, disabledAt } = WARNING_ATTRIBUTES;
  if (warning.kind === 'expiry') {
    return {
      UpdateExpression: `SET ${expiryFor} = :expires, ${expiryDays} = :days`,
      // Still this expiry (a PUT that moved it re-arms the warnings), and no warning of this
      // threshold or a more urgent one given for it yet.
      ConditionExpression: `expiresAt = :expires AND (attribute_not_exists(${expiryFor}) OR ${expiryFor} <> :expires OR ${expiryDays} > :days)`,
      ExpressionAttributeValues: { ':expires': warning.expiresAt, ':days': warning.days },
    };
  }
  const used =
    warning.lastUsed === NEVER_USED ? 'attribute_not_exists(lastUsedAt)' : 'lastUsedAt = :used';
  const conditions = [
    'attribute_exists(keyId)',
    // Not used since the scan read it, and not warned about this last use yet.
    used,
    `(attribute_not_exists(${unusedFor}) OR ${unusedFor} <> :used)`,
  ];
  const values: Record<string, unknown> = { ':used': warning.lastUsed };
  if (!warning.disable) {
    return {
      UpdateExpression: `SET ${unusedFor} = :used`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeValues: values,
    };
  }
  // Disabling: also unchanged since the scan read it (a key just edited or rolled is not
  // disabled on a stale read), and never the owner key, whatever the caller asked.
  conditions.push('version = :version', '#type <> :owner');
  return {
    UpdateExpression: `SET ${unusedFor} = :used, ${disabledAt} = :at`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: { '#type': 'type' },
    ExpressionAttributeValues: {
      ...values,
      ':version': warning.key.version,
      ':owner': 'owner',
      ':at': at,
    },
  };
}

function marksOf(item: Record<string, unknown>): WarningMarks {
  const { expiryFor, expiryDays, unusedFor } = WARNING_ATTRIBUTES;
  const expiresAt = item[expiryFor];
  const days = item[expiryDays];
  const unused = item[unusedFor];
  return {
    ...(typeof expiresAt === 'string' && typeof days === 'number'
      ? { expiry: { expiresAt, days } }
      : {}),
    ...(typeof unused === 'string' ? { unused } : {}),
  };
}

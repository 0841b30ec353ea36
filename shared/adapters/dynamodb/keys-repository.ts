import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../../domain/errors.js';
import type {
  AccountRecord,
  AuditEvent,
  BillingContactChanges,
  BillingProfileRecord,
  CreateAccountOutcome,
  EventPage,
  InsertKeyOutcome,
  KeyChanges,
  KeyRecord,
  KeyRepository,
  WriteKeyOutcome,
} from '../../domain/ports.js';
import { applyChanges, OPTIONAL_KEY_FIELDS } from '../../domain/records.js';
import { decodeScopes, encodeScopes, internScopes } from '../../domain/scope-codes.js';
import type { TableNames } from '../../tables.js';

const accountPk = (accountId: string) => `account#${accountId}`;
const namePk = (name: string) => `name#${name}`;

/** Transactions that lose a race on the account's counter are retried this many times. */
const TRANSACTION_ATTEMPTS = 12;

/** An in-place update and a whole-map write alternate at most this many times. */
const BILLING_UPDATE_ATTEMPTS = 4;

interface AccountUpdate {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/** Attributes of the account item that make up the billing profile. */
const BILLING_PROJECTION = {
  ProjectionExpression: 'pk, #plan, billingContact, billingUpdatedAt',
  ExpressionAttributeNames: { '#plan': 'plan' },
};

/**
 * {@link KeyRepository} on DynamoDB. Every multi-item write is one transaction with conditions;
 * every single-key read is strongly consistent; listing is one query on `byAccount`.
 */
export class DynamoKeyRepository implements KeyRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async createAccount(account: AccountRecord, ownerKey: KeyRecord): Promise<CreateAccountOutcome> {
    const reasons = await this.transact({
      TransactItems: [
        {
          Put: {
            TableName: this.tables.accounts,
            Item: { pk: namePk(account.name), accountId: account.accountId },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tables.accounts,
            // The empty contact map lets a billing update set its fields in place.
            Item: { pk: accountPk(account.accountId), ...account, billingContact: {} },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tables.keys,
            Item: toItem(ownerKey),
            ConditionExpression: 'attribute_not_exists(keyId)',
          },
        },
      ],
    });
    if (reasons === undefined) return { ok: true };
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return { ok: false, reason: 'name_taken' };
    // Random 128-bit IDs do not collide; anything else is a storage fault.
    throw new ServiceUnavailableError();
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const item = await this.readAccountItem(accountId);
    return item ? toAccount(item) : undefined;
  }

  /** The account's item, read consistently; only the projected attributes when given. */
  private async readAccountItem(accountId: string, projection: object = {}) {
    const { Item } = await this.run(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tables.accounts,
          Key: { pk: accountPk(accountId) },
          ConsistentRead: true,
          ...projection,
        }),
      ),
    );
    return Item;
  }

  async findAccountIdByName(name: string): Promise<string | undefined> {
    const { Item } = await this.run(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tables.accounts,
          Key: { pk: namePk(name) },
          ConsistentRead: true,
        }),
      ),
    );
    return typeof Item?.accountId === 'string' ? Item.accountId : undefined;
  }

  async insertKey(key: KeyRecord, event: AuditEvent): Promise<InsertKeyOutcome> {
    const reasons = await this.transact({
      TransactItems: [
        {
          Update: {
            TableName: this.tables.accounts,
            Key: { pk: accountPk(key.accountId) },
            UpdateExpression: 'SET keyCount = keyCount + :one',
            ConditionExpression: 'attribute_exists(pk) AND keyCount < keyLimit',
            ExpressionAttributeValues: { ':one': 1 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: this.tables.keys,
            Item: toItem(key),
            ConditionExpression: 'attribute_not_exists(keyId)',
          },
        },
        this.auditPut(event),
      ],
    });
    if (reasons === undefined) return { ok: true };
    const account = reasons[0];
    if (account?.Code === 'ConditionalCheckFailed') {
      const limit = account.Item?.keyLimit?.N;
      return limit === undefined
        ? { ok: false, reason: 'account_not_found' }
        : { ok: false, reason: 'limit_reached', limit: Number(limit) };
    }
    throw new ServiceUnavailableError();
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const { Item } = await this.run(() =>
      this.client.send(
        new GetCommand({ TableName: this.tables.keys, Key: { keyId }, ConsistentRead: true }),
      ),
    );
    return Item ? toKey(Item) : undefined;
  }

  async listKeys(accountId: string, limit?: number): Promise<KeyRecord[]> {
    const keys: KeyRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.run(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tables.keys,
            IndexName: 'byAccount',
            KeyConditionExpression: 'accountId = :a',
            ExpressionAttributeValues: { ':a': accountId },
            ScanIndexForward: true,
            ExclusiveStartKey: start,
            ...(limit === undefined ? {} : { Limit: limit - keys.length }),
          }),
        ),
      );
      keys.push(...(page.Items ?? []).map(toKey));
      start = page.LastEvaluatedKey;
    } while (start && (limit === undefined || keys.length < limit));
    return keys;
  }

  async updateKey(
    current: KeyRecord,
    changes: KeyChanges,
    event: AuditEvent,
  ): Promise<WriteKeyOutcome<KeyRecord>> {
    const { scopeCodes, otherScopes } = encodeScopes(changes.scopes);
    const set = [
      '#name = :name',
      'scopeCodes = :scopeCodes',
      '#type = :type',
      'updatedAt = :updatedAt',
      'version = version + :one',
    ];
    // `scopes` is the list an item written before scope codes held.
    const remove: string[] = ['scopes'];
    if (otherScopes) set.push('otherScopes = :otherScopes');
    else remove.push('otherScopes');
    const values: Record<string, unknown> = {
      ':name': changes.name,
      ':scopeCodes': scopeCodes,
      ...(otherScopes ? { ':otherScopes': otherScopes } : {}),
      ':type': changes.type,
      ':updatedAt': changes.updatedAt,
      ':one': 1,
      ':version': current.version,
    };
    for (const field of OPTIONAL_KEY_FIELDS) {
      const value = changes[field];
      if (value === undefined) continue;
      if (value === null) remove.push(field);
      else {
        set.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    const reasons = await this.transact({
      TransactItems: [
        {
          Update: {
            TableName: this.tables.keys,
            Key: { keyId: current.keyId },
            UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
            ConditionExpression: 'attribute_exists(keyId) AND version = :version',
            ExpressionAttributeNames: { '#name': 'name', '#type': 'type' },
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        this.auditPut(event),
      ],
    });
    if (reasons === undefined) return { ok: true, value: applyChanges(current, changes) };
    const key = reasons[0];
    if (key?.Code === 'ConditionalCheckFailed') {
      return { ok: false, reason: key.Item ? 'conflict' : 'not_found' };
    }
    throw new ServiceUnavailableError();
  }

  async deleteKey(current: KeyRecord, event: AuditEvent): Promise<WriteKeyOutcome<true>> {
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      this.auditPut(event),
      {
        Delete: {
          TableName: this.tables.keys,
          Key: { keyId: current.keyId },
          ConditionExpression: 'attribute_exists(keyId) AND version = :version',
          ExpressionAttributeValues: { ':version': current.version },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ];
    if (current.type !== 'owner') {
      items.push({
        Update: {
          TableName: this.tables.accounts,
          Key: { pk: accountPk(current.accountId) },
          UpdateExpression: 'SET keyCount = keyCount - :one',
          ConditionExpression: 'attribute_exists(pk) AND keyCount > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
        },
      });
    }
    const reasons = await this.transact({ TransactItems: items });
    if (reasons === undefined) return { ok: true, value: true };
    const key = reasons[1];
    if (key?.Code === 'ConditionalCheckFailed') {
      return { ok: false, reason: key.Item ? 'conflict' : 'not_found' };
    }
    throw new ServiceUnavailableError();
  }

  async touchKey(keyId: string, at: string, ip: string | null, notBefore: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.keys,
          Key: { keyId },
          UpdateExpression: ip
            ? 'SET lastUsedAt = :at, lastUsedIp = :ip'
            : 'SET lastUsedAt = :at REMOVE lastUsedIp',
          ConditionExpression:
            'attribute_exists(keyId) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :notBefore)',
          ExpressionAttributeValues: {
            ':at': at,
            ':notBefore': notBefore,
            ...(ip ? { ':ip': ip } : {}),
          },
        }),
      );
    } catch (error) {
      // Someone recorded it within the minute, or the key is gone: nothing to do.
      if (isConditionalCheckFailure(error)) return;
      throw toStorageError(error);
    }
  }

  async recordEvent(event: AuditEvent): Promise<void> {
    await this.run(() => this.client.send(new PutCommand(this.auditPut(event).Put)));
  }

  async listEvents(
    accountId: string,
    options: { limit: number; cursor?: string; targetKeyId?: string },
  ): Promise<EventPage> {
    const byTarget = options.targetKeyId !== undefined;
    const start =
      options.cursor === undefined
        ? undefined
        : decodeCursor(
            options.cursor,
            byTarget ? { accountId, targetKeyId: options.targetKeyId as string } : { accountId },
          );
    const { Items, LastEvaluatedKey } = await this.run(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tables.audit,
          ...(byTarget
            ? {
                IndexName: 'byTarget',
                KeyConditionExpression: 'targetKeyId = :t',
                // A key ID is unique across accounts, but never trust that with another's data.
                FilterExpression: 'accountId = :a',
                ExpressionAttributeValues: { ':t': options.targetKeyId, ':a': accountId },
              }
            : {
                KeyConditionExpression: 'accountId = :a',
                ExpressionAttributeValues: { ':a': accountId },
              }),
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: start,
        }),
      ),
    );
    return {
      events: (Items ?? []).map(toEvent),
      ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
    };
  }

  /** The audit Put of a transaction: append-only, never overwriting an event. */
  private auditPut(event: AuditEvent) {
    return {
      Put: {
        TableName: this.tables.audit,
        Item: event,
        ConditionExpression: 'attribute_not_exists(eventId)',
      },
    };
  }

  async findKeyIdByHash(keyHash: string): Promise<string | undefined> {
    const { Items } = await this.run(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tables.keys,
          IndexName: 'byHash',
          KeyConditionExpression: 'keyHash = :h',
          ExpressionAttributeValues: { ':h': keyHash },
          Limit: 1,
        }),
      ),
    );
    const keyId = Items?.[0]?.keyId;
    return typeof keyId === 'string' ? keyId : undefined;
  }

  async getBillingProfile(accountId: string): Promise<BillingProfileRecord | undefined> {
    const item = await this.readAccountItem(accountId, BILLING_PROJECTION);
    return item ? toBillingProfile(item) : undefined;
  }

  /**
   * One conditional `UpdateItem` that sets and removes fields inside the `billingContact` map, so
   * concurrent updates of different fields both hold. An account item stored before the map
   * existed fails that condition: the map is then written whole, on condition that it is still
   * absent (a race with another such write goes back to the in-place update).
   */
  async updateBillingContact(
    accountId: string,
    changes: BillingContactChanges,
    updatedAt: string,
  ): Promise<BillingProfileRecord | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':updatedAt': updatedAt };
    const assignments = ['billingUpdatedAt = :updatedAt'];
    Object.entries(changes.set).forEach(([field, value], i) => {
      names[`#s${i}`] = field;
      values[`:s${i}`] = value;
      assignments.push(`billingContact.#s${i} = :s${i}`);
    });
    const removals = changes.remove.map((field, i) => {
      names[`#r${i}`] = field;
      return `billingContact.#r${i}`;
    });
    const inPlace: AccountUpdate = {
      UpdateExpression: `SET ${assignments.join(', ')}${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''}`,
      ConditionExpression: 'attribute_exists(pk) AND attribute_exists(billingContact)',
      ExpressionAttributeValues: values,
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    };
    const whole: AccountUpdate = {
      UpdateExpression: 'SET billingContact = :contact, billingUpdatedAt = :updatedAt',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(billingContact)',
      ExpressionAttributeValues: { ':contact': { ...changes.set }, ':updatedAt': updatedAt },
    };
    for (let attempt = 0; attempt < BILLING_UPDATE_ATTEMPTS; attempt++) {
      const outcome = await this.updateAccount(accountId, attempt % 2 === 0 ? inPlace : whole);
      if (outcome !== 'map_mismatch') return outcome;
    }
    throw new ServiceUnavailableError();
  }

  /**
   * Runs a transaction. Returns `undefined` when it committed, or the cancellation reasons
   * when a condition failed. Conflicts with concurrent transactions (the account counter is a
   * hot item) are retried with jittered backoff.
   */
  private async transact(
    input: TransactWriteCommandInput,
  ): Promise<(TransactionCanceledException['CancellationReasons'] & {}) | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand(input));
        return undefined;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw toStorageError(error);
        const reasons = error.CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return reasons;
        const retryable = reasons.some(
          (r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError',
        );
        if (!retryable || attempt >= TRANSACTION_ATTEMPTS) {
          throw new ServiceUnavailableError({ cause: error });
        }
        await backoff(attempt);
      }
    }
  }

  /**
   * A conditional update of the account item. Returns the billing profile after it, `undefined`
   * if the account does not exist, or `map_mismatch` if it exists but failed the condition.
   */
  private async updateAccount(
    accountId: string,
    update: AccountUpdate,
  ): Promise<BillingProfileRecord | undefined | 'map_mismatch'> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tables.accounts,
          Key: { pk: accountPk(accountId) },
          ...update,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toBillingProfile(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailure(error)) return error.Item ? 'map_mismatch' : undefined;
      throw toStorageError(error);
    }
  }

  /** Runs one storage call; its failures surface as retryable storage errors. */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toStorageError(error);
    }
  }
}

/** Cursors are the last evaluated key, opaque to clients (base64url JSON of strings only). */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * A client's cursor, checked to continue the same query of the same account: a tampered cursor
 * is refused (400), never read as another account's position.
 */
function decodeCursor(cursor: string, expected: Record<string, string>): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new Error('bad cursor');
  }
  const fields =
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const wanted = [...Object.keys(expected), 'eventId'].sort();
  // An event ID the table could hold: DynamoDB refuses a starting key whose sort key is empty or
  // over 1024 bytes, and that refusal would surface as a storage outage (503), not a bad cursor.
  const eventId = fields.eventId;
  const valid =
    JSON.stringify(Object.keys(fields).sort()) === JSON.stringify(wanted) &&
    typeof eventId === 'string' &&
    eventId !== '' &&
    Buffer.byteLength(eventId) <= 1024 &&
    Object.entries(expected).every(([k, v]) => fields[k] === v);
  if (!valid) throw new Error('bad cursor');
  return fields as Record<string, string>;
}

function toEvent(item: Record<string, unknown>): AuditEvent {
  return {
    accountId: String(item.accountId),
    eventId: String(item.eventId),
    time: String(item.time),
    action: item.action as AuditEvent['action'],
    actorKeyId: typeof item.actorKeyId === 'string' ? item.actorKeyId : null,
    targetKeyId: String(item.targetKeyId),
    scopesAdded: Array.isArray(item.scopesAdded) ? item.scopesAdded.map(String) : [],
    scopesRemoved: Array.isArray(item.scopesRemoved) ? item.scopesRemoved.map(String) : [],
    sourceIp: typeof item.sourceIp === 'string' ? item.sourceIp : null,
    details:
      item.details && typeof item.details === 'object'
        ? (item.details as Record<string, string>)
        : {},
  };
}

function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(1000, 10 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

function isConditionalCheckFailure(
  error: unknown,
): error is Error & { Item?: Record<string, unknown> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Any storage failure the client cannot fix becomes a retryable 503, never a 401 or a 404. */
function toStorageError(error: unknown): Error {
  if (error instanceof ServiceUnavailableError) return error;
  return new ServiceUnavailableError({ cause: error });
}

/** A key's item: the record, its scopes as codes ({@link encodeScopes}). */
function toItem(key: KeyRecord): Record<string, unknown> {
  const { scopes, ...rest } = key;
  return { ...rest, ...encodeScopes(scopes) };
}

/**
 * A key item's scopes. This release never writes the plain `scopes` list (it removes it on every
 * update), so an item that holds one was last written by an earlier release: during a rollout
 * or a rollback that list is the truth, even beside a `scopeCodes` it left stale.
 */
export function itemScopes(item: Record<string, unknown>): readonly string[] {
  if (Array.isArray(item.scopes)) return internScopes(item.scopes.map(String));
  const others = Array.isArray(item.otherScopes) ? item.otherScopes.map(String) : [];
  return typeof item.scopeCodes === 'string' ? decodeScopes(item.scopeCodes, others) : [];
}

function toKey(item: Record<string, unknown>): KeyRecord {
  return {
    keyId: String(item.keyId),
    accountId: String(item.accountId),
    name: String(item.name),
    scopes: itemScopes(item),
    type: item.type as KeyRecord['type'],
    keyHash: String(item.keyHash),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: Number(item.version),
    ...optionalString(item, 'expiresAt'),
    ...(Array.isArray(item.allowedIps) ? { allowedIps: item.allowedIps.map(String) } : {}),
    ...optionalString(item, 'lastUsedAt'),
    ...optionalString(item, 'lastUsedIp'),
    ...optionalString(item, 'previousKeyHash'),
    ...optionalString(item, 'previousValidUntil'),
  };
}

function optionalString<K extends string>(
  item: Record<string, unknown>,
  name: K,
): Partial<Record<K, string>> {
  const value = item[name];
  return typeof value === 'string' ? ({ [name]: value } as Record<K, string>) : {};
}

function toAccount(item: Record<string, unknown>): AccountRecord {
  return {
    accountId: String(item.accountId),
    name: String(item.name),
    keyLimit: Number(item.keyLimit),
    keyCount: Number(item.keyCount),
    ownerKeyId: String(item.ownerKeyId),
    ...(typeof item.plan === 'string' ? { plan: item.plan } : {}),
    ...(typeof item.maxKeyLifetimeSeconds === 'number'
      ? { maxKeyLifetimeSeconds: item.maxKeyLifetimeSeconds }
      : {}),
    createdAt: String(item.createdAt),
  };
}

function toBillingProfile(item: Record<string, unknown>): BillingProfileRecord {
  const contact: Record<string, string> = {};
  const stored = item.billingContact;
  if (stored !== null && typeof stored === 'object') {
    for (const [field, value] of Object.entries(stored)) {
      if (typeof value === 'string') contact[field] = value;
    }
  }
  return {
    plan: typeof item.plan === 'string' ? item.plan : undefined,
    contact,
    updatedAt: typeof item.billingUpdatedAt === 'string' ? item.billingUpdatedAt : undefined,
  };
}

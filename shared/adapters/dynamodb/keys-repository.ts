import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { CURSOR_KEY_BYTES } from '../../domain/cursor.js';
import { ServiceUnavailableError } from '../../domain/errors.js';
import { type Limits, limitsFrom } from '../../domain/limits.js';
import type {
  AccountRecord,
  AccountStateOutcome,
  AuditEvent,
  BillingContactChanges,
  BillingProfileRecord,
  CreateAccountOutcome,
  CreateSubuserOutcome,
  EventPage,
  InsertKeyOutcome,
  KeyChanges,
  KeyRecord,
  KeyRepository,
  WriteKeyOutcome,
} from '../../domain/ports.js';
import { applyChanges, OPTIONAL_KEY_FIELDS } from '../../domain/records.js';
import { decodeScopes, encodeScopes, internScopes } from '../../domain/scope-codes.js';
import { type TableNames, TTL_ATTRIBUTE } from '../../tables.js';

const accountPk = (accountId: string) => `account#${accountId}`;
/** Names are reserved lowercased: `Acme` and `acme` cannot both exist. */
const nameKey = (name: string) => name.toLowerCase();
const namePk = (name: string) => `name#${nameKey(name)}`;
const userIdPk = (userId: number) => `userid#${userId}`;

/**
 * A transaction holds at most 100 items (DynamoDB's limit since 2022: "TransactWriteItems …
 * up to 100 action requests"); copying an account's state onto its keys uses one for the
 * account's condition and the rest for keys.
 */
const KEYS_PER_TRANSACTION = 99;

/**
 * `byAccount` is a global secondary index, read eventually consistently: a key written just
 * before may be missing from it for a moment. Work that must reach every key of an account
 * compares what the index shows with the account's exact counter, and reads the index again,
 * backing off, this many times before giving up with a 503.
 */
const INDEX_CATCH_UP_ATTEMPTS = 8;

/**
 * How often a change of an account's state that also changes its plan is written, from a fresh
 * read, when other changes of the state land between its read and its write: each of those wins
 * at most once, so only more than this many at once end it in a 503, with nothing written.
 */
const STATE_WRITE_ATTEMPTS = 10;

/**
 * How long a change of an account's state may keep new keys out while it marks the existing
 * ones (`markingUntil`): it normally takes well under a second and removes the mark itself; the
 * bound only matters if the change's function dies half-way (a retried change marks again).
 */
const MARKING_WINDOW_MS = 30_000;

/**
 * The accounts table's item holding the deployment's audit-cursor key (`cursorKey`: 32 random
 * bytes, base64url). Every other item's key starts with its own kind (`account#`, `name#`, …),
 * and the events function's role may read and create this one item only
 * (`infra/constructs/permissions.ts`).
 */
export const CURSOR_KEY_PK = 'deployment#cursor-key';
/** A key's refused attempts in one window (see `recordRefusal`). */
export const refusalsPk = (keyId: string, window: string) => `refusals#${keyId}#${window}`;

/** Counters of refused attempts outlive their window by a day, then DynamoDB's TTL removes them. */
const REFUSAL_COUNTER_TTL_SECONDS = 2 * 24 * 3600;

/** Transactions that lose a race on the account's counter are retried this many times. */
const TRANSACTION_ATTEMPTS = 12;

/**
 * Conflict retries also stop once this long has passed since the first attempt (the backoffs of
 * {@link TRANSACTION_ATTEMPTS} attempts alone can add up to 6 s). The attempt then in flight is
 * bounded by the client's timeouts to about 4 s (`DYNAMODB_TIMEOUTS`, `client.ts`), so a
 * transaction ends within about 7 s even if DynamoDB stops answering after a run of conflicts:
 * before the functions' 10 s timeout, whose expiry the client would see as a 500, not a 503.
 */
const TRANSACTION_RETRY_BUDGET_MS = 3_000;

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
  /** The cursor key's read, shared by every caller once started (see {@link cursorKey}). */
  private cursorKeyRead: Promise<Uint8Array> | undefined;

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

  async createSubuser(
    parentId: string,
    limit: number,
    subuser: AccountRecord,
    events: readonly AuditEvent[],
  ): Promise<CreateSubuserOutcome> {
    if (subuser.userId === undefined) throw new Error('a subuser needs a userId');
    const reasons = await this.transact({
      TransactItems: [
        {
          Update: {
            TableName: this.tables.accounts,
            Key: { pk: accountPk(parentId) },
            UpdateExpression: 'SET subuserCount = if_not_exists(subuserCount, :zero) + :one',
            ConditionExpression:
              'attribute_exists(pk) AND attribute_not_exists(parentAccountId) AND (attribute_not_exists(subuserCount) OR subuserCount < :limit)',
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':limit': limit },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: this.tables.accounts,
            Item: { pk: namePk(subuser.name), accountId: subuser.accountId },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tables.accounts,
            Item: { pk: userIdPk(subuser.userId), accountId: subuser.accountId },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tables.accounts,
            Item: {
              pk: accountPk(subuser.accountId),
              ...subuser,
              nameKey: nameKey(subuser.name),
              billingContact: {},
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...events.map((event) => this.auditPut(event)),
      ],
    });
    if (reasons === undefined) return { ok: true };
    const [parent, name, userId] = reasons;
    if (parent?.Code === 'ConditionalCheckFailed') {
      const item = parent.Item;
      // The authorizer vouched for the parent moments ago; a subuser is never a parent.
      if (item === undefined || item.parentAccountId !== undefined) {
        return { ok: false, reason: 'not_a_parent' };
      }
      return { ok: false, reason: 'limit_reached', limit };
    }
    if (name?.Code === 'ConditionalCheckFailed') return { ok: false, reason: 'name_taken' };
    // A random ID that collided: the domain draws another.
    if (userId?.Code === 'ConditionalCheckFailed') return { ok: false, reason: 'user_id_taken' };
    throw new ServiceUnavailableError();
  }

  async listSubusers(
    parentId: string,
    options: { prefix?: string; limit: number; offset: number },
  ): Promise<AccountRecord[]> {
    const found: AccountRecord[] = [];
    let skipped = 0;
    let start: Record<string, unknown> | undefined;
    const prefix = options.prefix === undefined ? undefined : nameKey(options.prefix);
    do {
      const page = await this.run(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tables.accounts,
            IndexName: 'byParent',
            KeyConditionExpression:
              prefix === undefined
                ? 'parentAccountId = :p'
                : 'parentAccountId = :p AND begins_with(nameKey, :prefix)',
            ExpressionAttributeValues: {
              ':p': parentId,
              ...(prefix === undefined ? {} : { ':prefix': prefix }),
            },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (item.deleting !== undefined) continue;
        if (skipped < options.offset) skipped++;
        else if (found.length < options.limit) found.push(toAccount(item));
      }
      start = page.LastEvaluatedKey;
    } while (start && found.length < options.limit);
    return found;
  }

  async setAccountPlan(
    accountId: string,
    plan: string,
    events: readonly AuditEvent[],
  ): Promise<'done' | 'not_found'> {
    const reasons = await this.transact({
      TransactItems: [
        {
          Update: {
            TableName: this.tables.accounts,
            Key: { pk: accountPk(accountId) },
            UpdateExpression: 'SET #plan = :plan',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleting)',
            ExpressionAttributeNames: { '#plan': 'plan' },
            ExpressionAttributeValues: { ':plan': plan },
          },
        },
        ...events.map((event) => this.auditPut(event)),
      ],
    });
    if (reasons === undefined) return 'done';
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'not_found';
    throw new ServiceUnavailableError();
  }

  async setAccountDisabled(
    accountId: string,
    disabled: boolean,
    events: readonly AuditEvent[],
    changes: { plan?: string } = {},
  ): Promise<AccountStateOutcome> {
    const { plan } = changes;
    for (let attempt = 1; ; attempt++) {
      const item = await this.readAccountItem(accountId);
      if (!item || item.deleting !== undefined) return 'not_found';
      const version = typeof item.stateVersion === 'number' ? item.stateVersion : 0;
      // One item, one update: the state and the plan are written together or not at all.
      const reasons = await this.transact({
        TransactItems: [
          {
            Update: {
              TableName: this.tables.accounts,
              Key: { pk: accountPk(accountId) },
              UpdateExpression: `SET disabled = :disabled, stateVersion = :next, markingUntil = :until${plan === undefined ? '' : ', #plan = :plan'}`,
              ConditionExpression:
                'attribute_exists(pk) AND attribute_not_exists(deleting) AND (stateVersion = :version OR (attribute_not_exists(stateVersion) AND :version = :zero))',
              ...(plan === undefined ? {} : { ExpressionAttributeNames: { '#plan': 'plan' } }),
              ExpressionAttributeValues: {
                ':disabled': disabled,
                ':next': version + 1,
                ':until': new Date(Date.now() + MARKING_WINDOW_MS).toISOString(),
                ':version': version,
                ':zero': 0,
                ...(plan === undefined ? {} : { ':plan': plan }),
              },
            },
          },
          ...events.map((event) => this.auditPut(event)),
        ],
      });
      if (reasons === undefined) return this.copyStateToKeys(accountId, version + 1, disabled);
      if (reasons[0]?.Code !== 'ConditionalCheckFailed') throw new ServiceUnavailableError();
      // Another change got there between the read and the write: it is the later one, and
      // nothing of this one was written. With a plan, this one cannot be overtaken that way (its
      // plan would be lost, answered as done): it goes after the other, from a fresh read.
      if (plan === undefined) return 'superseded';
      if (attempt >= STATE_WRITE_ATTEMPTS) throw new ServiceUnavailableError();
    }
  }

  /**
   * Marks every key of the account with its state (`accountDisabled`), in transactions that each
   * check the account is still at `version`: a later change of the state stops this copy and
   * makes its own. While `markingUntil` is set no key can be added (`insertKey`), so the keys to
   * mark are exactly those the account's counter counts (plus the owner key, read by its ID):
   * the index is read again, backing off, until the keys it shows, each confirmed to exist by the
   * transaction that marks it, are as many as the counter says. Then `markingUntil` goes.
   */
  private async copyStateToKeys(
    accountId: string,
    version: number,
    disabled: boolean,
  ): Promise<AccountStateOutcome> {
    for (let attempt = 1; ; attempt++) {
      const account = await this.readAccountItem(accountId);
      if (!account) return 'not_found';
      if (account.stateVersion !== version) return 'superseded';
      const listed = await this.listKeys(accountId);
      const owner =
        typeof account.ownerKeyId === 'string' ? await this.getKey(account.ownerKeyId) : undefined;
      const keys = new Map(listed.map((k) => [k.keyId, k]));
      if (owner) keys.set(owner.keyId, owner);
      let marked = 0;
      const all = [...keys.values()];
      for (let i = 0; i < all.length; i += KEYS_PER_TRANSACTION) {
        const outcome = await this.markKeys(
          accountId,
          version,
          disabled,
          all.slice(i, i + KEYS_PER_TRANSACTION),
        );
        if (outcome === 'superseded') return outcome;
        marked += outcome.filter((k) => k.type !== 'owner').length;
      }
      if (marked >= Number(account.keyCount)) break;
      if (attempt >= INDEX_CATCH_UP_ATTEMPTS) throw new ServiceUnavailableError();
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt) + 50));
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.accounts,
          Key: { pk: accountPk(accountId) },
          UpdateExpression: 'REMOVE markingUntil',
          ConditionExpression: 'stateVersion = :version',
          ExpressionAttributeValues: { ':version': version },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return 'superseded';
      throw toStorageError(error);
    }
    return 'done';
  }

  /**
   * One transaction marking `keys`, on condition that the account is still at `version`; those
   * deleted meanwhile are dropped and it is retried. The keys it marked (each confirmed to exist),
   * or `superseded`.
   */
  private async markKeys(
    accountId: string,
    version: number,
    disabled: boolean,
    keys: readonly KeyRecord[],
  ): Promise<KeyRecord[] | 'superseded'> {
    let remaining = [...keys];
    while (remaining.length > 0) {
      const reasons = await this.transact({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: this.tables.accounts,
              Key: { pk: accountPk(accountId) },
              ConditionExpression: 'stateVersion = :version',
              ExpressionAttributeValues: { ':version': version },
            },
          },
          ...remaining.map((key) => ({
            Update: {
              TableName: this.tables.keys,
              Key: { keyId: key.keyId },
              UpdateExpression: disabled ? 'SET accountDisabled = :true' : 'REMOVE accountDisabled',
              ConditionExpression: 'attribute_exists(keyId) AND accountId = :account',
              ExpressionAttributeValues: {
                ':account': accountId,
                ...(disabled ? { ':true': true } : {}),
              },
            },
          })),
        ],
      });
      if (reasons === undefined) return remaining;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'superseded';
      const gone = new Set(
        remaining
          .filter((_, i) => reasons[i + 1]?.Code === 'ConditionalCheckFailed')
          .map((k) => k.keyId),
      );
      if (gone.size === 0) throw new ServiceUnavailableError();
      remaining = remaining.filter((k) => !gone.has(k.keyId));
    }
    return [];
  }

  async deleteSubuser(
    subuser: AccountRecord,
    events: readonly AuditEvent[],
  ): Promise<'done' | 'not_found'> {
    const { accountId, parentAccountId, userId } = subuser;
    if (parentAccountId === undefined || userId === undefined) return 'not_found';
    // 1. Being deleted: look-ups skip it and no key can be added from now on.
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.accounts,
          Key: { pk: accountPk(accountId) },
          UpdateExpression:
            'SET deleting = :true, disabled = :true, stateVersion = if_not_exists(stateVersion, :zero) + :one',
          ConditionExpression: 'attribute_exists(pk) AND parentAccountId = :parent',
          ExpressionAttributeValues: {
            ':true': true,
            ':zero': 0,
            ':one': 1,
            ':parent': parentAccountId,
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return 'not_found';
      throw toStorageError(error);
    }
    // 2. Every key, each deletion counted off the account's exact counter.
    for (let attempt = 1; ; attempt++) {
      const keys = await this.listKeys(accountId);
      for (let i = 0; i < keys.length; i += KEYS_PER_TRANSACTION) {
        await this.deleteKeysOf(accountId, keys.slice(i, i + KEYS_PER_TRANSACTION));
      }
      const account = await this.readAccountItem(accountId);
      if (!account) return 'done';
      if (Number(account.keyCount) <= 0) break;
      if (attempt >= INDEX_CATCH_UP_ATTEMPTS) throw new ServiceUnavailableError();
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt) + 50));
    }
    // 3. The account, its reservations and its place in the parent's count.
    const reasons = await this.transact({
      TransactItems: [
        {
          Delete: {
            TableName: this.tables.accounts,
            Key: { pk: accountPk(accountId) },
            ConditionExpression: 'deleting = :true AND keyCount = :zero',
            ExpressionAttributeValues: { ':true': true, ':zero': 0 },
          },
        },
        {
          Delete: {
            TableName: this.tables.accounts,
            Key: { pk: namePk(subuser.name) },
            ConditionExpression: 'accountId = :id',
            ExpressionAttributeValues: { ':id': accountId },
          },
        },
        {
          Delete: {
            TableName: this.tables.accounts,
            Key: { pk: userIdPk(userId) },
            ConditionExpression: 'accountId = :id',
            ExpressionAttributeValues: { ':id': accountId },
          },
        },
        {
          Update: {
            TableName: this.tables.accounts,
            Key: { pk: accountPk(parentAccountId) },
            UpdateExpression: 'SET subuserCount = subuserCount - :one',
            ConditionExpression: 'attribute_exists(pk) AND subuserCount > :zero',
            ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
          },
        },
        ...events.map((event) => this.auditPut(event)),
      ],
    });
    if (reasons === undefined) return 'done';
    // A concurrent delete finished first.
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'done';
    throw new ServiceUnavailableError();
  }

  /** Deletes keys of an account being deleted and counts them off, in one transaction. */
  private async deleteKeysOf(accountId: string, keys: readonly KeyRecord[]): Promise<void> {
    let remaining = [...keys];
    while (remaining.length > 0) {
      const others = remaining.filter((k) => k.type !== 'owner').length;
      const reasons = await this.transact({
        TransactItems: [
          {
            Update: {
              TableName: this.tables.accounts,
              Key: { pk: accountPk(accountId) },
              UpdateExpression: 'SET keyCount = keyCount - :n',
              ConditionExpression: 'deleting = :true AND keyCount >= :n',
              ExpressionAttributeValues: { ':n': others, ':true': true },
            },
          },
          ...remaining.map((key) => ({
            Delete: {
              TableName: this.tables.keys,
              Key: { keyId: key.keyId },
              ConditionExpression: 'attribute_exists(keyId) AND accountId = :account',
              ExpressionAttributeValues: { ':account': accountId },
            },
          })),
        ],
      });
      if (reasons === undefined) return;
      const gone = new Set(
        remaining
          .filter((_, i) => reasons[i + 1]?.Code === 'ConditionalCheckFailed')
          .map((k) => k.keyId),
      );
      if (gone.size === 0) throw new ServiceUnavailableError();
      remaining = remaining.filter((k) => !gone.has(k.keyId));
    }
  }

  async listAccounts(): Promise<AccountRecord[]> {
    const accounts: AccountRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.run(() =>
        this.client.send(
          new ScanCommand({
            TableName: this.tables.accounts,
            FilterExpression: 'begins_with(pk, :kind)',
            ExpressionAttributeValues: { ':kind': 'account#' },
            ExclusiveStartKey: start,
          }),
        ),
      );
      accounts.push(...(page.Items ?? []).map(toAccount));
      start = page.LastEvaluatedKey;
    } while (start);
    return accounts.sort((a, b) => a.name.localeCompare(b.name));
  }

  async insertKey(key: KeyRecord, event: AuditEvent): Promise<InsertKeyOutcome> {
    const reasons = await this.transact({
      TransactItems: [
        {
          Update: {
            TableName: this.tables.accounts,
            Key: { pk: accountPk(key.accountId) },
            UpdateExpression: 'SET keyCount = keyCount + :one',
            // A key of a disabled account, or one being deleted, is never added: so copying the
            // state onto the keys (`setAccountDisabled`) cannot miss one added meanwhile.
            ConditionExpression:
              'attribute_exists(pk) AND keyCount < keyLimit AND (attribute_not_exists(disabled) OR disabled = :false) AND attribute_not_exists(deleting) AND (attribute_not_exists(markingUntil) OR markingUntil < :now)',
            ExpressionAttributeValues: {
              ':one': 1,
              ':false': false,
              ':now': new Date().toISOString(),
            },
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
      const item = account.Item;
      if (item === undefined) return { ok: false, reason: 'account_not_found' };
      if (item.disabled?.BOOL === true || item.deleting !== undefined) {
        return { ok: false, reason: 'account_disabled' };
      }
      // The account's state is being copied onto its keys: a moment's wait.
      if (item.markingUntil !== undefined && Number(item.keyCount?.N) < Number(item.keyLimit?.N)) {
        throw new ServiceUnavailableError();
      }
      return { ok: false, reason: 'limit_reached', limit: Number(item.keyLimit?.N) };
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

  /**
   * One transaction: count the refusal on the actor's `refusals#<key ID>#<window>` item of the
   * accounts table (under `count < limit`; the item expires through the table's TTL attribute a
   * day after its window) and append the event. Over the limit the transaction is cancelled and
   * nothing is written.
   */
  async recordRefusal(event: AuditEvent, bound: { window: string; limit: number }) {
    const expires = Math.floor(Date.parse(event.time) / 1000) + REFUSAL_COUNTER_TTL_SECONDS;
    const reasons = await this.transact({
      TransactItems: [
        {
          Update: {
            TableName: this.tables.accounts,
            Key: { pk: refusalsPk(event.actorKeyId ?? '-', bound.window) },
            UpdateExpression: 'SET #count = if_not_exists(#count, :zero) + :one, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
            ExpressionAttributeNames: { '#count': 'refusals', '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':zero': 0,
              ':one': 1,
              ':limit': bound.limit,
              ':ttl': expires,
            },
          },
        },
        this.auditPut(event),
      ],
    });
    if (reasons === undefined) return true;
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
    throw new ServiceUnavailableError();
  }

  async appendEvent(event: AuditEvent): Promise<void> {
    await this.run(() => this.client.send(new PutCommand(this.auditPut(event).Put)));
  }

  /**
   * One query on the audit table, or on `byTarget` for one key's history, without a filter. A
   * key ID's partition of `byTarget` holds only that key's account's events (every writer records
   * an event under its key's account), so a page holding any other account's event, or ending
   * on one, is about another account's key: it answers exactly as an unknown key (no event, no
   * position). The first page of a key's history starts with a one-event query, which settles
   * that before more is read: an unknown key and another account's key then cost the same one
   * query, of at most one item, however many events that key has.
   */
  async listEvents(
    accountId: string,
    options: { limit: number; after?: string; targetKeyId?: string },
  ): Promise<EventPage> {
    const { limit, after, targetKeyId } = options;
    const probing = targetKeyId !== undefined && after === undefined && limit > 1;
    const first = await this.queryEvents(accountId, targetKeyId, after, probing ? 1 : limit);
    if (first === undefined) return { events: [] };
    if (!probing || first.next === undefined) return first;
    const rest = await this.queryEvents(accountId, targetKeyId, first.next, limit - 1);
    if (rest === undefined) return { events: [] };
    return { events: [...first.events, ...rest.events], ...(rest.next ? { next: rest.next } : {}) };
  }

  /** One page of {@link listEvents}; `undefined` when it shows another account's event. */
  private async queryEvents(
    accountId: string,
    targetKeyId: string | undefined,
    after: string | undefined,
    limit: number,
  ): Promise<EventPage | undefined> {
    const { Items = [], LastEvaluatedKey } = await this.run(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tables.audit,
          ...(targetKeyId === undefined
            ? {
                KeyConditionExpression: 'accountId = :a',
                ExpressionAttributeValues: { ':a': accountId },
              }
            : {
                IndexName: 'byTarget',
                KeyConditionExpression: 'targetKeyId = :t',
                ExpressionAttributeValues: { ':t': targetKeyId },
              }),
          ScanIndexForward: false,
          Limit: limit,
          // A position is an event ID of this account's query (the domain only opens cursors it
          // sealed for it), so the start key is rebuilt from it: the table's key, and the index's.
          ...(after === undefined
            ? {}
            : {
                ExclusiveStartKey: {
                  accountId,
                  eventId: after,
                  ...(targetKeyId === undefined ? {} : { targetKeyId }),
                },
              }),
        }),
      ),
    );
    const foreign =
      Items.some((item) => item.accountId !== accountId) ||
      (LastEvaluatedKey !== undefined && LastEvaluatedKey.accountId !== accountId);
    if (foreign) return undefined;
    return {
      events: Items.map(toEvent),
      ...(LastEvaluatedKey ? { next: String(LastEvaluatedKey.eventId) } : {}),
    };
  }

  /**
   * The deployment's cursor key, read once per process (concurrent first calls share the read; a
   * failed read is retried by the next call). See {@link CURSOR_KEY_PK}.
   */
  async cursorKey(): Promise<Uint8Array> {
    this.cursorKeyRead ??= this.loadCursorKey().catch((error: unknown) => {
      this.cursorKeyRead = undefined;
      throw error;
    });
    return this.cursorKeyRead;
  }

  /**
   * Reads the cursor key, creating it on the deployment's first use: a put conditional on the
   * item's absence, so of two racing first uses one writes and the other reads the winner's.
   */
  private async loadCursorKey(): Promise<Uint8Array> {
    const stored = await this.readCursorKey();
    if (stored) return stored;
    const created = randomBytes(CURSOR_KEY_BYTES);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tables.accounts,
          Item: {
            pk: CURSOR_KEY_PK,
            cursorKey: created.toString('base64url'),
            createdAt: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return new Uint8Array(created);
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw toStorageError(error);
    }
    const winner = await this.readCursorKey();
    if (!winner) throw new ServiceUnavailableError();
    return winner;
  }

  private async readCursorKey(): Promise<Uint8Array | undefined> {
    const { Item } = await this.run(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tables.accounts,
          Key: { pk: CURSOR_KEY_PK },
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item) return undefined;
    const text = Item.cursorKey;
    const key = typeof text === 'string' ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
    // A damaged key is an operator's problem: fail closed (503), never replace it silently.
    if (key.length !== CURSOR_KEY_BYTES || key.toString('base64url') !== text) {
      throw new ServiceUnavailableError();
    }
    return new Uint8Array(key);
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

  private transact(input: TransactWriteCommandInput) {
    return transactWrite(this.client, input);
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
  private run<T>(call: () => Promise<T>): Promise<T> {
    return storageCall(call);
  }
}

/** Runs one storage call; its failures surface as retryable storage errors. */
export async function storageCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toStorageError(error);
  }
}

/**
 * Runs a transaction. Returns `undefined` when it committed, or the cancellation reasons when a
 * condition failed. Conflicts with concurrent transactions (the account counter is a hot item)
 * are retried with jittered backoff, within {@link TRANSACTION_RETRY_BUDGET_MS}. Any other
 * failure, a timeout included, ends it at once: a DynamoDB that does not answer is not waited for
 * again.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
): Promise<(TransactionCanceledException['CancellationReasons'] & {}) | undefined> {
  const giveUpAt = Date.now() + TRANSACTION_RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand(input));
      return undefined;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw toStorageError(error);
      const reasons = error.CancellationReasons ?? [];
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return reasons;
      const retryable = reasons.some(
        (r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError',
      );
      const delay = backoffDelay(attempt);
      if (!retryable || attempt >= TRANSACTION_ATTEMPTS || Date.now() + delay >= giveUpAt) {
        throw new ServiceUnavailableError({ cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** An audit item, as the document client (or a stream image, unmarshalled) reads it. */
export function toEvent(item: Record<string, unknown>): AuditEvent {
  return {
    accountId: String(item.accountId),
    eventId: String(item.eventId),
    time: String(item.time),
    action: item.action as AuditEvent['action'],
    actorKeyId: typeof item.actorKeyId === 'string' ? item.actorKeyId : null,
    ...optionalString(item, 'actorAccountId'),
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

/** Jittered exponential backoff before a transaction's next attempt, in milliseconds. */
function backoffDelay(attempt: number): number {
  return Math.random() * Math.min(1000, 10 * 2 ** attempt);
}

/** The SDK's own error class (the document client passes it through), not a name to match. */
export function isConditionalCheckFailure(
  error: unknown,
): error is ConditionalCheckFailedException & { Item?: Record<string, unknown> } {
  return error instanceof ConditionalCheckFailedException;
}

/** Any storage failure the client cannot fix becomes a retryable 503, never a 401 or a 404. */
export function toStorageError(error: unknown): Error {
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

export function toKey(item: Record<string, unknown>): KeyRecord {
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
    ...storedLimits(item.limits),
    ...optionalString(item, 'lastUsedAt'),
    ...optionalString(item, 'lastUsedIp'),
    ...optionalString(item, 'previousKeyHash'),
    ...optionalString(item, 'previousValidUntil'),
    ...(item.accountDisabled === true ? { accountDisabled: true } : {}),
    ...optionalString(item, 'disabledAt'),
  };
}

/**
 * A key's own limits. Limits that cannot be read fail the read (503, and the authorizer fails
 * closed) rather than be dropped: a damaged item must never make a limited key unlimited.
 */
function storedLimits(value: unknown): { limits?: Limits } {
  const limits = limitsFrom(value);
  if (limits === null) throw new ServiceUnavailableError({ cause: new Error('unreadable limits') });
  return limits === undefined ? {} : { limits };
}

function optionalString<K extends string>(
  item: Record<string, unknown>,
  name: K,
): Partial<Record<K, string>> {
  const value = item[name];
  return typeof value === 'string' ? ({ [name]: value } as Record<K, string>) : {};
}

function optionalNumber<K extends string>(
  item: Record<string, unknown>,
  name: K,
): Partial<Record<K, number>> {
  const value = item[name];
  return typeof value === 'number' ? ({ [name]: value } as Record<K, number>) : {};
}

function toAccount(item: Record<string, unknown>): AccountRecord {
  return {
    accountId: String(item.accountId),
    name: String(item.name),
    keyLimit: Number(item.keyLimit),
    keyCount: Number(item.keyCount),
    ...optionalString(item, 'ownerKeyId'),
    ...(typeof item.plan === 'string' ? { plan: item.plan } : {}),
    ...(typeof item.maxKeyLifetimeSeconds === 'number'
      ? { maxKeyLifetimeSeconds: item.maxKeyLifetimeSeconds }
      : {}),
    createdAt: String(item.createdAt),
    ...optionalString(item, 'parentAccountId'),
    ...optionalString(item, 'email'),
    ...optionalNumber(item, 'userId'),
    ...optionalNumber(item, 'subuserLimit'),
    ...optionalNumber(item, 'subuserCount'),
    ...optionalNumber(item, 'stateVersion'),
    ...(item.disabled === true ? { disabled: true } : {}),
    ...(item.deleting === true ? { deleting: true } : {}),
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

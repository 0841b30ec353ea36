import type { KeyType } from './scopes.js';

/** A stored key. Holds the SHA-256 of the key, never the key. */
export interface KeyRecord {
  keyId: string;
  accountId: string;
  name: string;
  /** Sorted, unique. */
  scopes: string[];
  type: KeyType;
  keyHash: string;
  createdAt: string;
  updatedAt: string;
  /** Incremented by every update; conditions on it make concurrent writes safe. */
  version: number;
}

export interface AccountRecord {
  accountId: string;
  name: string;
  /** Most keys the account may hold, the owner key not counted. */
  keyLimit: number;
  /** Keys the account holds, the owner key not counted. Kept exact by transactions. */
  keyCount: number;
  ownerKeyId: string;
  createdAt: string;
}

export type CreateAccountOutcome = { ok: true } | { ok: false; reason: 'name_taken' };

export type InsertKeyOutcome =
  | { ok: true }
  | { ok: false; reason: 'limit_reached'; limit: number }
  | { ok: false; reason: 'account_not_found' };

export type WriteKeyOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' | 'conflict' };

export interface KeyChanges {
  name: string;
  scopes: string[];
  type: KeyType;
  updatedAt: string;
}

/**
 * Storage port for accounts and keys. Implementations: DynamoDB (production, local runtime,
 * integration tests) and in-memory (pure unit tests). Reads of a single key are strongly
 * consistent; nothing ever scans.
 */
export interface KeyRepository {
  /** Creates the account and its owner key atomically; account names are unique. */
  createAccount(account: AccountRecord, ownerKey: KeyRecord): Promise<CreateAccountOutcome>;
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  findAccountIdByName(name: string): Promise<string | undefined>;
  /** Inserts a non-owner key and counts it against the account's limit, atomically. */
  insertKey(key: KeyRecord): Promise<InsertKeyOutcome>;
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /** The account's keys, oldest first; at most `limit` when given. */
  listKeys(accountId: string, limit?: number): Promise<KeyRecord[]>;
  /** Applies `changes` only if the key still has `current.version`. */
  updateKey(current: KeyRecord, changes: KeyChanges): Promise<WriteKeyOutcome<KeyRecord>>;
  /** Deletes the key only if it still has `current.version`, and uncounts it, atomically. */
  deleteKey(current: KeyRecord): Promise<WriteKeyOutcome<true>>;
  /** Finds a key from the hash of its value (leaked-key reports, operator look-ups). */
  findKeyIdByHash(keyHash: string): Promise<string | undefined>;
}

/** Deployment settings the domain needs. */
export interface KeygateConfig {
  keyPrefix: string;
  /** Per-account key limit for accounts that do not set their own. */
  defaultKeyLimit: number;
}

/**
 * The gateway's cache of authorizer results. Operations that narrow a key's access (delete,
 * scope change) flush it so the change holds on the very next request. Implementations never
 * throw: a failed flush is logged and counted, and exposure is bounded by the cache TTL.
 */
export interface AuthorizerCache {
  flush(): Promise<void>;
}

/** A message accepted by `POST /v3/mail/send`, ready to hand to a delivery service. */
export interface OutgoingMail {
  accountId: string;
  /** Key that sent it (never the key itself). */
  keyId: string;
  messageId: string;
  /** The validated SendGrid v3 payload. */
  payload: Record<string, unknown>;
  acceptedAt: string;
}

/** Delivers mail: Amazon SES on AWS, an on-disk outbox locally. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

/** Everything a domain operation may touch, injected. */
export interface Deps {
  repo: KeyRepository;
  config: KeygateConfig;
  now: () => Date;
  authorizerCache: AuthorizerCache;
  mailer: Mailer;
}

import type { ScopeCatalogue } from './catalogue.js';
import type { Limits } from './limits.js';
import type { MailPayload } from './mail-model.js';
import type { KeyType } from './scopes.js';

/** A stored key. Holds the SHA-256 of the key, never the key. */
export interface KeyRecord {
  keyId: string;
  accountId: string;
  name: string;
  /**
   * Sorted, unique. Read-only: repositories hand out one shared array per distinct scope set
   * (`internScopes` in `scope-codes.ts`), frozen, which the authorizer's memos key on.
   */
  scopes: readonly string[];
  type: KeyType;
  keyHash: string;
  createdAt: string;
  updatedAt: string;
  /** Incremented by every update; conditions on it make concurrent writes safe. */
  version: number;
  /** RFC 3339; the key is refused from then on. */
  expiresAt?: string;
  /** Normalised CIDRs; when set, the key is refused from any other source address. */
  allowedIps?: string[];
  /**
   * The key's own rate limit and quotas, counted besides its account's plan (issue 17); never
   * looser than those of the key that set them (`boundedLimits`).
   */
  limits?: Limits;
  /** When the authorizer last let the key through (updated at most once a minute). */
  lastUsedAt?: string;
  lastUsedIp?: string;
  /** After a roll: the old key's hash, valid until `previousValidUntil` (the grace period). */
  previousKeyHash?: string;
  previousValidUntil?: string;
  /**
   * The key's account is disabled (or being deleted): the key is refused. A copy of the
   * account's state on each of its keys, so verification stays one read of the key's item; the
   * repository keeps the copies in step with the account (`setAccountDisabled`).
   */
  accountDisabled?: boolean;
  /**
   * When the unused-key scan disabled the key (`warnings.disableUnused`): it is refused, as a key
   * of a disabled account is, until an operator enables it (`keygate keys enable`).
   */
  disabledAt?: string;
}

/** What the audit log records: who did what to which key, from where. Never key material. */
export type AuditAction =
  | 'api_key.created'
  | 'api_key.updated'
  | 'api_key.rolled'
  | 'api_key.deleted'
  | 'api_key.leak_revoked'
  | 'api_key.escalation_refused'
  /** The scan's warnings: a key some days from expiry; a key unused for some days (and disabled). */
  | 'api_key.expiry_warning'
  | 'api_key.unused_warning'
  | 'api_key.disabled_unused'
  /** An operator enabled a key the unused-key scan disabled (`keygate keys enable`). */
  | 'api_key.enabled'
  /** The account was disabled or enabled (by its parent, or by an operator). */
  | 'account.disabled'
  | 'account.enabled'
  /** An operator (`keygate accounts set-plan`) or its parent put the account on another plan. */
  | 'account.plan_changed'
  /** The account's use crossed 80, 90 or 100 % of one of its plan's quotas (once per period). */
  | 'account.quota_warning'
  | 'api_key.quota_warning'
  /** In a parent's log: a subuser was created, disabled, enabled or deleted. */
  | 'subuser.created'
  | 'subuser.disabled'
  | 'subuser.enabled'
  | 'subuser.deleted';

export interface AuditEvent {
  accountId: string;
  /** `<RFC 3339 time>#<random>`: sorts by time, unique. */
  eventId: string;
  time: string;
  action: AuditAction;
  /** The key that acted; null for leaked-key reports (anonymous) and operators. */
  actorKeyId: string | null;
  /**
   * The account of the key that acted, when it is not `accountId`: a parent's key acting for its
   * subuser (`on-behalf-of`). Absent otherwise.
   */
  actorAccountId?: string;
  targetKeyId: string;
  scopesAdded: string[];
  scopesRemoved: string[];
  sourceIp: string | null;
  /** Small, non-secret facts (e.g. the new name, the grace period). */
  details: Record<string, string>;
}

export interface EventPage {
  events: AuditEvent[];
  /**
   * Where the next page starts (the last event ID of this one), present when more events may
   * follow. A storage position, never shown to clients: the domain seals it into a cursor.
   */
  next?: string;
}

export interface AccountRecord {
  accountId: string;
  name: string;
  /** Most keys the account may hold, the owner key not counted. */
  keyLimit: number;
  /** Keys the account holds, the owner key not counted. Kept exact by transactions. */
  keyCount: number;
  /** The owner key's ID; subusers have no owner key (their parent manages their keys). */
  ownerKeyId?: string;
  /** Longest a key of this account may live; keys asking for longer are refused. */
  maxKeyLifetimeSeconds?: number;
  /**
   * The account's plan, set at bootstrap, by an operator, or for a subuser by its parent (within
   * the parent's own plan). Absent on accounts stored before plans existed, which the domain
   * reads as its default plan.
   */
  plan?: string;
  createdAt: string;
  /** A subuser's parent account. Subusers cannot have subusers. */
  parentAccountId?: string;
  /** A subuser's numeric ID (SendGrid's `user_id`), unique in the deployment. */
  userId?: number;
  /** A subuser's contact address. */
  email?: string;
  /** Most subusers the account may have; absent: the deployment's default. */
  subuserLimit?: number;
  /** Subusers the account has, kept exact by transactions. Absent: none yet. */
  subuserCount?: number;
  /** Disabled: every key of the account is refused. */
  disabled?: boolean;
  /** Being deleted: hidden from every look-up, no key can be added, its name still reserved. */
  deleting?: boolean;
  /**
   * Incremented by every change of `disabled`/`deleting`: copying the state onto the keys is
   * conditioned on it, so of two racing changes the later one's copy is the one that stays.
   */
  stateVersion?: number;
}

/** An account's billing profile as stored. */
export interface BillingProfileRecord {
  /** Undefined when the account item has no plan (see {@link AccountRecord.plan}). */
  plan: string | undefined;
  /** The contact fields that are set, by their API names (`first_name`, …). */
  contact: Record<string, string>;
  /** When the contact was last changed; undefined if never. */
  updatedAt: string | undefined;
}

/** A partial update of the billing contact: fields to set and fields to remove. */
export interface BillingContactChanges {
  set: Record<string, string>;
  remove: string[];
}

export type CreateAccountOutcome = { ok: true } | { ok: false; reason: 'name_taken' };

export type CreateSubuserOutcome =
  | { ok: true }
  | { ok: false; reason: 'name_taken' | 'not_a_parent' | 'user_id_taken' }
  | { ok: false; reason: 'limit_reached'; limit: number };

export type InsertKeyOutcome =
  | { ok: true }
  | { ok: false; reason: 'limit_reached'; limit: number }
  | { ok: false; reason: 'account_not_found' | 'account_disabled' };

/** What changing an account's state did: `superseded` when a later change overtook it. */
export type AccountStateOutcome = 'done' | 'superseded' | 'not_found';

export type WriteKeyOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' | 'conflict' };

/**
 * A change to a key. `name`, `scopes`, `type` and `updatedAt` are always written; for the
 * optional fields `undefined` leaves them as they are and `null` removes them.
 */
export interface KeyChanges {
  name: string;
  scopes: readonly string[];
  type: KeyType;
  updatedAt: string;
  expiresAt?: string | null;
  allowedIps?: string[] | null;
  limits?: Limits | null;
  /** A roll: the new key's hash, and the old one's with the end of its grace period. */
  keyHash?: string;
  previousKeyHash?: string | null;
  previousValidUntil?: string | null;
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
  /** Names are unique whatever their case: `Acme` finds `acme`. */
  findAccountIdByName(name: string): Promise<string | undefined>;
  /**
   * Creates a subuser account of `parentId` and records `events` (in the parent's log and the
   * subuser's), atomically: its name is reserved across the deployment (whatever the case), its
   * `userId` is unique, and the parent's subuser count stays within `limit` however many creates
   * race. A parent that is itself a subuser is `not_a_parent`.
   */
  createSubuser(
    parentId: string,
    limit: number,
    subuser: AccountRecord,
    events: readonly AuditEvent[],
  ): Promise<CreateSubuserOutcome>;
  /**
   * The parent's subusers by name (case-insensitive order), those being deleted left out; only
   * names starting with `prefix` (case-insensitive) when given.
   */
  listSubusers(
    parentId: string,
    options: { prefix?: string; limit: number; offset: number },
  ): Promise<AccountRecord[]>;
  /**
   * Disables or enables the account and records `events`, then marks every key of the account
   * (`KeyRecord.accountDisabled`) before returning, so no key of a disabled account verifies
   * from then on. Keys being created meanwhile are refused or marked; a later change of the
   * state overtakes this one (`superseded`). With `changes.plan`, the account's plan is written
   * in the same transaction as its state (both or neither), and a racing change of the state is
   * then ordered before this one rather than overtaking it (nothing else writes the plan).
   */
  setAccountDisabled(
    accountId: string,
    disabled: boolean,
    events: readonly AuditEvent[],
    changes?: { plan?: string },
  ): Promise<AccountStateOutcome>;
  /** Puts the account on `plan` and records `events`, in one write; a deleted account is not found. */
  setAccountPlan(
    accountId: string,
    plan: string,
    events: readonly AuditEvent[],
  ): Promise<'done' | 'not_found'>;
  /**
   * Deletes a subuser: marks it as being deleted (no key can be added, look-ups skip it), deletes
   * every key, then the account, its name and ID reservations and its place in the parent's
   * count, recording `events`. Repeating it after a failure finishes the job. The audit log is
   * append-only: the account's events stay, unreachable through the API (a new account of the
   * same name has another ID).
   */
  deleteSubuser(
    subuser: AccountRecord,
    events: readonly AuditEvent[],
  ): Promise<'done' | 'not_found'>;
  /** Every account, for operators (a scan: never on a request path). */
  listAccounts(): Promise<AccountRecord[]>;
  /** Inserts a non-owner key, counts it against the account's limit and records `event`, atomically. */
  insertKey(key: KeyRecord, event: AuditEvent): Promise<InsertKeyOutcome>;
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /** The account's keys, oldest first; at most `limit` when given. */
  listKeys(accountId: string, limit?: number): Promise<KeyRecord[]>;
  /** Applies `changes` only if the key still has `current.version`, and records `event`, atomically. */
  updateKey(
    current: KeyRecord,
    changes: KeyChanges,
    event: AuditEvent,
  ): Promise<WriteKeyOutcome<KeyRecord>>;
  /**
   * Deletes the key only if it still has `current.version`, uncounts it and records `event`,
   * atomically.
   */
  deleteKey(current: KeyRecord, event: AuditEvent): Promise<WriteKeyOutcome<true>>;
  /**
   * Records when and from where a key was last used, unless it was recorded after `notBefore`
   * already (one conditional write at most a minute per key). Never fails the caller.
   */
  touchKey(keyId: string, at: string, ip: string | null, notBefore: string): Promise<void>;
  /**
   * Appends a refused attempt's event on its own, unless the actor key already has `limit` of
   * them recorded in `window` (e.g. the hour `2026-12-02T14`): the count and the append are one
   * atomic write, so refusals cannot grow the audit log without bound. Whether it was recorded.
   */
  recordRefusal(event: AuditEvent, bound: { window: string; limit: number }): Promise<boolean>;
  /** Appends one event to the audit log (a warning that changes nothing else). */
  appendEvent(event: AuditEvent): Promise<void>;
  /**
   * The account's events, newest first, after the position `after` (from {@link EventPage.next})
   * when given; only those about `targetKeyId` when given. Never another account's: for another
   * account's key the page is empty and has no next position, exactly as for an unknown key.
   */
  listEvents(
    accountId: string,
    options: { limit: number; after?: string; targetKeyId?: string },
  ): Promise<EventPage>;
  /**
   * The deployment's secret for sealing audit cursors (`CURSOR_KEY_BYTES` random bytes, see
   * `cursor.ts`): created once, on first use, by whichever caller gets there first, then the same
   * for every caller, and read once per process.
   */
  cursorKey(): Promise<Uint8Array>;
  /** Finds a key from the hash of its value (leaked-key reports, operator look-ups). */
  findKeyIdByHash(keyHash: string): Promise<string | undefined>;
  /** The account's billing profile, read consistently; undefined if the account does not exist. */
  getBillingProfile(accountId: string): Promise<BillingProfileRecord | undefined>;
  /**
   * Applies `changes` to the account's billing contact in one conditional write and returns the
   * whole profile after it; undefined if the account does not exist (nothing is written).
   */
  updateBillingContact(
    accountId: string,
    changes: BillingContactChanges,
    updatedAt: string,
  ): Promise<BillingProfileRecord | undefined>;
}

/** Deployment settings the domain needs. */
export interface KeygateConfig {
  keyPrefix: string;
  /** Per-account key limit for accounts that do not set their own. */
  defaultKeyLimit: number;
  /** Most subusers a parent account may have when it does not set its own limit. */
  defaultSubuserLimit: number;
  /**
   * The scopes keys may hold (SendGrid's preset, a team's areas, or both). The owner key holds
   * every one of them, whenever they were added.
   */
  catalogue: ScopeCatalogue;
  /**
   * Whether the deployment counts limits (it declares plans): only then may a key be given
   * limits of its own, which would otherwise be accepted and never enforced.
   */
  limitsEnabled?: boolean;
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
  payload: MailPayload;
  acceptedAt: string;
}

/** Delivers mail: Amazon SES on AWS, an on-disk outbox locally. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  /** Whether mail may be sent from this address (SendGrid: a verified Sender Identity). No I/O. */
  canSendFrom(address: string): boolean;
  /**
   * Whether this mailer can deliver a message built from a SendGrid template (`template_id`).
   * Templates live at SendGrid; a mailer that cannot render them makes the request a 400 up
   * front instead of failing at delivery. No I/O.
   */
  canUseTemplate(templateId: string): boolean;
}

/** Everything a domain operation may touch, injected. */
export interface Deps {
  repo: KeyRepository;
  config: KeygateConfig;
  now: () => Date;
  authorizerCache: AuthorizerCache;
  mailer: Mailer;
}

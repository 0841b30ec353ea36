import { randomBytes } from 'node:crypto';
import { CURSOR_KEY_BYTES } from '../../domain/cursor.js';
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
import { applyChanges } from '../../domain/records.js';
import { internScopes } from '../../domain/scope-codes.js';

/**
 * {@link KeyRepository} in memory, for pure unit tests and benchmarks of the CPU path. Each
 * method is synchronous inside, so it is trivially atomic; it copies records in and out so
 * callers cannot alias stored state.
 */
export class MemoryKeyRepository implements KeyRepository {
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly names = new Map<string, string>();
  private readonly keys = new Map<string, KeyRecord>();
  private readonly events: AuditEvent[] = [];
  private readonly cursorSecret = new Uint8Array(randomBytes(CURSOR_KEY_BYTES));
  private readonly billing = new Map<
    string,
    { contact: Record<string, string>; updatedAt: string | undefined }
  >();

  async createAccount(account: AccountRecord, ownerKey: KeyRecord): Promise<CreateAccountOutcome> {
    if (this.names.has(account.name.toLowerCase())) return { ok: false, reason: 'name_taken' };
    this.names.set(account.name.toLowerCase(), account.accountId);
    this.accounts.set(account.accountId, { ...account });
    this.keys.set(ownerKey.keyId, toStored(ownerKey));
    return { ok: true };
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const account = this.accounts.get(accountId);
    return account && { ...account };
  }

  async findAccountIdByName(name: string): Promise<string | undefined> {
    return this.names.get(name.toLowerCase());
  }

  async createSubuser(
    parentId: string,
    limit: number,
    subuser: AccountRecord,
    events: readonly AuditEvent[],
  ): Promise<CreateSubuserOutcome> {
    const parent = this.accounts.get(parentId);
    if (!parent || parent.parentAccountId !== undefined)
      return { ok: false, reason: 'not_a_parent' };
    if ((parent.subuserCount ?? 0) >= limit) return { ok: false, reason: 'limit_reached', limit };
    if (this.names.has(subuser.name.toLowerCase())) return { ok: false, reason: 'name_taken' };
    parent.subuserCount = (parent.subuserCount ?? 0) + 1;
    this.names.set(subuser.name.toLowerCase(), subuser.accountId);
    this.accounts.set(subuser.accountId, { ...subuser });
    for (const event of events) this.events.push(structuredClone(event));
    return { ok: true };
  }

  async listSubusers(
    parentId: string,
    options: { prefix?: string; limit: number; offset: number },
  ): Promise<AccountRecord[]> {
    const prefix = options.prefix?.toLowerCase() ?? '';
    return [...this.accounts.values()]
      .filter((a) => a.parentAccountId === parentId && !a.deleting)
      .filter((a) => a.name.toLowerCase().startsWith(prefix))
      .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))
      .slice(options.offset, options.offset + options.limit)
      .map((a) => ({ ...a }));
  }

  async appendEvent(event: AuditEvent): Promise<void> {
    this.events.push(structuredClone(event));
  }

  async setAccountPlan(
    accountId: string,
    plan: string,
    events: readonly AuditEvent[],
  ): Promise<'done' | 'not_found'> {
    const account = this.accounts.get(accountId);
    if (!account || account.deleting) return 'not_found';
    account.plan = plan;
    for (const event of events) this.events.push(structuredClone(event));
    return 'done';
  }

  async setAccountDisabled(
    accountId: string,
    disabled: boolean,
    events: readonly AuditEvent[],
    changes: { plan?: string } = {},
  ): Promise<AccountStateOutcome> {
    const account = this.accounts.get(accountId);
    if (!account || account.deleting) return 'not_found';
    account.disabled = disabled;
    if (changes.plan !== undefined) account.plan = changes.plan;
    account.stateVersion = (account.stateVersion ?? 0) + 1;
    for (const event of events) this.events.push(structuredClone(event));
    for (const key of this.keys.values()) {
      if (key.accountId !== accountId) continue;
      if (disabled) key.accountDisabled = true;
      else delete key.accountDisabled;
    }
    return 'done';
  }

  async deleteSubuser(
    subuser: AccountRecord,
    events: readonly AuditEvent[],
  ): Promise<'done' | 'not_found'> {
    const account = this.accounts.get(subuser.accountId);
    if (!account || account.parentAccountId === undefined) return 'not_found';
    for (const [keyId, key] of this.keys)
      if (key.accountId === subuser.accountId) this.keys.delete(keyId);
    this.accounts.delete(subuser.accountId);
    this.names.delete(account.name.toLowerCase());
    const parent = this.accounts.get(account.parentAccountId);
    if (parent) parent.subuserCount = Math.max(0, (parent.subuserCount ?? 0) - 1);
    for (const event of events) this.events.push(structuredClone(event));
    return 'done';
  }

  async listAccounts(): Promise<AccountRecord[]> {
    return [...this.accounts.values()]
      .map((a) => ({ ...a }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async insertKey(key: KeyRecord, event: AuditEvent): Promise<InsertKeyOutcome> {
    const account = this.accounts.get(key.accountId);
    if (!account) return { ok: false, reason: 'account_not_found' };
    if (account.disabled || account.deleting) return { ok: false, reason: 'account_disabled' };
    if (account.keyCount >= account.keyLimit) {
      return { ok: false, reason: 'limit_reached', limit: account.keyLimit };
    }
    account.keyCount += 1;
    this.keys.set(key.keyId, toStored(key));
    this.events.push(structuredClone(event));
    return { ok: true };
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const key = this.keys.get(keyId);
    return key && copy(key);
  }

  async listKeys(accountId: string, limit?: number): Promise<KeyRecord[]> {
    const keys = [...this.keys.values()]
      .filter((k) => k.accountId === accountId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return keys.slice(0, limit ?? keys.length).map(copy);
  }

  async updateKey(
    current: KeyRecord,
    changes: KeyChanges,
    event: AuditEvent,
  ): Promise<WriteKeyOutcome<KeyRecord>> {
    const stored = this.keys.get(current.keyId);
    if (!stored) return { ok: false, reason: 'not_found' };
    if (stored.version !== current.version) return { ok: false, reason: 'conflict' };
    const updated = applyChanges(stored, changes);
    this.keys.set(current.keyId, updated);
    this.events.push(structuredClone(event));
    return { ok: true, value: copy(updated) };
  }

  async deleteKey(current: KeyRecord, event: AuditEvent): Promise<WriteKeyOutcome<true>> {
    const stored = this.keys.get(current.keyId);
    if (!stored) return { ok: false, reason: 'not_found' };
    if (stored.version !== current.version) return { ok: false, reason: 'conflict' };
    this.keys.delete(current.keyId);
    const account = this.accounts.get(current.accountId);
    if (account && stored.type !== 'owner') account.keyCount -= 1;
    this.events.push(structuredClone(event));
    return { ok: true, value: true };
  }

  async touchKey(keyId: string, at: string, ip: string | null, notBefore: string): Promise<void> {
    const stored = this.keys.get(keyId);
    if (!stored || (stored.lastUsedAt !== undefined && stored.lastUsedAt >= notBefore)) return;
    stored.lastUsedAt = at;
    if (ip) stored.lastUsedIp = ip;
    else delete stored.lastUsedIp;
  }

  private readonly refusals = new Map<string, number>();

  async recordRefusal(event: AuditEvent, bound: { window: string; limit: number }) {
    const counter = `${event.actorKeyId}#${bound.window}`;
    const count = this.refusals.get(counter) ?? 0;
    if (count >= bound.limit) return false;
    this.refusals.set(counter, count + 1);
    this.events.push(structuredClone(event));
    return true;
  }

  async listEvents(
    accountId: string,
    options: { limit: number; after?: string; targetKeyId?: string },
  ): Promise<EventPage> {
    const { after } = options;
    const matching = this.events
      .filter((e) => e.accountId === accountId)
      .filter((e) => options.targetKeyId === undefined || e.targetKeyId === options.targetKeyId)
      .filter((e) => after === undefined || e.eventId < after)
      // By code unit, as DynamoDB orders the sort key and as `after` compares, not by locale.
      .sort((a, b) => (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0));
    const page = matching.slice(0, options.limit);
    const last = page.at(-1);
    return {
      events: page.map((e) => structuredClone(e)),
      ...(last && options.limit < matching.length ? { next: last.eventId } : {}),
    };
  }

  /** Random per instance: cursors of one repository open only on it, as per deployment. */
  async cursorKey(): Promise<Uint8Array> {
    return this.cursorSecret;
  }

  async findKeyIdByHash(keyHash: string): Promise<string | undefined> {
    for (const key of this.keys.values()) if (key.keyHash === keyHash) return key.keyId;
    return undefined;
  }

  async getBillingProfile(accountId: string): Promise<BillingProfileRecord | undefined> {
    const account = this.accounts.get(accountId);
    if (!account) return undefined;
    const billing = this.billing.get(accountId);
    return {
      plan: account.plan,
      contact: { ...billing?.contact },
      updatedAt: billing?.updatedAt,
    };
  }

  async updateBillingContact(
    accountId: string,
    changes: BillingContactChanges,
    updatedAt: string,
  ): Promise<BillingProfileRecord | undefined> {
    if (!this.accounts.has(accountId)) return undefined;
    const contact = { ...this.billing.get(accountId)?.contact, ...changes.set };
    for (const field of changes.remove) delete contact[field];
    this.billing.set(accountId, { contact, updatedAt });
    return this.getBillingProfile(accountId);
  }
}

/** What is kept: as the DynamoDB repository reads back, one shared frozen array per scope set. */
function toStored(key: KeyRecord): KeyRecord {
  return { ...key, scopes: internScopes(key.scopes) };
}

/** What is handed out: a copy of the record (its scopes are shared and frozen). */
function copy(key: KeyRecord): KeyRecord {
  return { ...key };
}

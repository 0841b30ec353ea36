import { randomBytes } from 'node:crypto';
import { CURSOR_KEY_BYTES } from '../../domain/cursor.js';
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
    if (this.names.has(account.name)) return { ok: false, reason: 'name_taken' };
    this.names.set(account.name, account.accountId);
    this.accounts.set(account.accountId, { ...account });
    this.keys.set(ownerKey.keyId, toStored(ownerKey));
    return { ok: true };
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const account = this.accounts.get(accountId);
    return account && { ...account };
  }

  async findAccountIdByName(name: string): Promise<string | undefined> {
    return this.names.get(name);
  }

  async insertKey(key: KeyRecord, event: AuditEvent): Promise<InsertKeyOutcome> {
    const account = this.accounts.get(key.accountId);
    if (!account) return { ok: false, reason: 'account_not_found' };
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

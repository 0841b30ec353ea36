import { expect } from 'vitest';
import type { AccountRecord, AuditEvent, KeyRecord } from '../../shared/domain/ports.js';
import { defaultDeps } from '../../shared/runtime/deps.js';

/**
 * What storage holds for one account, read straight from DynamoDB Local (no cache, no handler):
 * the account item, its keys (from the `byAccount` index, as listing does) and its whole audit log.
 */
export interface AccountState {
  account: AccountRecord | undefined;
  keys: KeyRecord[];
  events: AuditEvent[];
}

export async function accountState(accountId: string): Promise<AccountState> {
  const { repo } = defaultDeps();
  const account = await repo.getAccount(accountId);
  const keys = (await repo.listKeys(accountId)).sort((a, b) => a.keyId.localeCompare(b.keyId));
  const events: AuditEvent[] = [];
  let after: string | undefined;
  do {
    const page = await repo.listEvents(accountId, {
      limit: 1000,
      ...(after ? { after } : {}),
    });
    events.push(...page.events);
    after = page.next;
  } while (after);
  events.sort((a, b) => a.eventId.localeCompare(b.eventId));
  return { account, keys, events };
}

/** An event that removed its key (a delete, or a leaked-key report that deleted it). */
export function removesKey(event: AuditEvent): boolean {
  return (
    event.action === 'api_key.deleted' ||
    (event.action === 'api_key.leak_revoked' && event.details.revoked === 'key deleted')
  );
}

/** An event that changed a key in place (each one bumps the key's version exactly once). */
export function changesKey(event: AuditEvent): boolean {
  return (
    event.action === 'api_key.updated' ||
    event.action === 'api_key.rolled' ||
    (event.action === 'api_key.leak_revoked' && !removesKey(event))
  );
}

/**
 * The account's invariants, whatever happened before (races, faults):
 * - the key counter equals the number of keys listed, the owner key aside;
 * - every key listed has exactly one `created` event (the owner key none: it is bootstrapped)
 *   and no removal event, and its version is 1 plus its in-place change events, so no change was
 *   applied without its event and no event was written without its change;
 * - every key that has events but is gone was created once and removed exactly once.
 *
 * Returns the state it checked.
 */
export async function expectConsistentAccount(accountId: string): Promise<AccountState> {
  const state = await accountState(accountId);
  const { account, keys, events } = state;
  expect(account, 'account item').toBeDefined();
  const nonOwner = keys.filter((k) => k.type !== 'owner');
  expect(account?.keyCount, 'keyCount equals the keys listed (owner key aside)').toBe(
    nonOwner.length,
  );
  const byTarget = new Map<string, AuditEvent[]>();
  for (const event of events) {
    // Refusals change nothing; subuser and account events are about no key.
    if (event.action === 'api_key.escalation_refused' || !event.action.startsWith('api_key.')) {
      continue;
    }
    byTarget.set(event.targetKeyId, [...(byTarget.get(event.targetKeyId) ?? []), event]);
  }
  for (const key of keys) {
    const own = byTarget.get(key.keyId) ?? [];
    const created = own.filter((e) => e.action === 'api_key.created').length;
    expect(created, `created events of ${key.keyId}`).toBe(key.type === 'owner' ? 0 : 1);
    expect(own.filter(removesKey), `removal events of present key ${key.keyId}`).toEqual([]);
    expect(key.version, `version of ${key.keyId} vs its change events`).toBe(
      1 + own.filter(changesKey).length,
    );
  }
  const present = new Set(keys.map((k) => k.keyId));
  for (const [target, own] of byTarget) {
    if (present.has(target)) continue;
    expect(
      own.filter((e) => e.action === 'api_key.created').length,
      `created events of removed key ${target}`,
    ).toBe(1);
    expect(own.filter(removesKey).length, `removal events of removed key ${target}`).toBe(1);
  }
  return state;
}

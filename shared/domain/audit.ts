import type { Caller } from './caller.js';
import { type CursorScope, openCursor, sealCursor } from './cursor.js';
import { BadRequestError, fail, ok, type Result } from './errors.js';
import { KEY_ID_PATTERN, randomId } from './key-format.js';
import type { AuditAction, AuditEvent, Deps } from './ports.js';

/**
 * The audit log: every create, update, roll, delete, leaked-key revocation and refused escalation,
 * recorded once (in the same transaction as the change it describes) with the actor key, the
 * target key, the scope difference and the source address. Never key material.
 */

export const DEFAULT_EVENTS_LIMIT = 50;

/** Builds an event; `before`/`after` scope lists give the scope difference. */
export function auditEvent(
  deps: Pick<Deps, 'now'>,
  input: {
    accountId: string;
    action: AuditAction;
    actor: Pick<Caller, 'keyId' | 'sourceIp' | 'parentAccountId' | 'operator'> | null;
    targetKeyId: string;
    before?: readonly string[];
    after?: readonly string[];
    details?: Record<string, string>;
    sourceIp?: string | null;
  },
): AuditEvent {
  const time = deps.now().toISOString();
  const before = new Set(input.before ?? []);
  const after = new Set(input.after ?? []);
  return {
    accountId: input.accountId,
    eventId: `${time}#${randomId()}`,
    time,
    action: input.action,
    actorKeyId: input.actor && !input.actor.operator ? input.actor.keyId : null,
    ...(input.actor?.parentAccountId ? { actorAccountId: input.actor.parentAccountId } : {}),
    targetKeyId: input.targetKeyId,
    scopesAdded: [...after].filter((s) => !before.has(s)).sort(),
    scopesRemoved: [...before].filter((s) => !after.has(s)).sort(),
    sourceIp: input.sourceIp ?? input.actor?.sourceIp ?? null,
    details: input.details ?? {},
  };
}

/**
 * Pages through the caller's account's events, newest first; only those about one key when
 * `keyId` is given (the console's per-key history: `?api_key_id=`).
 *
 * Cursors are sealed positions (`cursor.ts`), bound to the caller's account and to this query:
 * any other cursor is a 400 before storage is queried. Another account's key answers exactly as
 * an unknown one (the repository sees to that), and so does an ID that is not a key ID at all.
 */
export async function listAuditEvents(
  deps: Deps,
  caller: Caller,
  input: { limit?: number; cursor?: string; keyId?: string },
): Promise<Result<{ events: AuditEvent[]; nextCursor: string | null }>> {
  const scope: CursorScope = {
    accountId: caller.accountId,
    ...(input.keyId === undefined ? {} : { targetKeyId: input.keyId }),
  };
  let after: string | undefined;
  if (input.cursor !== undefined) {
    const opened = openCursor(await deps.repo.cursorKey(), input.cursor, scope);
    if (!opened.ok) return fail(new BadRequestError('cursor is not valid', 'cursor'));
    after = opened.position;
  }
  // No key has such an ID, so nothing is about it. Events that name no key carry a placeholder
  // target shared by every account (see `refused` in api-keys.ts): never query it.
  if (input.keyId !== undefined && !KEY_ID_PATTERN.test(input.keyId)) {
    return ok({ events: [], nextCursor: null });
  }
  const page = await deps.repo.listEvents(caller.accountId, {
    limit: input.limit ?? DEFAULT_EVENTS_LIMIT,
    ...(after === undefined ? {} : { after }),
    ...(input.keyId === undefined ? {} : { targetKeyId: input.keyId }),
  });
  return ok({
    events: page.events,
    nextCursor:
      page.next === undefined ? null : sealCursor(await deps.repo.cursorKey(), page.next, scope),
  });
}

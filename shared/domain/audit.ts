import type { AuditEventViewType, ListEventsInput } from '../schemas/api-keys.js';
import type { Caller } from './api-keys.js';
import { BadRequestError, fail, ok, type Result } from './errors.js';
import { randomId } from './key-format.js';
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
    actor: Pick<Caller, 'keyId' | 'sourceIp'> | null;
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
    actorKeyId: input.actor?.keyId ?? null,
    targetKeyId: input.targetKeyId,
    scopesAdded: [...after].filter((s) => !before.has(s)).sort(),
    scopesRemoved: [...before].filter((s) => !after.has(s)).sort(),
    sourceIp: input.sourceIp ?? input.actor?.sourceIp ?? null,
    details: input.details ?? {},
  };
}

/**
 * Pages through the caller's account's events, newest first; only those about one key when
 * `api_key_id` is given (the console's per-key history).
 */
export async function listAuditEvents(
  deps: Deps,
  caller: Caller,
  input: ListEventsInput,
): Promise<Result<{ result: AuditEventViewType[]; next_cursor: string | null }>> {
  let page: Awaited<ReturnType<Deps['repo']['listEvents']>>;
  try {
    page = await deps.repo.listEvents(caller.accountId, {
      limit: input.limit ?? DEFAULT_EVENTS_LIMIT,
      ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
      ...(input.api_key_id === undefined ? {} : { targetKeyId: input.api_key_id }),
    });
  } catch (error) {
    if (error instanceof Error && error.message === 'bad cursor') {
      return fail(new BadRequestError('cursor is not valid', 'cursor'));
    }
    throw error;
  }
  return ok({
    result: page.events.map((e) => ({
      id: e.eventId,
      time: e.time,
      action: e.action,
      actor_key_id: e.actorKeyId,
      api_key_id: e.targetKeyId,
      scopes_added: e.scopesAdded,
      scopes_removed: e.scopesRemoved,
      source_ip: e.sourceIp,
      details: e.details,
    })),
    next_cursor: page.nextCursor ?? null,
  });
}

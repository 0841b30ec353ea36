import { LIFECYCLE_EVENT_SOURCE, type LifecycleEvent } from '../../domain/lifecycle-events.js';
import type { AuditEvent } from '../../domain/ports.js';
import type { AuditEventViewType } from '../../schemas/api-keys.js';

/**
 * The audit log's wire format: SendGrid-style snake_case, as `GET /v3/api_keys/events` answers
 * and as each lifecycle event on the bus carries it (docs/events.md).
 */

/** The audit view of an event: what the API's events route answers, field for field. */
export function auditEventView(
  e: AuditEvent,
): AuditEventViewType & { actor_account_id: string | null } {
  return {
    id: e.eventId,
    time: e.time,
    action: e.action,
    actor_key_id: e.actorKeyId,
    actor_account_id: e.actorAccountId ?? (e.actorKeyId === null ? null : e.accountId),
    api_key_id: e.targetKeyId,
    scopes_added: e.scopesAdded,
    scopes_removed: e.scopesRemoved,
    source_ip: e.sourceIp,
    details: e.details,
  };
}

/** A page of events, with the cursor of the next one (`null`: none). */
export function eventsPageView(page: { events: readonly AuditEvent[]; nextCursor: string | null }) {
  return { result: page.events.map(auditEventView), next_cursor: page.nextCursor };
}

/**
 * What one lifecycle event carries: the audit event as the API's audit view shows it, with the
 * account it belongs to.
 */
export type LifecycleEventDetail = AuditEventViewType & {
  readonly account_id: string;
  readonly actor_account_id: string | null;
};

export function lifecycleEvent(e: AuditEvent): LifecycleEvent & { detail: LifecycleEventDetail } {
  return {
    source: LIFECYCLE_EVENT_SOURCE,
    detailType: e.action,
    time: e.time,
    detail: { account_id: e.accountId, ...auditEventView(e) },
  };
}

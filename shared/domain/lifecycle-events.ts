import type { AuditEvent } from './ports.js';

/**
 * Lifecycle events: every key and account change, as the team's own systems receive it on the
 * deployment's event bus. One per audit event, so nothing is published that was not committed
 * (the audit item is written in the change's own transaction) and nothing committed is lost (the
 * audit table's stream feeds the publisher, which a failed handler does not skip). Delivery is at
 * least once: a retried batch may publish an event again; `detail.id` (the audit event's ID)
 * identifies it. The audit log holds no key material, and neither does an event.
 */

/** `source` of every event Keygate publishes. */
export const LIFECYCLE_EVENT_SOURCE = 'keygate';

/**
 * One event as the bus receives it. Its `detail` is the wire format the team's systems read
 * (`shared/http/wire/audit.ts` builds it from an audit event; docs/events.md); the domain needs
 * only its `id`, which names the audit event it stands for.
 */
export interface LifecycleEvent {
  readonly source: typeof LIFECYCLE_EVENT_SOURCE;
  /** The audit action, e.g. `api_key.created`, `subuser.disabled`. */
  readonly detailType: string;
  /** When the change was made (the audit event's time). */
  readonly time: string;
  readonly detail: { readonly id: string };
}

/**
 * The bus: one call puts up to {@link MAX_ENTRIES_PER_PUT} events and answers which of them
 * failed (their indexes in `events`). A call that fails as a whole throws.
 */
export interface EventPublisher {
  put(events: readonly LifecycleEvent[]): Promise<{ failed: readonly number[] }>;
}

/**
 * EventBridge's limits for `PutEvents`: at most 10 entries a request, and 256 KB for the
 * request's entries together (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html;
 * sizes as https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html counts
 * them).
 */
export const MAX_ENTRIES_PER_PUT = 10;
export const MAX_BYTES_PER_PUT = 256 * 1024;
/** Attempts of each batch's failed entries (EventBridge answers them per entry) before giving up. */
export const PUT_ATTEMPTS = 3;

/**
 * An entry's size as EventBridge counts it: the UTF-8 bytes of Source, DetailType and Detail
 * (Resources: none), plus 14 bytes for Time.
 */
export function entrySize(event: LifecycleEvent): number {
  return (
    Buffer.byteLength(event.source) +
    Buffer.byteLength(event.detailType) +
    Buffer.byteLength(JSON.stringify(event.detail)) +
    14
  );
}

/** Groups events, in order, into requests within both limits. */
export function putBatches(events: readonly LifecycleEvent[]): LifecycleEvent[][] {
  const batches: LifecycleEvent[][] = [];
  let current: LifecycleEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = entrySize(event);
    if (size > MAX_BYTES_PER_PUT) {
      throw new Error(`event ${event.detail.id} is ${size} bytes, over EventBridge's 256 KB`);
    }
    if (current.length === MAX_ENTRIES_PER_PUT || bytes + size > MAX_BYTES_PER_PUT) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Publishes the events of these audit events (`toEvent` gives each its wire format), in order, in requests within EventBridge's limits;
 * entries EventBridge refused are put again, up to {@link PUT_ATTEMPTS} times. Throws when some
 * remain unpublished (the stream then delivers the batch again). Answers how many were published.
 */
export async function publishAuditEvents(
  deps: { publisher: EventPublisher; toEvent: (event: AuditEvent) => LifecycleEvent },
  events: readonly AuditEvent[],
): Promise<{ published: number }> {
  let published = 0;
  for (const batch of putBatches(events.map(deps.toEvent))) {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > PUT_ATTEMPTS) {
        throw new Error(
          `${pending.length} event(s) not published after ${PUT_ATTEMPTS} attempts: ${pending
            .map((e) => e.detail.id)
            .join(', ')}`,
        );
      }
      const { failed } = await deps.publisher.put(pending);
      published += pending.length - failed.length;
      pending = failed.map((i) => pending[i]).filter((e): e is LifecycleEvent => e !== undefined);
    }
  }
  return { published };
}

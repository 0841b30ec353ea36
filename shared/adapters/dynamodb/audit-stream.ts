import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { AuditEvent } from '../../domain/ports.js';
import { toEvent } from './keys-repository.js';

/**
 * The audit events of a batch of the audit table's stream records (NEW_IMAGE), in stream order.
 * The table is append-only, so only INSERTs carry events. A record without a readable event is
 * answered in `unreadable` (its sequence number) rather than thrown: a retry would read it no
 * better, and would hold back every later event of its shard.
 */
export function auditEventsOfRecords(records: readonly DynamoDBRecord[]): {
  events: AuditEvent[];
  unreadable: string[];
} {
  const events: AuditEvent[] = [];
  const unreadable: string[] = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT') continue;
    const image = record.dynamodb?.NewImage;
    const item = image ? plain({ M: image }) : undefined;
    if (
      !item ||
      typeof item !== 'object' ||
      typeof (item as Record<string, unknown>).eventId !== 'string' ||
      typeof (item as Record<string, unknown>).action !== 'string'
    ) {
      unreadable.push(record.dynamodb?.SequenceNumber ?? '?');
      continue;
    }
    events.push(toEvent(item as Record<string, unknown>));
  }
  return { events, unreadable };
}

/**
 * A stream image's attribute value as plain data: the types the document client writes for an
 * audit item (strings, string lists, a string map, null), and the other scalar ones.
 */
function plain(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.SS !== undefined) return [...value.SS];
  if (value.L !== undefined) return value.L.map(plain);
  if (value.M !== undefined) {
    return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, plain(v)]));
  }
  return undefined;
}

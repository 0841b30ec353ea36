import { EventBridgePublisher } from '../adapters/aws/event-bus.js';
import type { EventPublisher } from '../domain/lifecycle-events.js';

/** The env var naming the deployment's event bus (set by the construct on the publisher only). */
export const EVENT_BUS_ENV = 'KEYGATE_EVENT_BUS_NAME';

let publisher: EventPublisher | undefined;

/** The process's publisher onto the deployment's bus, built on first use. */
export function eventPublisher(): EventPublisher {
  if (publisher) return publisher;
  const bus = process.env[EVENT_BUS_ENV];
  if (!bus) throw new Error(`${EVENT_BUS_ENV} must be set`);
  publisher = new EventBridgePublisher(bus);
  return publisher;
}

/** The audit events in a batch of the audit table's stream records (the handler's parse step). */
export { auditEventsOfRecords } from '../adapters/dynamodb/audit-stream.js';

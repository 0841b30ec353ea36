import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { publishAuditEvents } from '../../shared/domain/lifecycle-events.js';
import { lifecycleEvent } from '../../shared/http/wire/audit.js';
import { addLambdaContext, logger } from '../../shared/observability/logger.js';
import { publishMetrics } from '../../shared/observability/metrics.js';
import { auditEventsOfRecords, eventPublisher } from '../../shared/runtime/event-publisher.js';

/**
 * Lifecycle events: the audit table's stream (new images) onto the deployment's EventBridge bus,
 * one event per audit event (`shared/domain/lifecycle-events.ts` publishes, `shared/http/wire/audit.ts` gives each its wire format; docs/events.md). When some
 * remain unpublished it fails the batch, and Lambda delivers it again: nothing committed is lost,
 * and an event may arrive twice (its `detail.id` tells).
 */
export async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<void> {
  addLambdaContext(context);
  const { events, unreadable } = auditEventsOfRecords(event.Records);
  if (unreadable.length > 0) {
    logger.error('audit stream records without an event, skipped', { sequenceNumbers: unreadable });
  }
  try {
    const { published } = await publishAuditEvents(
      { publisher: eventPublisher(), toEvent: lifecycleEvent },
      events,
    );
    logger.info('lifecycle events published', { records: event.Records.length, published });
  } finally {
    // Nothing it runs counts a metric today: this keeps a future count from staying buffered in a
    // warm container (written in a later invocation, or never).
    publishMetrics();
  }
}

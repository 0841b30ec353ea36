import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, LifecycleEvent } from '../../domain/lifecycle-events.js';

/**
 * The SDK's defaults wait for ever (see `shared/adapters/aws/authorizer-cache.ts`): a hung call
 * must fail the stream batch (retried) rather than run the function out of time.
 */
const EVENT_BUS_CLIENT = {
  maxAttempts: 3,
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    throwOnRequestTimeout: true,
    socketTimeout: 3_000,
  },
} as const;

/**
 * Lifecycle events onto an EventBridge bus with `PutEvents`. EventBridge processes the entries of
 * a request one by one and answers each: a failed one has an ErrorCode (and no EventId), and
 * "you must detect unsuccessful entries and include them in a subsequent call"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html); the response's
 * Entries are in the request's order.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly eventBusName: string,
    private readonly client: EventBridgeClient = new EventBridgeClient(EVENT_BUS_CLIENT),
  ) {}

  async put(events: readonly LifecycleEvent[]): Promise<{ failed: readonly number[] }> {
    const { FailedEntryCount = 0, Entries = [] } = await this.client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: this.eventBusName,
          Source: event.source,
          DetailType: event.detailType,
          Time: new Date(event.time),
          Detail: JSON.stringify(event.detail),
        })),
      }),
    );
    if (FailedEntryCount === 0) return { failed: [] };
    const failed = events.flatMap((_, i) => {
      const entry = Entries[i];
      return entry === undefined || entry.ErrorCode !== undefined || entry.EventId === undefined
        ? [i]
        : [];
    });
    return { failed };
  }
}

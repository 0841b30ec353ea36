import { readFileSync } from 'node:fs';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/audit-events/handler.js';
import { EventBridgePublisher } from '../../shared/adapters/aws/event-bus.js';
import { auditEventsOfRecords } from '../../shared/adapters/dynamodb/audit-stream.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { type Caller, deleteApiKey } from '../../shared/domain/api-keys.js';
import { hashApiKey } from '../../shared/domain/key-format.js';
import {
  entrySize,
  LIFECYCLE_EVENT_SOURCE,
  MAX_BYTES_PER_PUT,
  MAX_ENTRIES_PER_PUT,
  PUT_ATTEMPTS,
  publishAuditEvents,
  putBatches,
} from '../../shared/domain/lifecycle-events.js';
import type { AuditEvent } from '../../shared/domain/ports.js';
import { ALL_SCOPES } from '../../shared/domain/scopes.js';
import { lifecycleEvent } from '../../shared/http/wire/audit.js';
import { EVENT_BUS_ENV } from '../../shared/runtime/event-publisher.js';
import { createApiKey, listAuditEvents, rollApiKey } from './as-api.js';
import { makeDeps, testEvent, unwrap } from './support.js';

// EventBridge cannot run here: its SDK client is the one mocked part.
const eventBridge = mockClient(EventBridgeClient);
afterAll(() => {
  eventBridge.restore();
  delete process.env[EVENT_BUS_ENV];
});

beforeEach(() => {
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
  }));
});

/** Every entry of every PutEvents call, in order. */
function putEntries(): PutEventsRequestEntry[][] {
  return eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
}

/** An account with a key created, rolled and deleted: real domain code, in-memory storage. */
async function history() {
  const { deps, repo } = makeDeps();
  const account = unwrap(await bootstrapAccount(deps, { name: 'acme' }));
  const owner: Caller = {
    accountId: account.accountId,
    keyId: account.keyId,
    type: 'owner',
    scopes: ALL_SCOPES,
  };
  const created = unwrap(
    await createApiKey(deps, owner, { name: 'ci', scopes: ['mail.send', 'alerts.read'] }),
  );
  const rolled = unwrap(await rollApiKey(deps, owner, created.api_key_id, {}));
  unwrap(await deleteApiKey(deps, owner, created.api_key_id));
  const { events } = await repo.listEvents(account.accountId, { limit: 100 });
  const secrets = [account.apiKey, created.api_key, rolled.api_key];
  return { deps, owner, account, events: events.reverse(), secrets };
}

describe('lifecycle events', () => {
  it('carry the audit event as the API’s audit view shows it, with its account', async () => {
    const { deps, owner, account, events } = await history();
    const view = unwrap(await listAuditEvents(deps, owner, {})).result;

    const published = events.map(lifecycleEvent);

    expect(published.map((e) => e.detailType)).toEqual([
      'api_key.created',
      'api_key.rolled',
      'api_key.deleted',
    ]);
    for (const event of published) {
      expect(event.source).toBe(LIFECYCLE_EVENT_SOURCE);
      const { account_id, ...rest } = event.detail;
      expect(account_id).toBe(account.accountId);
      expect(rest).toEqual(view.find((v) => v.id === event.detail.id));
      expect(event.time).toBe(event.detail.time);
    }
  });

  it('are documented field by field, every action included (docs/events.md)', async () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const { events } = await history();
    const detail = lifecycleEvent(events[0] as AuditEvent).detail;
    const actions = [
      'api_key.created',
      'api_key.updated',
      'api_key.rolled',
      'api_key.deleted',
      'api_key.leak_revoked',
      'api_key.escalation_refused',
      'account.disabled',
      'account.enabled',
      'subuser.created',
      'subuser.disabled',
      'subuser.enabled',
      'subuser.deleted',
    ] satisfies AuditEvent['action'][];

    for (const field of Object.keys(detail)) expect(doc).toContain(`| \`${field}\` |`);
    for (const action of actions) expect(doc).toContain(`\`${action}\``);
    // Each example is a whole event whose detail has exactly these fields.
    const examples = [...doc.matchAll(/```json\n(\{\n[\s\S]*?\n\})\n```/g)].map(
      (m) => JSON.parse(m[1] ?? '{}') as { detail: Record<string, unknown> },
    );
    expect(examples).toHaveLength(3);
    for (const example of examples) {
      expect(Object.keys(example.detail).sort()).toEqual(Object.keys(detail).sort());
    }
  });

  it('never carry key material: no secret, no hash, in any entry put on the bus', async () => {
    const { events, secrets } = await history();

    await publishAuditEvents(
      { publisher: new EventBridgePublisher('bus'), toEvent: lifecycleEvent },
      events,
    );

    const sent = JSON.stringify(putEntries());
    expect(putEntries().flat()).toHaveLength(events.length);
    for (const secret of secrets) {
      expect(sent).not.toContain(secret);
      expect(sent).not.toContain(hashApiKey(secret));
      // Not even the secret part alone (`<prefix>.<id>.<secret>`).
      expect(sent).not.toContain(secret.split('.')[2]);
    }
  });

  it('are put in requests of at most 10 entries, in order, on the named bus', async () => {
    const events = Array.from({ length: 23 }, (_, i) => ({
      ...testEvent('acc', `key${i}`),
      eventId: `e${String(i).padStart(2, '0')}`,
    }));

    const { published } = await publishAuditEvents(
      { publisher: new EventBridgePublisher('keygate-bus'), toEvent: lifecycleEvent },
      events,
    );

    expect(published).toBe(23);
    const calls = putEntries();
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    const entries = calls.flat();
    expect(entries.map((e) => JSON.parse(e.Detail ?? '{}').id)).toEqual(
      events.map((e) => e.eventId),
    );
    expect(entries[0]).toMatchObject({
      EventBusName: 'keygate-bus',
      Source: 'keygate',
      DetailType: 'api_key.updated',
    });
    expect(entries[0]?.Time).toEqual(new Date(events[0]?.time ?? ''));
  });

  it('keep each request within 256 KB', () => {
    const big = (i: number): AuditEvent => ({
      ...testEvent('acc', `key${i}`),
      details: { note: 'x'.repeat(60 * 1024) },
    });
    const events = Array.from({ length: 9 }, (_, i) => lifecycleEvent(big(i)));

    const batches = putBatches(events);

    expect(batches.flat()).toHaveLength(9);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(MAX_ENTRIES_PER_PUT);
      expect(batch.reduce((sum, e) => sum + entrySize(e), 0)).toBeLessThanOrEqual(
        MAX_BYTES_PER_PUT,
      );
    }
    expect(batches.map((b) => b.length)).toEqual([4, 4, 1]);
  });

  it('put again only the entries EventBridge refused', async () => {
    let call = 0;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => {
      call += 1;
      // First answer: the second entry throttled; then every entry accepted.
      return {
        FailedEntryCount: call === 1 ? 1 : 0,
        Entries: input.Entries.map((_, i) =>
          call === 1 && i === 1
            ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }
            : { EventId: `id-${call}-${i}` },
        ),
      };
    });
    const events = [testEvent('acc', 'k1'), testEvent('acc', 'k2'), testEvent('acc', 'k3')];

    const { published } = await publishAuditEvents(
      { publisher: new EventBridgePublisher('bus'), toEvent: lifecycleEvent },
      events,
    );

    expect(published).toBe(3);
    const calls = putEntries();
    expect(calls.map((c) => c.length)).toEqual([3, 1]);
    expect(JSON.parse(calls[1]?.[0]?.Detail ?? '{}').api_key_id).toBe('k2');
  });

  it('fail the batch when entries stay refused, so the stream delivers it again', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure' })),
    }));

    await expect(
      publishAuditEvents({ publisher: new EventBridgePublisher('bus'), toEvent: lifecycleEvent }, [
        testEvent(),
      ]),
    ).rejects.toThrow(/not published after 3 attempts/);
    expect(putEntries()).toHaveLength(PUT_ATTEMPTS);
  });
});

describe('the publisher function (audit table stream → bus)', () => {
  const record = (event: AuditEvent, eventName: DynamoDBRecord['eventName'] = 'INSERT') =>
    ({
      eventName,
      dynamodb: {
        SequenceNumber: `${Math.random()}`,
        // As DynamoDB streams the item the document client wrote (null kept as NULL).
        NewImage: marshall(event) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      },
    }) as DynamoDBRecord;

  it('publishes each inserted audit item as it was written', async () => {
    process.env[EVENT_BUS_ENV] = 'keygate-bus';
    const { events } = await history();
    const stream: DynamoDBStreamEvent = { Records: events.map((e) => record(e)) };

    await handler(stream);

    const entries = putEntries().flat();
    expect(entries.map((e) => e.DetailType)).toEqual(events.map((e) => e.action));
    expect(entries.map((e) => JSON.parse(e.Detail ?? '{}'))).toEqual(
      events.map((e) => lifecycleEvent(e).detail),
    );
    expect(new Set(entries.map((e) => e.EventBusName))).toEqual(new Set(['keygate-bus']));
  });

  it('reads nothing but inserts, and skips (never retries) an item that is no event', () => {
    const event = testEvent('acc', 'k1');
    const broken = record(event);
    delete broken.dynamodb?.NewImage?.eventId;

    const { events, unreadable } = auditEventsOfRecords([
      record(event),
      record(event, 'MODIFY'),
      broken,
    ]);

    expect(events).toEqual([event]);
    expect(unreadable).toEqual([broken.dynamodb?.SequenceNumber]);
  });
});

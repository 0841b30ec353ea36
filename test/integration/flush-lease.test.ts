import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClient } from '../../local/dynamodb-local.js';
import { DynamoFlushLease } from '../../shared/adapters/dynamodb/flush-lease.js';
import {
  drainPendingFlushes,
  MIN_FLUSH_INTERVAL_MS,
  requestFlushAfterChange,
} from '../../shared/domain/flush-coalescing.js';
import { createTableInput, FLUSH_TABLE } from '../../shared/tables.js';

// Its own lease table: the lease is one item per deployment, and these tests race on it.
const client = localClient(inject('dynamodbEndpoint'));
const documents = DynamoDBDocumentClient.from(client);
const tableName = `flush-lease-${randomUUID()}`;

beforeAll(async () => {
  await client.send(new CreateTableCommand(createTableInput(FLUSH_TABLE, tableName)));
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
});

describe('the flush lease on DynamoDB', () => {
  it('lets exactly one of 30 concurrent claims flush', async () => {
    const lease = new DynamoFlushLease(documents, tableName);
    const now = Date.now();

    const claims = await Promise.all(
      Array.from({ length: 30 }, () => lease.claim(now, MIN_FLUSH_INTERVAL_MS)),
    );

    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    expect(await lease.claim(now + MIN_FLUSH_INTERVAL_MS - 1, MIN_FLUSH_INTERVAL_MS)).toBe(
      undefined,
    );
    expect(await lease.claim(now + MIN_FLUSH_INTERVAL_MS, MIN_FLUSH_INTERVAL_MS)).toBeDefined();
  });

  it('counts every concurrent mark, and never lowers what a flush covered', async () => {
    const lease = new DynamoFlushLease(documents, tableName);
    const before = await lease.read();

    const seqs = await Promise.all(Array.from({ length: 25 }, () => lease.markPending(Date.now())));
    await lease.markFlushed(before.pendingSeq + 25);
    await lease.markFlushed(before.pendingSeq + 3);

    expect(new Set(seqs).size).toBe(25);
    expect(Math.max(...seqs)).toBe(before.pendingSeq + 25);
    expect(await lease.read()).toMatchObject({
      pendingSeq: before.pendingSeq + 25,
      flushedSeq: before.pendingSeq + 25,
    });
  });

  it('coalesces 40 concurrent revocations into one immediate flush and one trailing flush', async () => {
    const lease = new DynamoFlushLease(documents, `${tableName}`);
    let now = Date.now() + 10 * MIN_FLUSH_INTERVAL_MS;
    const flushes: number[] = [];
    const deps = {
      lease,
      control: { flush: async () => void flushes.push(now) },
      clock: {
        now: () => now,
        sleep: async (ms: number) => {
          now += ms;
        },
      },
      metrics: { count: () => {}, milliseconds: () => {} },
    };

    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () => requestFlushAfterChange(deps)),
    );
    const marks = outcomes.flatMap((o) =>
      o.kind === 'deferred' ? [{ seq: o.seq, markedAt: now }] : [],
    );
    const drained = await drainPendingFlushes(deps, marks, now + 25_000);

    expect(outcomes.filter((o) => o.kind === 'flushed')).toHaveLength(1);
    expect(marks).toHaveLength(39);
    expect(drained).toEqual({ kind: 'drained', flushes: 1 });
    expect(flushes).toHaveLength(2);
    const state = await lease.read();
    expect(state.flushedSeq).toBe(state.pendingSeq);
  });
});

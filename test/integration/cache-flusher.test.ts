import { randomUUID } from 'node:crypto';
import { APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClient } from '../../local/dynamodb-local.js';
import { DynamoFlushLease } from '../../shared/adapters/dynamodb/flush-lease.js';
import { createTableInput, FLUSH_TABLE } from '../../shared/tables.js';

// The trailing flusher's handler over a lease on DynamoDB Local. API Gateway's cache flush cannot
// run here, so its SDK client is mocked (every instance).
const client = localClient(inject('dynamodbEndpoint'));
const documents = DynamoDBDocumentClient.from(client);
const tableName = `cache-flusher-${randomUUID()}`;
const apiGateway = mockClient(APIGatewayClient);
process.env.KEYGATE_REST_API_ID = 'abc123';
process.env.KEYGATE_STAGE = 'prod';
process.env.KEYGATE_FLUSH_TABLE = tableName;
const { handler } = await import('../../functions/cache-flusher/handler.js');

const context = (remainingMs: number) =>
  ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

/** The stream records Lambda delivers for marks: the lease item's new image. */
function marksEvent(marks: { seq: number; markedAt: number }[]): DynamoDBStreamEvent {
  return {
    Records: marks.map((m) => ({
      eventName: 'MODIFY',
      dynamodb: {
        Keys: { pk: { S: 'lease' } },
        NewImage: {
          pk: { S: 'lease' },
          lastWrite: { S: 'mark' },
          pendingSeq: { N: String(m.seq) },
          markedAt: { N: String(m.markedAt) },
        },
      },
    })),
  };
}

beforeAll(async () => {
  await client.send(new CreateTableCommand(createTableInput(FLUSH_TABLE, tableName)));
});

afterEach(() => {
  apiGateway.reset();
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
  apiGateway.restore();
});

describe('the trailing flusher', () => {
  it('flushes this stage once for the marks it is woken for, and records them covered', async () => {
    // Arrange
    apiGateway.on(FlushStageAuthorizersCacheCommand).resolves({});
    const lease = new DynamoFlushLease(documents, tableName);
    const marks = [];
    for (let i = 0; i < 3; i += 1)
      marks.push({ seq: await lease.markPending(Date.now()), markedAt: Date.now() });

    // Act
    await handler(marksEvent(marks), context(29_000));

    // Assert
    const calls = apiGateway.commandCalls(FlushStageAuthorizersCacheCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([{ restApiId: 'abc123', stageName: 'prod' }]);
    const state = await lease.read();
    expect(state.flushedSeq).toBe(state.pendingSeq);
  });

  it('fails the batch, so the stream delivers it again, when throttled to its deadline; the marks stay pending', async () => {
    // Arrange
    apiGateway
      .on(FlushStageAuthorizersCacheCommand)
      .rejects(Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException' }));
    const lease = new DynamoFlushLease(documents, tableName);
    const seq = await lease.markPending(Date.now());

    // Act: 3.5 s left, less the handler's 3 s margin
    const run = handler(marksEvent([{ seq, markedAt: Date.now() }]), context(3_500));

    // Assert
    await expect(run).rejects.toThrow(/still pending/);
    const state = await lease.read();
    expect(state.pendingSeq).toBe(seq);
    expect(state.flushedSeq).toBeLessThan(seq);
  });
});

import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FlushLease, FlushLeaseState } from '../../domain/flush-coalescing.js';
import { isConditionalCheckFailure, storageCall, toStorageError } from './keys-repository.js';

/** The one item of the flush table: the lease of the stage this deployment's functions flush. */
export const FLUSH_LEASE_KEY = { pk: 'lease' } as const;

/**
 * `lastWrite` of a mark: the stream trigger's filter (`dynamodb.NewImage.lastWrite.S`) wakes the
 * trailing flusher for marks only, not for the claims and records of flushes.
 */
export const FLUSH_MARK = 'mark';

/**
 * The stage's flush lease on DynamoDB: one item, each method one request. Claims are
 * conditional writes, so of any number of concurrent claims within an interval exactly one
 * wins. Every write goes to the table's stream, which wakes the trailing flusher; the stream's
 * Lambda trigger filters on `pendingSeq` having grown.
 */
export class DynamoFlushLease implements FlushLease {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<FlushLeaseState> {
    const { Item } = await this.run(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: FLUSH_LEASE_KEY, ConsistentRead: true }),
      ),
    );
    return {
      startedAt: Number(Item?.startedAt ?? 0),
      pendingSeq: Number(Item?.pendingSeq ?? 0),
      flushedSeq: Number(Item?.flushedSeq ?? 0),
    };
  }

  async claim(now: number, intervalMs: number): Promise<{ pendingSeq: number } | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: FLUSH_LEASE_KEY,
          UpdateExpression: 'SET startedAt = :now, lastWrite = :claim',
          ConditionExpression: 'attribute_not_exists(startedAt) OR startedAt <= :since',
          ExpressionAttributeValues: { ':now': now, ':since': now - intervalMs, ':claim': 'claim' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { pendingSeq: Number(Attributes?.pendingSeq ?? 0) };
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw toStorageError(error);
    }
  }

  async markPending(now: number): Promise<number> {
    const { Attributes } = await this.run(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: FLUSH_LEASE_KEY,
          UpdateExpression: 'SET markedAt = :now, lastWrite = :mark ADD pendingSeq :one',
          ExpressionAttributeValues: { ':now': now, ':one': 1, ':mark': FLUSH_MARK },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return Number(Attributes?.pendingSeq);
  }

  async markFlushed(seq: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: FLUSH_LEASE_KEY,
          UpdateExpression: 'SET flushedSeq = :seq, lastWrite = :flushed',
          ConditionExpression: 'attribute_not_exists(flushedSeq) OR flushedSeq < :seq',
          ExpressionAttributeValues: { ':seq': seq, ':flushed': 'flushed' },
        }),
      );
    } catch (error) {
      // A later flush already recorded more: nothing to lower.
      if (isConditionalCheckFailure(error)) return;
      throw toStorageError(error);
    }
  }

  private run<T>(call: () => Promise<T>): Promise<T> {
    return storageCall(call);
  }
}

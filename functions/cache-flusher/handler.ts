import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { drainPendingFlushes, type PendingMark } from '../../shared/domain/flush-coalescing.js';
import { addLambdaContext, logger } from '../../shared/observability/logger.js';
import { publishMetrics } from '../../shared/observability/metrics.js';
import { cacheFlusherDeps } from '../../shared/runtime/cache-flusher.js';

/** Time kept back from the function's timeout to answer before it is killed. */
const MARGIN_MS = 3_000;

/**
 * The trailing flusher: woken by the flush lease's stream when a change could not flush at once
 * (the lease was taken, or its flush failed), it flushes the stage's authorizer cache at most
 * once per second until no mark is pending. Out of time with marks pending, it fails the batch,
 * so Lambda delivers it again (the stream's records are retried until they expire); the marks
 * stay counted in the lease, so nothing is lost meanwhile.
 */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<void> {
  addLambdaContext(context);
  const marks: PendingMark[] = event.Records.flatMap((record) => {
    const image = record.dynamodb?.NewImage;
    const seq = Number(image?.pendingSeq?.N);
    const markedAt = Number(image?.markedAt?.N);
    return Number.isFinite(seq) && Number.isFinite(markedAt) ? [{ seq, markedAt }] : [];
  });
  const deps = cacheFlusherDeps();
  const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - MARGIN_MS;
  let outcome: Awaited<ReturnType<typeof drainPendingFlushes>>;
  try {
    outcome = await drainPendingFlushes(deps, marks, deadline);
  } finally {
    // The round's flush metrics (delays, failures), also when the lease could not be read.
    publishMetrics();
  }
  logger.info('trailing flush round', { marks: marks.length, ...outcome });
  if (outcome.kind === 'out_of_time') {
    throw new Error('marks still pending at the deadline: the stream delivers them again');
  }
}

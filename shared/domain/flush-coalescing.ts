/**
 * Coalesced flushes of the stage's authorizer cache.
 *
 * `FlushStageAuthorizersCache` wipes the whole stage's cache (every tenant's cached allows) and
 * shares API Gateway's account-wide control-plane quota with CloudFormation and every other
 * management call. Calling it once per revocation lets one tenant's churn zero every tenant's
 * hit rate and get throttled, which used to leave revoked keys alive until the TTL. Instead, one
 * lease per stage lets at most one flush start per {@link MIN_FLUSH_INTERVAL_MS}:
 *
 * - A change that narrows access, once written, claims the lease. Claimed: it flushes before it
 *   answers (the key is refused on the very next request) and records what the flush covered.
 *   Not claimed (a flush started less than a second ago, possibly before this change was
 *   written): it marks the stage pending and answers.
 * - A mark is a write to the lease item, whose stream wakes the trailing flusher
 *   (`functions/cache-flusher.ts`). It waits until the lease allows a flush, claims it, flushes
 *   with backoff while the control plane throttles, and records the marks it covered; marks made
 *   after its claim stay pending for the next round.
 *
 * Marks are counted (`pendingSeq`), never cleared, so a flusher that dies mid-way loses nothing:
 * a mark is covered only once a flush that started after it succeeded (`flushedSeq`). Every mark
 * is made after its change was written, and a claim reads `pendingSeq` before its flush starts,
 * so the flush started after every change it records as covered.
 */

/** At most one flush starts per stage per this interval (API Gateway allows 10 control-plane calls/s per account). */
export const MIN_FLUSH_INTERVAL_MS = 1_000;

/**
 * The staleness a deferred revocation is held to when the control plane answers: the lease
 * interval, the stream's delivery (Lambda polls a DynamoDB stream shard four times a second) and
 * the flush itself, with room for a few throttled retries. Missing it is counted
 * ({@link FLUSH_METRICS}.boundMissed) and alarmed.
 */
export const REVOCATION_BOUND_MS = 5_000;

/** First and largest wait between flush attempts the control plane throttled (full jitter). */
export const FLUSH_BACKOFF_MS = { first: 200, max: 1_000 } as const;

export const FLUSH_METRICS = {
  /** A flush call failed (throttled, or the control plane down): retried by the trailing flusher. */
  failed: 'AuthorizerCacheFlushFailed',
  /** A change found the lease taken and left its flush to the trailing flusher. */
  deferred: 'AuthorizerCacheFlushDeferred',
  /** Milliseconds from a deferred change's mark to the start of the flush that covered it. */
  delay: 'RevocationFlushDelay',
  /** A deferred change waited longer than {@link REVOCATION_BOUND_MS}. */
  boundMissed: 'RevocationBoundMissed',
} as const;

/** The stage's lease, as read. Times are epoch milliseconds. */
export interface FlushLeaseState {
  /** When the last claimed flush started (0: never). */
  startedAt: number;
  /** Marks made so far: changes written that wait for a flush. */
  pendingSeq: number;
  /** Marks covered by a flush that started after them and succeeded. */
  flushedSeq: number;
}

/** The lease item (one per stage). Each method is one atomic write or one strongly consistent read. */
export interface FlushLease {
  read(): Promise<FlushLeaseState>;
  /**
   * Takes the lease at `now` if no flush started after `now - intervalMs`. Answers the marks
   * made before the claim (the flush about to start covers them), or `undefined` when taken.
   */
  claim(now: number, intervalMs: number): Promise<{ pendingSeq: number } | undefined>;
  /** Records a written change that waits for a flush; answers its sequence number. */
  markPending(now: number): Promise<number>;
  /** Records that marks up to `seq` are covered (never lowers `flushedSeq`). */
  markFlushed(seq: number): Promise<void>;
}

/** The control-plane call: `FlushStageAuthorizersCache` on this stage. */
export interface StageCacheFlush {
  flush(): Promise<void>;
}

export interface FlushClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Counts and measures; the AWS wiring writes them as CloudWatch metrics. */
export interface FlushMetrics {
  count(name: string, value?: number): void;
  milliseconds(name: string, value: number): void;
}

export interface FlushCoalescingDeps {
  lease: FlushLease;
  control: StageCacheFlush;
  clock: FlushClock;
  metrics: FlushMetrics;
  /** For full jitter; `Math.random` outside tests and the simulation. */
  random?: () => number;
}

export type FlushRequestOutcome =
  | { kind: 'flushed' }
  | { kind: 'deferred'; reason: 'lease_taken' | 'flush_failed'; seq: number };

/**
 * After a change that narrows access was written: flush now if the lease allows, else leave it
 * to the trailing flusher. Never throws for a flush failure (the change is written; the mark
 * makes the trailing flusher retry); a failure to reach the lease item propagates (storage down).
 */
export async function requestFlushAfterChange(
  deps: FlushCoalescingDeps,
): Promise<FlushRequestOutcome> {
  const claim = await deps.lease.claim(deps.clock.now(), MIN_FLUSH_INTERVAL_MS);
  if (claim) {
    try {
      await deps.control.flush();
    } catch {
      deps.metrics.count(FLUSH_METRICS.failed);
      deps.metrics.count(FLUSH_METRICS.deferred);
      const seq = await deps.lease.markPending(deps.clock.now());
      return { kind: 'deferred', reason: 'flush_failed', seq };
    }
    await deps.lease.markFlushed(claim.pendingSeq);
    return { kind: 'flushed' };
  }
  deps.metrics.count(FLUSH_METRICS.deferred);
  const seq = await deps.lease.markPending(deps.clock.now());
  return { kind: 'deferred', reason: 'lease_taken', seq };
}

/** A mark the trailing flusher was woken for: its sequence number and when it was made. */
export interface PendingMark {
  seq: number;
  markedAt: number;
}

export type DrainOutcome =
  | { kind: 'drained'; flushes: number }
  /** Out of time with marks still pending: the caller fails, so the stream delivers again. */
  | { kind: 'out_of_time'; flushes: number };

/**
 * The trailing flusher's round: while marks are pending, wait for the lease, claim it, flush
 * (retrying what the control plane throttles, with jittered backoff from 0.2 to 1 s), and record the marks
 * covered. Measures each woken-for mark's delay and counts those past the bound.
 * `deadline` is the clock time by which it must have returned (the function's timeout, less a
 * margin).
 */
export async function drainPendingFlushes(
  deps: FlushCoalescingDeps,
  marks: readonly PendingMark[],
  deadline: number,
): Promise<DrainOutcome> {
  const random = deps.random ?? Math.random;
  const waiting = [...marks].sort((a, b) => a.seq - b.seq);
  let flushes = 0;
  let backoff: number = FLUSH_BACKOFF_MS.first;
  // How long after the last claim the next may start: the lease's interval, or after a throttled
  // call its backoff (a throttled call changed nothing, so only successes are held to one a
  // second; the changes' own claims keep the full interval).
  let gap: number = MIN_FLUSH_INTERVAL_MS;
  for (;;) {
    const state = await deps.lease.read();
    report(deps, waiting, state.flushedSeq, undefined);
    if (state.pendingSeq <= state.flushedSeq) return { kind: 'drained', flushes };
    const now = deps.clock.now();
    // Whole milliseconds: a fractional remainder below the clock's precision would never pass.
    const wait = Math.max(0, Math.ceil(state.startedAt + gap - now));
    if (now + wait >= deadline) return { kind: 'out_of_time', flushes };
    if (wait > 0) await deps.clock.sleep(wait);
    const claimedAt = deps.clock.now();
    const claim = await deps.lease.claim(claimedAt, gap);
    if (!claim) continue; // A change's own flush took it: read again.
    try {
      await deps.control.flush();
    } catch {
      deps.metrics.count(FLUSH_METRICS.failed);
      // Equal jitter: half the backoff, plus up to the other half.
      gap = Math.ceil(backoff / 2 + random() * (backoff / 2));
      backoff = Math.min(backoff * 2, FLUSH_BACKOFF_MS.max);
      continue;
    }
    flushes += 1;
    backoff = FLUSH_BACKOFF_MS.first;
    gap = MIN_FLUSH_INTERVAL_MS;
    await deps.lease.markFlushed(claim.pendingSeq);
    report(deps, waiting, claim.pendingSeq, claimedAt);
  }
}

/** Reports (and forgets) the woken-for marks now covered; `coveredAt` when this round's flush did it. */
function report(
  deps: FlushCoalescingDeps,
  waiting: PendingMark[],
  coveredThrough: number,
  coveredAt: number | undefined,
): void {
  while (waiting.length > 0 && (waiting[0] as PendingMark).seq <= coveredThrough) {
    const mark = waiting.shift() as PendingMark;
    // Covered before this round (by a change's own flush or an earlier round): measured there.
    if (coveredAt === undefined) continue;
    const delay = Math.max(0, coveredAt - mark.markedAt);
    deps.metrics.milliseconds(FLUSH_METRICS.delay, delay);
    if (delay > REVOCATION_BOUND_MS) deps.metrics.count(FLUSH_METRICS.boundMissed);
  }
}

import { describe, expect, it } from 'vitest';
import { MemoryFlushLease } from '../../shared/adapters/memory/flush-lease.js';
import {
  drainPendingFlushes,
  FLUSH_METRICS,
  type FlushCoalescingDeps,
  MIN_FLUSH_INTERVAL_MS,
  REVOCATION_BOUND_MS,
  requestFlushAfterChange,
} from '../../shared/domain/flush-coalescing.js';

/** A clock that moves only when someone sleeps, a control plane that records its calls. */
function world(options: { failures?: number } = {}) {
  let now = 1_000_000;
  let failuresLeft = options.failures ?? 0;
  const flushes: number[] = [];
  const counts = new Map<string, number>();
  const delays: number[] = [];
  const lease = new MemoryFlushLease();
  const deps: FlushCoalescingDeps = {
    lease,
    clock: {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    },
    control: {
      flush: async () => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException' });
        }
        flushes.push(now);
      },
    },
    metrics: {
      count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value),
      milliseconds: (_name, value) => delays.push(value),
    },
    random: () => 0.5,
  };
  return {
    deps,
    lease,
    flushes,
    delays,
    count: (name: string) => counts.get(name) ?? 0,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('flush coalescing', () => {
  it('flushes a lone change before it answers, and leaves nothing pending', async () => {
    const w = world();

    const outcome = await requestFlushAfterChange(w.deps);

    expect(outcome).toEqual({ kind: 'flushed' });
    expect(w.flushes).toEqual([w.now()]);
    const state = await w.lease.read();
    expect(state.pendingSeq).toBe(state.flushedSeq);
  });

  it('defers a change made within a second of a flush, and the trailing flusher covers it a second after that flush', async () => {
    const w = world();
    await requestFlushAfterChange(w.deps);
    const first = w.now();
    w.advance(200);

    const outcome = await requestFlushAfterChange(w.deps);
    const drained = await drainPendingFlushes(
      w.deps,
      [{ seq: outcome.kind === 'deferred' ? outcome.seq : -1, markedAt: w.now() }],
      w.now() + 25_000,
    );

    expect(outcome).toEqual({ kind: 'deferred', reason: 'lease_taken', seq: 1 });
    expect(drained).toEqual({ kind: 'drained', flushes: 1 });
    expect(w.flushes).toEqual([first, first + MIN_FLUSH_INTERVAL_MS]);
    expect(w.delays).toEqual([MIN_FLUSH_INTERVAL_MS - 200]);
    const state = await w.lease.read();
    expect(state.flushedSeq).toBe(state.pendingSeq);
  });

  it('turns 50 changes in one second into two flush calls, one per second', async () => {
    const w = world();
    const marks = [];

    for (let i = 0; i < 50; i += 1) {
      const outcome = await requestFlushAfterChange(w.deps);
      if (outcome.kind === 'deferred') marks.push({ seq: outcome.seq, markedAt: w.now() });
      w.advance(19);
    }
    const drained = await drainPendingFlushes(w.deps, marks, w.now() + 25_000);

    expect(marks).toHaveLength(49);
    expect(drained).toEqual({ kind: 'drained', flushes: 1 });
    expect(w.flushes).toHaveLength(2);
    expect((w.flushes[1] ?? 0) - (w.flushes[0] ?? 0)).toBeGreaterThanOrEqual(MIN_FLUSH_INTERVAL_MS);
    expect(w.count(FLUSH_METRICS.deferred)).toBe(49);
  });

  it('keeps a mark made during a flush pending for the next one', async () => {
    const w = world();
    await requestFlushAfterChange(w.deps);
    const marked = await w.lease.markPending(w.now());
    // The flusher's claim will read pendingSeq = 1; a change marks again while it flushes.
    const control = w.deps.control;
    let again = true;
    w.deps.control = {
      flush: async () => {
        await control.flush();
        if (again) {
          again = false;
          await w.lease.markPending(w.now());
        }
      },
    };

    const drained = await drainPendingFlushes(
      w.deps,
      [{ seq: marked, markedAt: w.now() }],
      w.now() + 25_000,
    );

    expect(drained).toEqual({ kind: 'drained', flushes: 2 });
    expect(w.flushes).toHaveLength(3);
    const state = await w.lease.read();
    expect(state).toMatchObject({ pendingSeq: 2, flushedSeq: 2 });
  });

  it('retries a throttled flush after a growing backoff, and counts each failure', async () => {
    const w = world({ failures: 3 });
    const mark = await w.lease.markPending(w.now());
    const markedAt = w.now();

    const drained = await drainPendingFlushes(w.deps, [{ seq: mark, markedAt }], w.now() + 25_000);

    // Equal jitter at random() = 0.5: 150, 300 and 600 ms after each failed claim.
    expect(drained).toEqual({ kind: 'drained', flushes: 1 });
    expect(w.count(FLUSH_METRICS.failed)).toBe(3);
    expect(w.flushes).toEqual([markedAt + 150 + 300 + 600]);
    expect(w.delays).toEqual([150 + 300 + 600]);
  });

  it('keeps successful flushes a second apart even when a throttled one came between', async () => {
    const w = world();
    await requestFlushAfterChange(w.deps);
    const mark = await w.lease.markPending(w.now());
    let failOnce = true;
    const control = w.deps.control;
    w.deps.control = {
      flush: async () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('Too Many Requests');
        }
        await control.flush();
      },
    };

    await drainPendingFlushes(w.deps, [{ seq: mark, markedAt: w.now() }], w.now() + 25_000);

    expect(w.flushes).toHaveLength(2);
    expect((w.flushes[1] ?? 0) - (w.flushes[0] ?? 0)).toBeGreaterThanOrEqual(MIN_FLUSH_INTERVAL_MS);
  });

  it('counts a revocation that waited past the bound', async () => {
    const w = world({ failures: 10 });
    const mark = await w.lease.markPending(w.now());

    await drainPendingFlushes(w.deps, [{ seq: mark, markedAt: w.now() }], w.now() + 25_000);

    expect(w.delays[0]).toBeGreaterThan(REVOCATION_BOUND_MS);
    expect(w.count(FLUSH_METRICS.boundMissed)).toBe(1);
  });

  it('gives up at its deadline with the marks still pending, for the stream to deliver again', async () => {
    const w = world({ failures: 1_000 });
    const mark = await w.lease.markPending(w.now());

    const drained = await drainPendingFlushes(
      w.deps,
      [{ seq: mark, markedAt: w.now() }],
      w.now() + 10_000,
    );

    expect(drained.kind).toBe('out_of_time');
    const state = await w.lease.read();
    expect(state.pendingSeq).toBeGreaterThan(state.flushedSeq);
    expect(w.flushes).toEqual([]);
  });

  it('defers, and marks, a change whose own flush failed', async () => {
    const w = world({ failures: 1 });

    const outcome = await requestFlushAfterChange(w.deps);

    expect(outcome).toEqual({ kind: 'deferred', reason: 'flush_failed', seq: 1 });
    expect(w.count(FLUSH_METRICS.failed)).toBe(1);
    const state = await w.lease.read();
    expect(state.pendingSeq).toBe(1);
    expect(state.flushedSeq).toBe(0);
  });

  it('returns at once when a change’s own flush already covered the marks it was woken for', async () => {
    const w = world();
    await requestFlushAfterChange(w.deps);
    const mark = await w.lease.markPending(w.now());
    w.advance(MIN_FLUSH_INTERVAL_MS);
    await requestFlushAfterChange(w.deps); // claims, covering the mark

    const drained = await drainPendingFlushes(
      w.deps,
      [{ seq: mark, markedAt: w.now() }],
      w.now() + 25_000,
    );

    expect(drained).toEqual({ kind: 'drained', flushes: 0 });
    expect(w.flushes).toHaveLength(2);
  });
});

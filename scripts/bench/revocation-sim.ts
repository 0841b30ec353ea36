import { MemoryFlushLease } from '../../shared/adapters/memory/flush-lease.js';
import {
  drainPendingFlushes,
  type FlushCoalescingDeps,
  type PendingMark,
  requestFlushAfterChange,
} from '../../shared/domain/flush-coalescing.js';

/**
 * A discrete-event simulation of revocations against API Gateway's authorizer cache, with a
 * simulated clock, replaying a churn model against the real flush logic
 * (`shared/domain/flush-coalescing.ts`, with the in-memory lease that mirrors the DynamoDB one):
 *
 * - Traffic: `keys` active keys, requests arriving as a Poisson process at `requestsPerSecond`,
 *   each for a key drawn from a Zipf(1) popularity (a few busy integrations, a long tail). One
 *   cache entry per key (one source address and route each), kept for the TTL.
 * - Churn: a churning tenant revokes keys at `revocationsPerSecond` and a quiet tenant at 0.1/s
 *   (Poisson); each revoked key is replaced by a new one in its popularity slot.
 * - Control plane: API Gateway's account-wide token bucket (10 requests/s, burst 40), shared with
 *   the account's other management calls arriving at `backgroundPerSecond` (CloudFormation,
 *   consoles, scripts); a throttled call fails after `flushLatencyMs`, a flush takes effect
 *   `flushLatencyMs` after it starts and covers changes written before it started.
 * - Designs: `flush-each` is the previous release (every change flushes at once, the SDK tries
 *   twice, a failure is swallowed); `coalesced` is the lease (`requestFlushAfterChange`) plus the
 *   trailing flusher (`drainPendingFlushes`) woken by the lease's stream, whose records reach it
 *   on Lambda's next poll of the shard (every 250 ms) and queue while it runs.
 *
 * Staleness of a revocation: from the change being written until no cached allow can serve the
 * key (the first covering flush takes effect, or the entry expires); 0 for a key not cached then.
 */
export interface SimulationOptions {
  design: 'flush-each' | 'coalesced';
  revocationsPerSecond: number;
  backgroundPerSecond: number;
  keys: number;
  requestsPerSecond: number;
  /** Simulated seconds measured, after `warmupSeconds` to fill the cache. */
  seconds: number;
  warmupSeconds: number;
  cacheTtlMs: number;
  flushLatencyMs: number;
  seed: number;
}

export const FULL_RUN: Omit<
  SimulationOptions,
  'design' | 'revocationsPerSecond' | 'backgroundPerSecond'
> = {
  keys: 10_000,
  requestsPerSecond: 1_000,
  seconds: 600,
  warmupSeconds: 300,
  cacheTtlMs: 300_000,
  flushLatencyMs: 100,
  seed: 42,
};

export const QUIET_TENANT_RATE = 0.1;
const CONTROL_PLANE = { perSecond: 10, burst: 40 } as const;
const STREAM_POLL_MS = 250;
const FLUSHER_TIMEOUT_MS = 29_000;
const FLUSHER_MARGIN_MS = 3_000;
/** The previous release's API Gateway client: 2 attempts, the SDK's jittered base delay. */
const SDK_ATTEMPTS = 2;
const SDK_RETRY_DELAY_MS = 100;

export interface SimulationFigures {
  design: SimulationOptions['design'];
  revocationsPerSecond: number;
  backgroundPerSecond: number;
  hitRate: number;
  authorizerPerSecond: number;
  /** The authorizer's `GetItem` per miss, plus the lease's reads. */
  dynamoReadsPerSecond: number;
  /** Writes to the lease (claims, marks, records), none in the previous design. */
  leaseWritesPerSecond: number;
  flushCallsPerSecond: number;
  flushThrottledPerSecond: number;
  /** Share of the account's other management calls the control plane throttled. */
  backgroundThrottled: number;
  /** Over revocations of keys that were cached when revoked, in milliseconds. */
  staleness: { count: number; p50: number; p99: number; max: number };
  quietTenant: { count: number; p99: number; max: number };
}

/** mulberry32: a small seeded generator, so every run of a scenario is the same run. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Event {
  at: number;
  order: number;
  run: () => void;
  async: boolean;
}

/** A binary min-heap of events by time, then by scheduling order. */
class Agenda {
  private readonly heap: Event[] = [];
  private order = 0;

  push(at: number, run: () => void, async = false): void {
    const event = { at, order: this.order++, run, async };
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(heap[parent] as Event, event)) break;
      heap[i] = heap[parent] as Event;
      i = parent;
    }
    heap[i] = event;
  }

  pop(): Event | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as Event, heap[left] as Event) ? right : left;
      if (before(last, heap[child] as Event)) break;
      heap[i] = heap[child] as Event;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export async function simulate(options: SimulationOptions): Promise<SimulationFigures> {
  const random = generator(options.seed);
  const exponential = (perSecond: number) => (-Math.log(1 - random()) / perSecond) * 1000;
  const agenda = new Agenda();
  let now = 0;
  const start = options.warmupSeconds * 1000;
  const end = start + options.seconds * 1000;
  const measuring = () => now >= start && now < end;
  // After the measured window no new traffic or change arrives; flushes in progress finish, so a
  // revocation made just before the end is measured to its flush, not to its entry's expiry.
  const drainUntil = end + 60_000;

  // Keys: slot i has Zipf weight 1/(i+1); a revoked key's slot gets a new key ID.
  const cdf = new Float64Array(options.keys);
  let total = 0;
  for (let i = 0; i < options.keys; i += 1) {
    total += 1 / (i + 1);
    cdf[i] = total;
  }
  const slotKey = Array.from({ length: options.keys }, (_, i) => i);
  let nextKeyId = options.keys;
  const pickSlot = () => {
    const x = random() * total;
    let lo = 0;
    let hi = options.keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  // The stage's cache: key ID → expiry. A flush empties it when it takes effect.
  let cache = new Map<number, number>();
  const stats = { requests: 0, hits: 0, misses: 0, flushCalls: 0, flushThrottled: 0 };
  const background = { calls: 0, throttled: 0 };

  // Revocations waiting for a flush (or their entry's expiry).
  interface Exposure {
    committedAt: number;
    expiresAt: number;
    quiet: boolean;
    measured: boolean;
  }
  let exposed: Exposure[] = [];
  const staleness: number[] = [];
  const quietStaleness: number[] = [];
  const settle = (exposure: Exposure, until: number) => {
    if (!exposure.measured) return;
    const value = Math.max(0, until - exposure.committedAt);
    staleness.push(value);
    if (exposure.quiet) quietStaleness.push(value);
  };

  // API Gateway's control-plane token bucket.
  let tokens: number = CONTROL_PLANE.burst;
  let refilledAt = 0;
  const takeToken = () => {
    tokens = Math.min(
      CONTROL_PLANE.burst,
      tokens + ((now - refilledAt) / 1000) * CONTROL_PLANE.perSecond,
    );
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => agenda.push(now + Math.max(0, ms), resolve, true));

  /** `FlushStageAuthorizersCache`: throttled, or effective `flushLatencyMs` after it starts. */
  const flushCall = async (): Promise<void> => {
    const startedAt = now;
    const allowed = takeToken();
    if (measuring()) stats.flushCalls += 1;
    await sleep(options.flushLatencyMs);
    if (!allowed) {
      if (measuring()) stats.flushThrottled += 1;
      throw Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException' });
    }
    cache = new Map();
    const still: Exposure[] = [];
    for (const exposure of exposed) {
      if (exposure.committedAt <= startedAt) settle(exposure, now);
      else still.push(exposure);
    }
    exposed = still;
  };

  const lease = new MemoryFlushLease();
  const deps: FlushCoalescingDeps = {
    lease,
    control: { flush: flushCall },
    clock: { now: () => now, sleep },
    metrics: { count: () => {}, milliseconds: () => {} },
    random,
  };

  // The trailing flusher: one invocation at a time, fed on the shard's polls.
  let queued: PendingMark[] = [];
  let flusherBusy = false;
  const pollShard = () => {
    if (flusherBusy || queued.length === 0) return;
    const batch = queued;
    queued = [];
    flusherBusy = true;
    const invokedAt = now;
    void drainPendingFlushes(deps, batch, invokedAt + FLUSHER_TIMEOUT_MS - FLUSHER_MARGIN_MS).then(
      (outcome) => {
        flusherBusy = false;
        // A failed batch is delivered again (its marks are still pending in the lease).
        if (outcome.kind === 'out_of_time') queued = [...batch, ...queued];
      },
    );
  };
  if (options.design === 'coalesced') {
    const poll = () => {
      pollShard();
      if (now < drainUntil) agenda.push(now + STREAM_POLL_MS, poll, true);
    };
    agenda.push(random() * STREAM_POLL_MS, poll, true);
  }

  const flushEach = async () => {
    for (let attempt = 1; attempt <= SDK_ATTEMPTS; attempt += 1) {
      try {
        await flushCall();
        return;
      } catch {
        if (attempt < SDK_ATTEMPTS) await sleep(random() * SDK_RETRY_DELAY_MS);
      }
    }
    // Swallowed: the revoked key lives until its entry expires.
  };

  const revoke = (quiet: boolean) => {
    const slot = pickSlot();
    const keyId = slotKey[slot] as number;
    slotKey[slot] = nextKeyId++;
    const expiresAt = cache.get(keyId);
    if (expiresAt !== undefined && expiresAt > now) {
      exposed.push({ committedAt: now, expiresAt, quiet, measured: measuring() });
    } else if (measuring()) {
      staleness.push(0);
      if (quiet) quietStaleness.push(0);
    }
    if (options.design === 'flush-each') {
      void flushEach();
      return;
    }
    void requestFlushAfterChange(deps).then((outcome) => {
      if (outcome.kind === 'deferred') queued.push({ seq: outcome.seq, markedAt: now });
    });
  };

  const arrivals = (perSecond: number, act: () => void) => {
    if (perSecond <= 0) return;
    const next = () => {
      act();
      const at = now + exponential(perSecond);
      if (at < end) agenda.push(at, next, true);
    };
    agenda.push(exponential(perSecond), next, true);
  };
  arrivals(options.revocationsPerSecond, () => revoke(false));
  arrivals(QUIET_TENANT_RATE, () => revoke(true));
  arrivals(options.backgroundPerSecond, () => {
    const allowed = takeToken();
    if (measuring()) {
      background.calls += 1;
      if (!allowed) background.throttled += 1;
    }
  });
  // Requests are synchronous: the cache answers, or the authorizer reads the key and caches it.
  const request = () => {
    const keyId = slotKey[pickSlot()] as number;
    const expiresAt = cache.get(keyId);
    const hit = expiresAt !== undefined && expiresAt > now;
    if (!hit) cache.set(keyId, now + options.cacheTtlMs);
    if (measuring()) {
      stats.requests += 1;
      if (hit) stats.hits += 1;
      else stats.misses += 1;
    }
    const at = now + exponential(options.requestsPerSecond);
    if (at < end) agenda.push(at, request);
  };
  agenda.push(exponential(options.requestsPerSecond), request);

  const readsBefore = { lease: 0 };
  for (;;) {
    const event = agenda.pop();
    if (!event || event.at >= drainUntil) break;
    if (event.at >= start && now < start) {
      readsBefore.lease = lease.reads;
      lease.writes = 0;
    }
    now = event.at;
    event.run();
    // Let the async flush logic run to its next sleep before time moves on.
    if (event.async) await new Promise((resolve) => setImmediate(resolve));
  }
  // What is still exposed at the end waits for its entry's expiry (or a later flush: at most).
  for (const exposure of exposed) settle(exposure, exposure.expiresAt);

  const seconds = options.seconds;
  const sorted = [...staleness].sort((a, b) => a - b);
  const quiet = [...quietStaleness].sort((a, b) => a - b);
  return {
    design: options.design,
    revocationsPerSecond: options.revocationsPerSecond,
    backgroundPerSecond: options.backgroundPerSecond,
    hitRate: stats.hits / Math.max(1, stats.requests),
    authorizerPerSecond: stats.misses / seconds,
    dynamoReadsPerSecond: (stats.misses + lease.reads - readsBefore.lease) / seconds,
    leaseWritesPerSecond: lease.writes / seconds,
    flushCallsPerSecond: stats.flushCalls / seconds,
    flushThrottledPerSecond: stats.flushThrottled / seconds,
    backgroundThrottled: background.throttled / Math.max(1, background.calls),
    staleness: {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? 0,
    },
    quietTenant: { count: quiet.length, p99: percentile(quiet, 99), max: quiet.at(-1) ?? 0 },
  };
}

import {
  type FlushCoalescingDeps,
  type FlushMetrics,
  requestFlushAfterChange,
} from '../domain/flush-coalescing.js';
import type { AuthorizerCache } from '../domain/ports.js';
import type { Logger } from '../observability/logger.js';
import { countMetric, millisecondsMetric } from '../observability/metrics.js';

/**
 * The flush metrics as CloudWatch EMF (namespace `Keygate`, no dimension but Powertools'
 * `service`), buffered until the invocation ends.
 */
export const EMF_FLUSH_METRICS: FlushMetrics = {
  count: (name) => countMetric(name),
  milliseconds: (name, value) => millisecondsMetric(name, value),
};

export const SYSTEM_CLOCK = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/**
 * The deployed {@link AuthorizerCache}: a change's flush goes through the stage's lease
 * (`shared/domain/flush-coalescing.ts`), so flush calls stay at most one per second whatever the
 * revocation rate. Never fails the change it follows: a flush it could not make is left to the
 * trailing flusher, and a lease it could not reach is logged and counted (the cache TTL then
 * bounds the exposure, as before).
 */
export function coalescedAuthorizerCache(
  deps: FlushCoalescingDeps,
  logger: Logger,
): AuthorizerCache {
  return {
    async flush() {
      try {
        const outcome = await requestFlushAfterChange(deps);
        if (outcome.kind === 'deferred') {
          logger.info('authorizer cache flush left to the trailing flusher', {
            reason: outcome.reason,
            seq: outcome.seq,
          });
        }
      } catch (error) {
        deps.metrics.count('AuthorizerCacheFlushFailed');
        logger.error('flush lease unreachable; revocation waits for the cache TTL', { error });
      }
    },
  };
}

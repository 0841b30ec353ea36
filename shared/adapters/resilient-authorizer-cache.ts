import type { AuthorizerCache } from '../domain/ports.js';
import type { Logger } from '../observability/logger.js';
import { countMetric } from '../observability/metrics.js';

export const FLUSH_FAILED_METRIC = 'AuthorizerCacheFlushFailed';

/**
 * Wraps an {@link AuthorizerCache} so a failed flush never fails the request that revoked or
 * re-scoped a key: the failure is logged and counted, and the cache TTL bounds the exposure.
 */
export function resilientAuthorizerCache(inner: AuthorizerCache, logger: Logger): AuthorizerCache {
  return {
    async flush() {
      try {
        await inner.flush();
      } catch (error) {
        countMetric(FLUSH_FAILED_METRIC);
        logger.error('authorizer cache flush failed; revocation waits for the cache TTL', {
          error,
        });
      }
    },
  };
}

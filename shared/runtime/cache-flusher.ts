import { ApiGatewayAuthorizerCache } from '../adapters/aws/authorizer-cache.js';
import { EMF_FLUSH_METRICS, SYSTEM_CLOCK } from '../adapters/coalesced-authorizer-cache.js';
import { DynamoFlushLease } from '../adapters/dynamodb/flush-lease.js';
import type { FlushCoalescingDeps } from '../domain/flush-coalescing.js';
import { dynamoDocumentClient, runtimeConfig } from './storage.js';

let deps: FlushCoalescingDeps | undefined;

/** The trailing flusher's wiring: the lease, the stage's flush, the clock and EMF metrics. */
export function cacheFlusherDeps(): FlushCoalescingDeps {
  if (deps) return deps;
  const config = runtimeConfig();
  if (!config.gateway || !config.flushTable) {
    throw new Error('KEYGATE_REST_API_ID, KEYGATE_STAGE and KEYGATE_FLUSH_TABLE must be set');
  }
  deps = {
    lease: new DynamoFlushLease(dynamoDocumentClient(), config.flushTable),
    control: new ApiGatewayAuthorizerCache(config.gateway.restApiId, config.gateway.stage),
    clock: SYSTEM_CLOCK,
    metrics: EMF_FLUSH_METRICS,
  };
  return deps;
}

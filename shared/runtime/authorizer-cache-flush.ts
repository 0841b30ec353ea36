import { ApiGatewayAuthorizerCache } from '../adapters/aws/authorizer-cache.js';
import {
  coalescedAuthorizerCache,
  EMF_FLUSH_METRICS,
  SYSTEM_CLOCK,
} from '../adapters/coalesced-authorizer-cache.js';
import { DynamoFlushLease } from '../adapters/dynamodb/flush-lease.js';
import { LocalAuthorizerCache } from '../adapters/local/authorizer-cache.js';
import { resilientAuthorizerCache } from '../adapters/resilient-authorizer-cache.js';
import { logger } from '../observability/logger.js';
import type { ProvidersOf } from './deps.js';
import { dynamoDocumentClient } from './storage.js';

/**
 * Flushing the stage's authorizer cache, for the routes that narrow access: delete, replace,
 * roll, revocations, disabling and deleting subusers. On AWS through the stage's flush lease (at
 * most one `FlushStageAuthorizersCache` per second; the rest coalesced into the trailing
 * flusher's next one); locally the in-process gateway's flush, which has no quota. A failed
 * flush is logged and counted, never fatal to the change.
 */
export const AUTHORIZER_CACHE_FLUSH: ProvidersOf<'authorizerCache'> = {
  authorizerCache: (config) => {
    if (config.gateway && config.flushTable) {
      return coalescedAuthorizerCache(
        {
          lease: new DynamoFlushLease(dynamoDocumentClient(), config.flushTable),
          control: new ApiGatewayAuthorizerCache(config.gateway.restApiId, config.gateway.stage),
          clock: SYSTEM_CLOCK,
          metrics: EMF_FLUSH_METRICS,
        },
        logger,
      );
    }
    return resilientAuthorizerCache(
      config.gateway
        ? new ApiGatewayAuthorizerCache(config.gateway.restApiId, config.gateway.stage)
        : new LocalAuthorizerCache(),
      logger,
    );
  },
};

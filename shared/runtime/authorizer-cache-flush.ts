import { ApiGatewayAuthorizerCache } from '../adapters/aws/authorizer-cache.js';
import { LocalAuthorizerCache } from '../adapters/local/authorizer-cache.js';
import { resilientAuthorizerCache } from '../adapters/resilient-authorizer-cache.js';
import { logger } from '../observability/logger.js';
import type { AdapterProvider } from './deps.js';

/**
 * Flushing the stage's authorizer cache (API Gateway's `FlushStageAuthorizersCache`, or the
 * in-process gateway's), for the routes that narrow access: delete, replace, roll, leaked-key
 * revocation. A failed flush is logged and counted, never fatal to the change.
 */
export const AUTHORIZER_CACHE_FLUSH: AdapterProvider = {
  authorizerCache: (config) =>
    resilientAuthorizerCache(
      config.gateway
        ? new ApiGatewayAuthorizerCache(config.gateway.restApiId, config.gateway.stage)
        : new LocalAuthorizerCache(),
      logger,
    ),
};

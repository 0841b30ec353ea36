import { ApiGatewayAuthorizerCache } from '../adapters/aws/authorizer-cache.js';
import { LocalAuthorizerCache } from '../adapters/local/authorizer-cache.js';
import { OutboxMailer } from '../adapters/local/outbox-mailer.js';
import { resilientAuthorizerCache } from '../adapters/resilient-authorizer-cache.js';
import { SesMailer } from '../adapters/ses/mailer.js';
import type { AuthorizerCache, Deps, Mailer } from '../domain/ports.js';
import { logger } from '../observability/logger.js';
import { keyRepository, runtimeConfig } from './storage.js';

let cached: Deps | undefined;

/**
 * The route handlers' wiring, built on first use (not at import, so importing a handler costs
 * no client set-up) and reused across invocations of a warm Lambda. The mailer and the cache
 * adapter are built only when an operation first needs them.
 */
export function defaultDeps(): Deps {
  if (cached) return cached;
  const config = runtimeConfig();
  let mailer: Mailer | undefined;
  let authorizerCache: AuthorizerCache | undefined;
  cached = {
    repo: keyRepository(),
    config,
    now: () => new Date(),
    get mailer() {
      mailer ??=
        config.mailer.kind === 'outbox'
          ? new OutboxMailer(config.mailer.dir)
          : new SesMailer({ identity: config.mailer.identity });
      return mailer;
    },
    get authorizerCache() {
      authorizerCache ??= resilientAuthorizerCache(
        config.gateway
          ? new ApiGatewayAuthorizerCache(config.gateway.restApiId, config.gateway.stage)
          : new LocalAuthorizerCache(),
        logger,
      );
      return authorizerCache;
    },
  };
  return cached;
}

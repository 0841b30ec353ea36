import { ApiGatewayAuthorizerCache } from '../adapters/aws/authorizer-cache.js';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../adapters/dynamodb/keys-repository.js';
import { LocalAuthorizerCache } from '../adapters/local/authorizer-cache.js';
import { OutboxMailer } from '../adapters/local/outbox-mailer.js';
import { resilientAuthorizerCache } from '../adapters/resilient-authorizer-cache.js';
import { SesMailer } from '../adapters/ses/mailer.js';
import type { AuthorizerCache, Deps, Mailer } from '../domain/ports.js';
import { logger } from '../observability/logger.js';
import { configFromEnv, type RuntimeConfig } from './config.js';

let cached: Deps | undefined;
let documentClient: ReturnType<typeof createDocumentClient> | undefined;

/** The process's DynamoDB document client (tests attach middleware to it to count calls). */
export function dynamoDocumentClient(config: RuntimeConfig = configFromEnv()) {
  documentClient ??= createDocumentClient({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
  });
  return documentClient;
}

/**
 * The production wiring, built on first use (not at import, so importing a handler costs no
 * client set-up) and reused across invocations of a warm Lambda. The mailer and the cache
 * adapter are built only when an operation first needs them, so the authorizer never pays for
 * them.
 */
export function defaultDeps(): Deps {
  if (cached) return cached;
  const config = configFromEnv();
  let mailer: Mailer | undefined;
  let authorizerCache: AuthorizerCache | undefined;
  cached = {
    repo: new DynamoKeyRepository(dynamoDocumentClient(config), config.tables),
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

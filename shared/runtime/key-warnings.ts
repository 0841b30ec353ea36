import { DynamoKeyWarningStore } from '../adapters/dynamodb/key-warnings.js';
import type { KeyWarningSettings, KeyWarningStore } from '../domain/key-warnings.js';
import { warningSettings } from '../domain/key-warnings.js';
import type { AuthorizerCache } from '../domain/ports.js';
import { AUTHORIZER_CACHE_FLUSH } from './authorizer-cache-flush.js';
import { activeDeployment } from './deployment.js';
import { dynamoDocumentClient, runtimeConfig } from './storage.js';

let store: KeyWarningStore | undefined;
let cache: AuthorizerCache | undefined;

/**
 * The key-warnings scan's wiring (`functions/key-warnings/handler.ts`): the deployment's warning
 * settings, the keys and audit tables, and the stage's authorizer-cache flush (through the flush
 * lease on AWS) for the keys it disables.
 */
export function keyWarningDeps(): {
  settings: KeyWarningSettings;
  store: KeyWarningStore;
  authorizerCache: AuthorizerCache;
  now: () => Date;
} {
  const config = runtimeConfig();
  store ??= new DynamoKeyWarningStore(dynamoDocumentClient(), config.tables);
  cache ??= AUTHORIZER_CACHE_FLUSH.authorizerCache(config);
  return {
    settings: warningSettings(activeDeployment().spec.warnings),
    store,
    authorizerCache: cache,
    now: () => new Date(),
  };
}

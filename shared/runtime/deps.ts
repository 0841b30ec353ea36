import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../adapters/dynamodb/keys-repository.js';
import type { Deps } from '../domain/ports.js';
import { configFromEnv } from './config.js';

let cached: Deps | undefined;

/**
 * The production wiring, built on first use (not at import, so importing a handler costs no
 * client set-up) and reused across invocations of a warm Lambda.
 */
export function defaultDeps(): Deps {
  if (!cached) {
    const config = configFromEnv();
    const client = createDocumentClient({
      region: config.region,
      endpoint: config.dynamodbEndpoint,
    });
    cached = {
      repo: new DynamoKeyRepository(client, config.tables),
      config,
      now: () => new Date(),
    };
  }
  return cached;
}

import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../adapters/dynamodb/keys-repository.js';
import type { KeyRepository } from '../domain/ports.js';
import { configFromEnv, type RuntimeConfig } from './config.js';

/**
 * Process-wide configuration and storage, built on first use and reused by a warm Lambda. The
 * authorizer needs only this, so it imports nothing of mail or API Gateway management.
 */
let config: RuntimeConfig | undefined;
let documentClient: ReturnType<typeof createDocumentClient> | undefined;
let repository: KeyRepository | undefined;

export function runtimeConfig(): RuntimeConfig {
  config ??= configFromEnv();
  return config;
}

/** The process's DynamoDB document client (tests attach middleware to it to count calls). */
export function dynamoDocumentClient() {
  const { region, dynamodbEndpoint } = runtimeConfig();
  documentClient ??= createDocumentClient({ region, endpoint: dynamodbEndpoint });
  return documentClient;
}

export function keyRepository(): KeyRepository {
  repository ??= new DynamoKeyRepository(dynamoDocumentClient(), runtimeConfig().tables);
  return repository;
}

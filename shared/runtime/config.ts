import { assertKeyPrefix, DEFAULT_KEY_PREFIX } from '../domain/key-format.js';
import type { KeygateConfig } from '../domain/ports.js';
import type { TableNames } from '../tables.js';

export const DEFAULT_KEY_LIMIT = 100;

/** Runtime settings, read once from the environment (Lambda, the local runtime, the tests). */
export interface RuntimeConfig extends KeygateConfig {
  tables: TableNames;
  /** DynamoDB endpoint override: DynamoDB Local. Unset on AWS. */
  dynamodbEndpoint: string | undefined;
  region: string;
}

/** Reads and checks the environment; a bad setting fails the cold start, not a request. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const keys = env.KEYGATE_KEYS_TABLE;
  const accounts = env.KEYGATE_ACCOUNTS_TABLE;
  if (!keys || !accounts) {
    throw new Error('KEYGATE_KEYS_TABLE and KEYGATE_ACCOUNTS_TABLE must be set');
  }
  const limit = Number(env.KEYGATE_KEY_LIMIT ?? DEFAULT_KEY_LIMIT);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new Error(
      `KEYGATE_KEY_LIMIT must be a non-negative integer, got ${env.KEYGATE_KEY_LIMIT}`,
    );
  }
  return {
    keyPrefix: assertKeyPrefix(env.KEYGATE_KEY_PREFIX || DEFAULT_KEY_PREFIX),
    defaultKeyLimit: limit,
    tables: { keys, accounts },
    dynamodbEndpoint: env.KEYGATE_DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
  };
}

import { assertKeyPrefix, DEFAULT_KEY_PREFIX } from '../domain/key-format.js';
import type { KeygateConfig } from '../domain/ports.js';
import type { TableNames } from '../tables.js';
import { activeDeployment, plansDeclared } from './deployment.js';

export const DEFAULT_KEY_LIMIT = 100;
/** SendGrid's Pro plan allows 15 subusers; operators set an account's own at bootstrap. */
export const DEFAULT_SUBUSER_LIMIT = 15;

/** Runtime settings, read once from the environment (Lambda, the local runtime, the tests). */
export type MailerConfig =
  | { kind: 'ses'; identity: string | undefined }
  | { kind: 'outbox'; dir: string };

export interface RuntimeConfig extends KeygateConfig {
  tables: TableNames;
  mailer: MailerConfig;
  /** API Gateway stage whose authorizer cache is flushed; unset locally (in-process gateway). */
  gateway: { restApiId: string; stage: string } | undefined;
  /**
   * The flush lease's table (`KEYGATE_FLUSH_TABLE`), set on the functions that flush: their
   * flushes then go through the lease (at most one per second per stage). Unset locally.
   */
  flushTable: string | undefined;
  /**
   * The usage counters' table (`KEYGATE_USAGE_TABLE`), set on the functions of key routes: where
   * the team declared plans, every request counts against its account's plan there.
   */
  usageTable: string | undefined;
  /** DynamoDB endpoint override: DynamoDB Local. Unset on AWS. */
  dynamodbEndpoint: string | undefined;
  /**
   * Replaces the DynamoDB client's connection and request timeouts (`KEYGATE_DYNAMODB_TIMEOUT_MS`;
   * `DYNAMODB_TIMEOUTS` in the client's module otherwise). Only for one process that plays many
   * Lambdas at once against a loaded DynamoDB Local, where calls queue for sockets: never set on
   * AWS, where a container serves one request at a time.
   */
  dynamodbTimeoutMs: number | undefined;
  region: string;
}

/** Reads and checks the environment; a bad setting fails the cold start, not a request. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const keys = env.KEYGATE_KEYS_TABLE;
  const accounts = env.KEYGATE_ACCOUNTS_TABLE;
  const audit = env.KEYGATE_AUDIT_TABLE;
  if (!keys || !accounts || !audit) {
    throw new Error(
      'KEYGATE_KEYS_TABLE, KEYGATE_ACCOUNTS_TABLE and KEYGATE_AUDIT_TABLE must be set',
    );
  }
  const limit = Number(env.KEYGATE_KEY_LIMIT ?? DEFAULT_KEY_LIMIT);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new Error(
      `KEYGATE_KEY_LIMIT must be a non-negative integer, got ${env.KEYGATE_KEY_LIMIT}`,
    );
  }
  const subuserLimit = Number(env.KEYGATE_SUBUSER_LIMIT ?? DEFAULT_SUBUSER_LIMIT);
  if (!Number.isSafeInteger(subuserLimit) || subuserLimit < 0) {
    throw new Error(
      `KEYGATE_SUBUSER_LIMIT must be a non-negative integer, got ${env.KEYGATE_SUBUSER_LIMIT}`,
    );
  }
  const timeoutText = env.KEYGATE_DYNAMODB_TIMEOUT_MS;
  if (timeoutText !== undefined && !/^[1-9][0-9]{0,6}$/.test(timeoutText)) {
    throw new Error(
      `KEYGATE_DYNAMODB_TIMEOUT_MS must be whole milliseconds from 1 to 9999999, got ${JSON.stringify(timeoutText)}`,
    );
  }
  const outbox = env.KEYGATE_OUTBOX_DIR;
  const restApiId = env.KEYGATE_REST_API_ID;
  return {
    mailer: outbox
      ? { kind: 'outbox', dir: outbox }
      : { kind: 'ses', identity: env.KEYGATE_SES_IDENTITY || undefined },
    gateway: restApiId ? { restApiId, stage: env.KEYGATE_STAGE || 'prod' } : undefined,
    flushTable: env.KEYGATE_FLUSH_TABLE || undefined,
    usageTable: env.KEYGATE_USAGE_TABLE || undefined,
    keyPrefix: assertKeyPrefix(env.KEYGATE_KEY_PREFIX || DEFAULT_KEY_PREFIX),
    defaultKeyLimit: limit,
    defaultSubuserLimit: subuserLimit,
    catalogue: activeDeployment().catalogue,
    // Read per use: a test or the local runtime may install a deployment after the config.
    get limitsEnabled() {
      return plansDeclared();
    },
    tables: { keys, accounts, audit },
    dynamodbEndpoint: env.KEYGATE_DYNAMODB_ENDPOINT || undefined,
    dynamodbTimeoutMs: timeoutText === undefined ? undefined : Number(timeoutText),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
  };
}

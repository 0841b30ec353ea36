import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { MemoryKeyRepository } from '../../shared/adapters/memory/keys-repository.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';
import type { Deps } from '../../shared/domain/ports.js';
import { authorize } from '../../shared/gateway/authorize.js';
import { dynamoDocumentClient, keyRepository } from '../../shared/runtime/storage.js';
import { microsecondsEach, microsecondsInterleaved } from './stats.js';

const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v3/api_keys';
const CONFIG = {
  keyPrefix: 'SG',
  defaultKeyLimit: 100,
  defaultSubuserLimit: 15,
  catalogue: SENDGRID_CATALOGUE,
};
const SOURCE_IP = '203.0.113.7';

export interface AuthorizerFigures {
  malformedUs: number;
  validMemoryUs: number;
  validDynamoDbLocalUs: number;
  bareGetItemUs: number;
  bareSha256Us: number;
  keyLength: number;
  dynamoOverGetItem: number;
}

export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!result.ok) throw result.error instanceof Error ? result.error : new Error('failed');
  return result.value;
}

function memoryDeps(): Deps {
  return {
    repo: new MemoryKeyRepository(),
    config: CONFIG,
    now: () => new Date(),
    authorizerCache: { flush: async () => {} },
    mailer: { send: async () => {}, canSendFrom: () => true, canUseTemplate: () => true },
  };
}

/**
 * The authorizer's hot path in-process (`authorize`, what the Lambda handler calls), in µs per
 * verification, and its floors, in one run:
 * - a malformed key (refused by the checksum, no I/O) and a valid key on the in-memory
 *   repository (parse, checksum, SHA-256, constant-time compare, status, policy): pure CPU;
 * - a valid key on DynamoDB Local against a bare consistent `GetItem` of the same item, the two
 *   alternating call by call; and a bare SHA-256 of a key of the same length.
 * The DynamoDB Local tables come from the environment (`KEYGATE_*`); `ownerKey` is a key there.
 */
export async function measureAuthorizer(options: {
  ownerKey: string;
  cpuIterations: number;
  ioIterations: number;
  repeats: number;
}): Promise<AuthorizerFigures> {
  const memory = memoryDeps();
  const memoryOwner = unwrap(await bootstrapAccount(memory, { name: 'bench' }));
  const request = (authorization: string) => ({
    authorization,
    methodArn: METHOD_ARN,
    sourceIp: SOURCE_IP,
    httpMethod: 'GET',
    resourcePath: '/v3/api_keys',
  });
  const malformed = await authorize(memory, request('Bearer SG.not-a-key'));
  if (malformed.effect !== 'unauthorized' || malformed.reason !== 'malformed') {
    throw new Error(`expected a malformed outcome, got ${JSON.stringify(malformed)}`);
  }
  const memoryAuth = `Bearer ${memoryOwner.apiKey}`;
  if ((await authorize(memory, request(memoryAuth))).effect !== 'allow') {
    throw new Error('in-memory key not allowed');
  }
  const key = memoryOwner.apiKey;
  const [malformedUs = Number.NaN, validMemoryUs = Number.NaN, bareSha256Us = Number.NaN] =
    await microsecondsEach(options.cpuIterations, options.repeats, [
      () => authorize(memory, request('Bearer SG.not-a-key')),
      () => authorize(memory, request(memoryAuth)),
      () => createHash('sha256').update(key).digest('base64url'),
    ]);

  const dynamo = { repo: keyRepository(), config: CONFIG, now: () => new Date() };
  const auth = `Bearer ${options.ownerKey}`;
  if ((await authorize(dynamo, request(auth))).effect !== 'allow') {
    throw new Error('DynamoDB key not allowed');
  }
  const client = dynamoDocumentClient();
  const keyId = options.ownerKey.split('.')[1];
  const [validDynamoDbLocalUs = Number.NaN, bareGetItemUs = Number.NaN] =
    await microsecondsInterleaved(options.ioIterations, options.repeats, [
      () => authorize(dynamo, request(auth)),
      () =>
        client.send(
          new GetCommand({
            TableName: process.env.KEYGATE_KEYS_TABLE,
            Key: { keyId },
            ConsistentRead: true,
          }),
        ),
    ]);
  return {
    malformedUs,
    validMemoryUs,
    validDynamoDbLocalUs,
    bareGetItemUs,
    bareSha256Us,
    keyLength: key.length,
    dynamoOverGetItem: validDynamoDbLocalUs / bareGetItemUs,
  };
}

import { crc32 } from 'node:zlib';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { MemoryKeyRepository } from '../../shared/adapters/memory/keys-repository.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { type ScopeCatalogue, SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';
import type { KeygateError, Result } from '../../shared/domain/errors.js';
import { generateApiKey, hashApiKey } from '../../shared/domain/key-format.js';
import type { AuditEvent, Deps, KeyRecord } from '../../shared/domain/ports.js';
import type { KeyType } from '../../shared/domain/scopes.js';
import { authorize } from '../../shared/gateway/authorize.js';
import type { PolicyRoute, SecretKind } from '../../shared/gateway/policy.js';

/** The base64url alphabet, in index order. */
export const BASE64URL_ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The documented checksum, re-implemented independently of the source: base64url of the
 * big-endian CRC-32 of everything before the last 6 characters.
 */
export function documentedChecksum(body: string): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(crc32(body) >>> 0, 0);
  return buf.toString('base64url');
}

/** Builds a key of the documented shape from its parts (random part: 37 characters). */
export function buildKey(prefix: string, keyId: string, random37: string): string {
  const body = `${prefix}.${keyId}.${random37}`;
  return `${body}${documentedChecksum(body)}`;
}

export function unwrap<T>(result: Result<T>): T {
  if (!result.ok)
    throw new Error(`expected success, got ${result.error.name}: ${result.error.message}`);
  return result.value;
}

export function failure<T>(result: Result<T>): KeygateError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/** When the unit tests' clocks start. */
export const START = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * Deps on an in-memory repository, with no-op adapters and a clock that advances one second per
 * reading, so creation order is observable and each write's time is distinct.
 */
export function makeDeps<R extends MemoryKeyRepository = MemoryKeyRepository>(
  repo: R = new MemoryKeyRepository() as R,
) {
  let tick = 0;
  const deps: Deps = {
    repo,
    config: {
      keyPrefix: 'SG',
      defaultKeyLimit: 100,
      defaultSubuserLimit: 15,
      catalogue: SENDGRID_CATALOGUE,
    },
    now: () => new Date(START + 1000 * tick++),
    authorizerCache: { flush: async () => {} },
    mailer: { send: async () => {}, canSendFrom: () => true, canUseTemplate: () => true },
  };
  return { deps, repo };
}

/** A placeholder audit event for tests that call a repository directly. */
export function testEvent(accountId = 'acc', targetKeyId = 'key'): AuditEvent {
  return {
    accountId,
    eventId: `${new Date(START).toISOString()}#${Math.random()}`,
    time: new Date(START).toISOString(),
    action: 'api_key.updated',
    actorKeyId: null,
    targetKeyId,
    scopesAdded: [],
    scopesRemoved: [],
    sourceIp: null,
    details: {},
  };
}

/**
 * A key of the given type, scopes and secret in a fresh in-memory account (its record inserted
 * as stored, so any type and scopes can be tried), and deps whose catalogue is `catalogue`: what
 * the authorizer reads. The key's previous secret is in a day-long roll grace period.
 */
export async function keyInMemory(
  key: { type: KeyType; scopes: readonly string[]; secret: SecretKind },
  catalogue: ScopeCatalogue,
) {
  const made = makeDeps();
  const deps = { ...made.deps, config: { ...made.deps.config, catalogue } };
  const account = unwrap(await bootstrapAccount(deps, { name: 'acme' }));
  const current = generateApiKey('SG');
  const previous = generateApiKey('SG', current.keyId);
  const record: KeyRecord = {
    keyId: current.keyId,
    accountId: account.accountId,
    name: 'generated',
    scopes: [...key.scopes],
    type: key.type,
    keyHash: hashApiKey(current.apiKey),
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    version: 1,
    previousKeyHash: hashApiKey(previous.apiKey),
    previousValidUntil: new Date(Date.now() + 86_400_000).toISOString(),
  };
  await made.repo.insertKey(record, testEvent(account.accountId, record.keyId));
  const presented = key.secret === 'current' ? current.apiKey : previous.apiKey;
  return {
    authorization: `Bearer ${presented}`,
    deps: { ...deps, now: () => new Date() },
  };
}

/**
 * The Lambda authorizer's mapping (`functions/authorizer/handler.ts`) over the real `authorize`
 * for `routes`: for an emulator's `authorizer` option.
 */
export function authorizerOver(
  deps: Omit<Parameters<typeof authorize>[0], 'routes'>,
  routes: readonly PolicyRoute[],
) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const outcome = await authorize(
      { ...deps, routes },
      {
        authorization: event.headers?.Authorization,
        methodArn: event.methodArn,
        httpMethod: event.httpMethod,
        resourcePath: event.requestContext.resourcePath,
      },
    );
    if (outcome.effect === 'unauthorized') throw new Error('Unauthorized');
    return {
      principalId: outcome.principalId,
      policyDocument: outcome.policy,
      context: { ...outcome.context },
    };
  };
}

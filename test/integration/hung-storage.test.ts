import { readdirSync, readFileSync } from 'node:fs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DynamoDbLocal,
  ensureTables,
  localClient,
  startDynamoDbLocal,
} from '../../local/dynamodb-local.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { dynamoDocumentClient, runtimeConfig } from '../../shared/runtime/storage.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { type CallResult, createGateway, type Gateway } from '../helpers/gateway.js';

/**
 * DynamoDB that accepts connections and never answers (its JVM stopped with SIGSTOP: the kernel
 * still completes TCP handshakes into the listen backlog, so only a request timeout can fire).
 * Keygate must answer 503 with Retry-After within its own timeouts, never hang or answer 500.
 *
 * This file runs its own DynamoDB Local: the one the other integration files share must never be
 * stopped. Vitest gives each test file its own modules, and storage reads its configuration on
 * first use, so pointing the environment at this instance before that use is enough (checked
 * below).
 */

const UNAVAILABLE = {
  errors: [{ field: null, message: 'service temporarily unavailable, retry later' }],
};

/** A hang shows up as this test timeout (or as a 500), not as a timing assertion. */
const HUNG_REQUEST_TEST_TIMEOUT_MS = 30_000;

let dynamodb: DynamoDbLocal | undefined;
let jvm: number | undefined;
let paused = false;
let gateway: Gateway;
let ownerKey: string;
let unusedKey: string;

/** The JVM of the DynamoDB Local this process started on `port`, found through /proc. */
function dynamoDbLocalPid(port: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    let parent: number;
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      // `pid (comm) state ppid …`, where comm may itself hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      continue; // exited while we looked
    }
    const portArg = args.indexOf('-port');
    if (
      parent === process.pid &&
      args.some((a) => a.includes('DynamoDBLocal')) &&
      portArg >= 0 &&
      args[portArg + 1] === String(port)
    ) {
      return Number(entry);
    }
  }
  throw new Error(`no DynamoDB Local child of this process listens on port ${port}`);
}

function resume(): void {
  if (jvm === undefined || !paused) return;
  try {
    process.kill(jvm, 'SIGCONT');
  } catch {
    // already gone
  }
  paused = false;
}

function expectUnavailable(res: CallResult): void {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.body).toEqual(UNAVAILABLE);
}

/** Calls the gateway and notes how long the answer took (`--reporter=verbose` prints it). */
async function timedCall(
  annotate: (message: string) => Promise<unknown>,
  ...args: Parameters<Gateway['call']>
): Promise<CallResult> {
  const started = performance.now();
  const res = await gateway.call(...args);
  await annotate(`${res.status} after ${Math.round(performance.now() - started)} ms`);
  return res;
}

beforeAll(async () => {
  // A JVM left stopped would outlive the run (SIGTERM waits for SIGCONT): resume on any exit.
  process.once('exit', resume);
  dynamodb = await startDynamoDbLocal();
  const tables = await ensureTables(dynamodb.endpoint, 'keygate-hung');
  process.env.KEYGATE_DYNAMODB_ENDPOINT = dynamodb.endpoint;
  process.env.KEYGATE_KEYS_TABLE = tables.keys;
  process.env.KEYGATE_ACCOUNTS_TABLE = tables.accounts;
  process.env.KEYGATE_AUDIT_TABLE = tables.audit;
  const port = Number(new URL(dynamodb.endpoint).port);
  jvm = dynamoDbLocalPid(port);

  // The process's storage really talks to this instance, not to the shared one.
  expect(runtimeConfig().dynamodbEndpoint).toBe(dynamodb.endpoint);
  expect(runtimeConfig().tables).toEqual(tables);
  const endpoint = await dynamoDocumentClient().config.endpoint?.();
  expect(Number(endpoint?.port)).toBe(port);

  const owner = await bootstrapAccount(defaultDeps(), { name: 'hung-storage' });
  if (!owner.ok) throw owner.error;
  ownerKey = owner.value.apiKey;
  const direct = localClient(dynamodb.endpoint);
  try {
    const stored = await direct.send(
      new GetItemCommand({ TableName: tables.keys, Key: { keyId: { S: owner.value.keyId } } }),
    );
    expect(stored.Item).toBeDefined();
  } finally {
    direct.destroy();
  }

  gateway = createGateway();
  const created = await gateway.call(
    'POST',
    '/v3/api_keys',
    { key: ownerKey, body: { name: 'never used', scopes: ['api_keys.read'] } },
    CreatedApiKey,
  );
  expect(created.status).toBe(201);
  unusedKey = created.body.api_key;
  // Caches the owner key's allow for this route.
  expect((await gateway.call('GET', '/v3/api_keys', { key: ownerKey })).status).toBe(200);

  process.kill(jvm, 'SIGSTOP');
  paused = true;
}, 120_000);

afterAll(async () => {
  resume();
  process.off('exit', resume);
  gateway?.emulator.close();
  await dynamodb?.stop();
});

describe('DynamoDB hung (its JVM stopped)', () => {
  it(
    'a key with a cached allow: the handler answers 503 with Retry-After',
    async ({ annotate }) => {
      // Arrange
      const before = { ...gateway.emulator.stats };

      // Act
      const res = await timedCall(annotate, 'GET', '/v3/api_keys', { key: ownerKey });

      // Assert: the authorizer was not called (its result was cached); the handler's read was.
      expectUnavailable(res);
      expect(gateway.emulator.stats.cacheHits - before.cacheHits).toBe(1);
      expect(gateway.emulator.stats.authorizerInvocations).toBe(before.authorizerInvocations);
    },
    HUNG_REQUEST_TEST_TIMEOUT_MS,
  );

  it(
    'a key never seen before: the authorizer fails closed, 503 with Retry-After',
    async ({ annotate }) => {
      // Arrange
      const before = { ...gateway.emulator.stats };

      // Act
      const res = await timedCall(annotate, 'GET', '/v3/api_keys', { key: unusedKey });

      // Assert
      expectUnavailable(res);
      expect(gateway.emulator.stats.authorizerInvocations - before.authorizerInvocations).toBe(1);
    },
    HUNG_REQUEST_TEST_TIMEOUT_MS,
  );
});

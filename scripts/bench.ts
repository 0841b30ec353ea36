/**
 * `npm run bench` (groundwork for issue 9): one run measures, so ratios between figures are
 * meaningful,
 * 1. the authorizer's hot path in-process (`authorize`), µs per verification: a malformed key
 *    (no I/O), a valid key on the in-memory repository, a valid key on DynamoDB Local; and the
 *    floors: a bare `GetItem` of the same keys-table item and a bare SHA-256 of the key;
 * 2. DynamoDB commands per API operation (counted by a middleware on the document client).
 * Every timing is the median of REPEATS runs. Prints a table and writes `bench/results.json`.
 * Cold start and HTTP throughput are not measured yet.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTables, startDynamoDbLocal } from '../local/dynamodb-local.js';
import { MemoryKeyRepository } from '../shared/adapters/memory/keys-repository.js';
import { bootstrapAccount } from '../shared/domain/accounts.js';
import {
  type Caller,
  createApiKey,
  deleteApiKey,
  getApiKey,
  listApiKeys,
  renameApiKey,
} from '../shared/domain/api-keys.js';
import { authorize } from '../shared/domain/authorize.js';
import type { Deps } from '../shared/domain/ports.js';
import { rollApiKey } from '../shared/domain/roll-and-revoke.js';
import type { KeyType } from '../shared/domain/scopes.js';
import { defaultDeps } from '../shared/runtime/deps.js';
import { dynamoDocumentClient, keyRepository } from '../shared/runtime/storage.js';

const REPEATS = 5;
const CPU_ITERATIONS = 20_000;
const IO_ITERATIONS = 400;
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v3/api_keys';
const CONFIG = { keyPrefix: 'SG', defaultKeyLimit: 100 };
const NOT_YET = 'not yet measured';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const a = sorted[mid] ?? Number.NaN;
  const b = sorted[mid - 1] ?? a;
  return sorted.length % 2 === 0 ? (a + b) / 2 : a;
}

/**
 * Median over REPEATS runs of µs per call for each function, after one untimed warm-up run of
 * each. The functions take turns within every repeat, so a server warming up (DynamoDB Local's
 * JVM) does not favour whichever is measured last.
 */
async function microsecondsEach(
  iterations: number,
  fns: readonly (() => unknown)[],
): Promise<number[]> {
  const runs: number[][] = fns.map(() => []);
  for (let repeat = 0; repeat <= REPEATS; repeat++) {
    for (const [index, fn] of fns.entries()) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await fn();
      const elapsed = Number(process.hrtime.bigint() - start) / 1000 / iterations;
      if (repeat > 0) runs[index]?.push(elapsed);
    }
  }
  return runs.map(median);
}

async function microseconds(iterations: number, fn: () => unknown): Promise<number> {
  const [us] = await microsecondsEach(iterations, [fn]);
  return us ?? Number.NaN;
}

function stubDeps(repo: MemoryKeyRepository): Deps {
  return {
    repo,
    config: CONFIG,
    now: () => new Date(),
    authorizerCache: { flush: async () => {} },
    mailer: { send: async () => {}, canSendFrom: () => true, canUseTemplate: () => true },
  };
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!result.ok) throw result.error instanceof Error ? result.error : new Error('failed');
  return result.value;
}

/** The DynamoDB API name of a document-client command, from the shape of its input. */
function commandName(input: Record<string, unknown>): string {
  if ('TransactItems' in input) return 'TransactWriteItems';
  if ('KeyConditionExpression' in input) return 'Query';
  if ('UpdateExpression' in input) return 'UpdateItem';
  if ('Item' in input) return 'PutItem';
  if ('Key' in input) return 'ConditionExpression' in input ? 'DeleteItem' : 'GetItem';
  return 'Other';
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    repeats: REPEATS,
    cpuIterations: CPU_ITERATIONS,
    ioIterations: IO_ITERATIONS,
  };
  const rows: [string, string][] = [];

  // 1a/1b: in-process, in-memory repository.
  const memoryDeps = stubDeps(new MemoryKeyRepository());
  const memoryOwner = unwrap(await bootstrapAccount(memoryDeps, { name: 'bench' }));
  const malformed = await authorize(memoryDeps, {
    authorization: 'Bearer SG.not-a-key',
    methodArn: METHOD_ARN,
  });
  if (malformed.effect !== 'unauthorized' || malformed.reason !== 'malformed') {
    throw new Error(`expected a malformed outcome, got ${JSON.stringify(malformed)}`);
  }
  const malformedUs = await microseconds(CPU_ITERATIONS, () =>
    authorize(memoryDeps, {
      authorization: 'Bearer SG.not-a-key',
      methodArn: METHOD_ARN,
      sourceIp: '203.0.113.7',
    }),
  );
  const memoryAuth = `Bearer ${memoryOwner.apiKey}`;
  const memoryCheck = await authorize(memoryDeps, {
    authorization: memoryAuth,
    methodArn: METHOD_ARN,
  });
  if (memoryCheck.effect !== 'allow') throw new Error('in-memory key not allowed');
  const memoryUs = await microseconds(CPU_ITERATIONS, () =>
    authorize(memoryDeps, {
      authorization: memoryAuth,
      methodArn: METHOD_ARN,
      sourceIp: '203.0.113.7',
    }),
  );
  const key = memoryOwner.apiKey;
  const shaUs = await microseconds(CPU_ITERATIONS, () =>
    createHash('sha256').update(key).digest('hex'),
  );

  // 1c and the GetItem floor, then 2: DynamoDB Local.
  const outbox = mkdtempSync(join(tmpdir(), 'keygate-bench-outbox-'));
  const dynamo = await startDynamoDbLocal();
  try {
    const prefix = `bench${Date.now()}`;
    const tables = await ensureTables(dynamo.endpoint, prefix);
    process.env.KEYGATE_DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.KEYGATE_KEYS_TABLE = tables.keys;
    process.env.KEYGATE_ACCOUNTS_TABLE = tables.accounts;
    process.env.KEYGATE_AUDIT_TABLE = tables.audit;
    process.env.KEYGATE_KEY_PREFIX = 'SG';
    process.env.AWS_REGION ??= 'local';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    process.env.KEYGATE_OUTBOX_DIR = outbox;

    const deps = defaultDeps();
    const dynamoAuthDeps = { repo: keyRepository(), config: CONFIG, now: () => new Date() };
    const owner = unwrap(await bootstrapAccount(deps, { name: 'bench' }));
    const auth = `Bearer ${owner.apiKey}`;
    const outcome = await authorize(dynamoAuthDeps, { authorization: auth, methodArn: METHOD_ARN });
    if (outcome.effect !== 'allow') throw new Error('DynamoDB key not allowed');
    const client = dynamoDocumentClient();
    const [dynamoUs = Number.NaN, getItemUs = Number.NaN] = await microsecondsEach(IO_ITERATIONS, [
      () =>
        authorize(dynamoAuthDeps, {
          authorization: auth,
          methodArn: METHOD_ARN,
          sourceIp: '203.0.113.7',
        }),
      () =>
        client.send(
          new GetCommand({
            TableName: tables.keys,
            Key: { keyId: owner.keyId },
            ConsistentRead: true,
          }),
        ),
    ]);

    results.authorizer = {
      malformedUs,
      validMemoryUs: memoryUs,
      validDynamoDbLocalUs: dynamoUs,
      bareGetItemUs: getItemUs,
      bareSha256Us: shaUs,
      keyLength: key.length,
      dynamoOverGetItem: dynamoUs / getItemUs,
      memoryOverSha256: memoryUs / shaUs,
    };
    rows.push(
      ['authorize, malformed key (no I/O)', `${malformedUs.toFixed(2)} µs`],
      ['authorize, valid key, in-memory repo', `${memoryUs.toFixed(2)} µs`],
      ['authorize, valid key, DynamoDB Local', `${dynamoUs.toFixed(1)} µs`],
      ['floor: bare GetItem (same item)', `${getItemUs.toFixed(1)} µs`],
      [`floor: bare SHA-256 (${key.length}-char key)`, `${shaUs.toFixed(2)} µs`],
      ['ratio: DynamoDB authorize / bare GetItem', `${(dynamoUs / getItemUs).toFixed(2)}×`],
      ['ratio: in-memory authorize / SHA-256', `${(memoryUs / shaUs).toFixed(1)}×`],
    );

    // 2: commands per operation.
    const inputs: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (context as { commandName?: string }).commandName;
        inputs.push(
          name ? name.replace(/Command$/, '') : commandName(args.input as Record<string, unknown>),
        );
        return next(args);
      },
      { step: 'initialize', name: 'bench-count' },
    );
    const ctx = outcome.context;
    const caller: Caller = {
      accountId: ctx.accountId,
      keyId: ctx.keyId,
      type: ctx.type as KeyType,
      scopes: ctx.scopes.split(' '),
      sourceIp: '203.0.113.7',
    };
    const counts: Record<string, { commands: number; which: string[] }> = {};
    const count = async (label: string, fn: () => Promise<unknown>) => {
      inputs.length = 0;
      await fn();
      counts[label] = { commands: inputs.length, which: [...inputs] };
    };
    // The owner key's last use was recorded above, so this is the steady state (no touch).
    await count('verify', () =>
      authorize(dynamoAuthDeps, { authorization: auth, methodArn: METHOD_ARN }),
    );
    let created = '';
    await count('create', async () => {
      created = unwrap(await createApiKey(deps, caller, { name: 'bench key' })).api_key_id;
    });
    await count('list', async () => unwrap(await listApiKeys(deps, caller, { limit: 10 })));
    await count('get', async () => unwrap(await getApiKey(deps, caller, created)));
    await count('update (rename)', async () =>
      unwrap(await renameApiKey(deps, caller, created, { name: 'renamed' })),
    );
    await count('roll', async () => unwrap(await rollApiKey(deps, caller, created, {})));
    await count('delete', async () => unwrap(await deleteApiKey(deps, caller, created)));
    results.dynamodbCommandsPerOperation = counts;
    results.consumedCapacity = 'not yet measured (ReturnConsumedCapacity needs source changes)';
    for (const [label, { commands, which }] of Object.entries(counts)) {
      rows.push([`DynamoDB commands: ${label}`, `${commands} (${which.join(', ') || 'none'})`]);
    }
  } finally {
    await dynamo.stop();
    rmSync(outbox, { recursive: true, force: true });
  }

  results.coldStart = NOT_YET;
  results.http = NOT_YET;
  rows.push(['cold start (Lambda init)', NOT_YET], ['HTTP throughput (autocannon)', NOT_YET]);

  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`Keygate bench (median of ${REPEATS}; ${process.version})`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  mkdirSync('bench', { recursive: true });
  writeFileSync(join('bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote bench/results.json');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

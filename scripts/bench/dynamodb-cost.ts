import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One DynamoDB call and what DynamoDB says it consumed (`ReturnConsumedCapacity: INDEXES`). */
export interface DynamoDbCall {
  /** The DynamoDB API name: `GetItem`, `Query`, `TransactWriteItems`, … */
  command: string;
  /** Tables (and indexes, as `table/index`) the call touched. */
  targets: string[];
  /** `true` only for a strongly consistent read. */
  consistentRead: boolean;
  /** Read and write capacity units, summed over the tables and indexes the call touched. */
  readUnits: number;
  writeUnits: number;
  /**
   * The error a call failed with (a refused conditional write): DynamoDB still charges such a
   * write (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)
   * but reports no consumed capacity with the error, so its units here are 0.
   */
  failed?: string;
}

/** The cost of one operation: its calls, and their totals. */
export interface OperationCost {
  calls: DynamoDbCall[];
  readUnits: number;
  writeUnits: number;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, unknown>;
}

/** The DynamoDB API name of a document-client command, from the SDK's context or its input. */
function apiName(contextName: string | undefined, input: Record<string, unknown>): string {
  if (contextName) return contextName.replace(/Command$/, '');
  if ('TransactItems' in input) return 'TransactWriteItems';
  if ('KeyConditionExpression' in input) return 'Query';
  if ('UpdateExpression' in input) return 'UpdateItem';
  if ('Item' in input) return 'PutItem';
  return 'Key' in input ? 'GetItem' : 'Other';
}

/** Folds DynamoDB's `ConsumedCapacity` (one object, or one per table for transactions). */
function units(command: string, consumed: unknown): { read: number; write: number } {
  const list = (
    Array.isArray(consumed) ? consumed : consumed ? [consumed] : []
  ) as ConsumedCapacity[];
  let read = 0;
  let write = 0;
  for (const c of list) {
    // DynamoDB splits read and write units for some calls and reports only a total for others;
    // a total is a read for read calls and a write for the rest.
    if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
      read += c.ReadCapacityUnits ?? 0;
      write += c.WriteCapacityUnits ?? 0;
    } else if (READS.has(command)) {
      read += c.CapacityUnits ?? 0;
    } else {
      write += c.CapacityUnits ?? 0;
    }
  }
  return { read, write };
}

function targetsOf(input: Record<string, unknown>, consumed: unknown): string[] {
  const list = (
    Array.isArray(consumed) ? consumed : consumed ? [consumed] : []
  ) as ConsumedCapacity[];
  const targets = new Set<string>();
  for (const c of list) {
    if (c.TableName) targets.add(c.TableName);
    for (const index of Object.keys(c.GlobalSecondaryIndexes ?? {})) {
      targets.add(`${c.TableName}/${index}`);
    }
  }
  if (targets.size === 0 && typeof input.TableName === 'string') {
    targets.add(
      typeof input.IndexName === 'string'
        ? `${input.TableName}/${input.IndexName}`
        : input.TableName,
    );
  }
  return [...targets];
}

/**
 * Asks DynamoDB, for every call `client` sends from now on, what it consumed
 * (`ReturnConsumedCapacity: INDEXES`), and records the answers. `measure(fn)` gives the cost of
 * one operation; the recording itself adds one input field and changes nothing else.
 */
export function recordDynamoDbCost(client: DynamoDBDocumentClient): {
  measure(fn: () => Promise<unknown>): Promise<OperationCost>;
} {
  let calls: DynamoDbCall[] | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (!calls) return next(args);
      const sink = calls;
      input.ReturnConsumedCapacity = 'INDEXES';
      const command = apiName((context as { commandName?: string }).commandName, input);
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        sink.push({
          command,
          targets: targetsOf(input, undefined),
          consistentRead: input.ConsistentRead === true,
          readUnits: 0,
          writeUnits: 0,
          failed: error instanceof Error ? error.name : 'error',
        });
        throw error;
      }
      const output = result.output as { ConsumedCapacity?: unknown };
      const { read, write } = units(command, output.ConsumedCapacity);
      sink.push({
        command,
        targets: targetsOf(input, output.ConsumedCapacity),
        consistentRead: input.ConsistentRead === true,
        readUnits: read,
        writeUnits: write,
      });
      return result;
    },
    { step: 'initialize', name: 'keygateRecordConsumedCapacity' },
  );
  return {
    async measure(fn) {
      calls = [];
      const recorded = calls;
      try {
        await fn();
      } finally {
        calls = undefined;
      }
      return {
        calls: recorded,
        readUnits: recorded.reduce((sum, c) => sum + c.readUnits, 0),
        writeUnits: recorded.reduce((sum, c) => sum + c.writeUnits, 0),
      };
    },
  };
}

/** What one API operation costs, by label. */
export type OperationCosts = Record<string, OperationCost>;

/**
 * The DynamoDB cost of each API operation, through the in-process API Gateway emulator (the
 * real authorizer and handlers) on the tables the environment names. Before every operation the
 * caller's authorizer result is cached for that operation's route (the gateway caches per key,
 * address and route) by a request its handler answers without storage, so each figure is the
 * operation's own cost; the
 * authorizer's is measured apart: a cache miss (the key's last use already recorded this
 * minute), a first use in a minute (the miss plus the last-use write), and a cache hit.
 */
export async function measureOperationCosts(
  client: DynamoDBDocumentClient,
  ownerKey: string,
  /** The usage table: where given, what counting a request against a plan costs (issue 17). */
  usageTable?: string,
): Promise<OperationCosts> {
  const { ApiGatewayEmulator } = await import('../../local/emulator.js');
  const recorder = recordDynamoDbCost(client);
  const emulator = new ApiGatewayEmulator();
  try {
    const call = async (method: string, path: string, status: number, body?: unknown) => {
      const response = await emulator.handle({
        method,
        path,
        sourceIp: '203.0.113.7',
        headers: {
          authorization: `Bearer ${ownerKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (response.status !== status) {
        throw new Error(
          `${method} ${path}: expected ${status}, got ${response.status} ${response.body}`,
        );
      }
      return response.body === ''
        ? undefined
        : (JSON.parse(response.body) as Record<string, unknown>);
    };
    const costs: OperationCosts = {};
    const warm = () => call('GET', '/v3/scopes', 200);
    /**
     * Caches the allow for a route: a read as is; a write with a body of the wrong media type
     * (415 before any storage); a delete of a key ID that cannot exist (404 without a read).
     */
    const cacheAllow = async (method: string, path: string) => {
      if (method === 'GET') return call(method, path, 200);
      const response = await emulator.handle({
        method,
        path: method === 'DELETE' ? path.replace(/[^/]+$/, 'no-such-key') : path,
        sourceIp: '203.0.113.7',
        headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'text/plain' },
        body: 'x',
      });
      if (response.status !== (method === 'DELETE' ? 404 : 415)) {
        throw new Error(`${method} ${path}: could not cache the allow (${response.status})`);
      }
    };
    const measure = async (
      label: string,
      [method, path]: [string, string],
      fn: () => Promise<unknown>,
    ) => {
      await cacheAllow(method, path);
      costs[label] = await recorder.measure(fn);
    };

    // The authorizer, through the gateway's cache. Its first run records the owner key's use.
    await warm();
    costs['verify (cache hit)'] = await recorder.measure(warm);
    emulator.flushAuthorizerCache();
    costs['verify (cache miss)'] = await recorder.measure(warm);
    let fresh = '';
    await measure('create', ['POST', '/v3/api_keys'], async () => {
      fresh = String(
        (await call('POST', '/v3/api_keys', 201, { name: 'bench', scopes: ['mail.send'] }))
          ?.api_key,
      );
    });
    const freshId = fresh.split('.')[1] ?? '';
    costs['verify (cache miss, first use this minute)'] = await recorder.measure(async () => {
      const first = await emulator.handle({
        method: 'GET',
        path: '/v3/scopes',
        sourceIp: '203.0.113.7',
        headers: { authorization: `Bearer ${fresh}` },
      });
      if (first.status !== 200) throw new Error(`fresh key refused: ${first.status}`);
    });
    const one = `/v3/api_keys/${freshId}`;
    await measure('list', ['GET', '/v3/api_keys'], () => call('GET', '/v3/api_keys', 200));
    await measure('get', ['GET', one], () => call('GET', one, 200));
    await measure('update (PATCH name)', ['PATCH', one], () =>
      call('PATCH', one, 200, { name: 'renamed' }),
    );
    await measure('update (PUT name and scopes)', ['PUT', one], () =>
      call('PUT', one, 200, {
        name: 'replaced',
        scopes: ['mail.send', 'alerts.read'],
      }),
    );
    await measure('roll', ['POST', `${one}/roll`], () => call('POST', `${one}/roll`, 200, {}));
    await measure('delete', ['DELETE', one], () => call('DELETE', one, 204));
    if (usageTable) Object.assign(costs, await planCheckCosts(recorder, client, usageTable));
    return costs;
  } finally {
    emulator.close();
  }
}

/**
 * What a request limited by a plan adds: the usage store's conditional write when admitted (a
 * rate limit and both quotas, one item), and when refused (the failed write, then the read that
 * tells which limit).
 */
async function planCheckCosts(
  recorder: ReturnType<typeof recordDynamoDbCost>,
  client: DynamoDBDocumentClient,
  usageTable: string,
): Promise<OperationCosts> {
  const { DynamoDbUsageStore } = await import('../../shared/adapters/dynamodb/usage-store.js');
  const store = new DynamoDbUsageStore(client, usageTable);
  const now = new Date();
  const limits = { rate: { perSecond: 100, burst: 100 }, quota: { perDay: 1, perMonth: 1000 } };
  const consume = () => store.consume({ subject: 'a#bench', cost: 1, now, limits });
  const admitted = await recorder.measure(async () => {
    if (!(await consume()).admitted) throw new Error('the first plan check was refused');
  });
  const refused = await recorder.measure(async () => {
    if ((await consume()).admitted) throw new Error('a plan check past the quota was admitted');
  });
  // A key with limits of its own on an account with a plan: both counted, the key first.
  const { enforceLimits } = await import('../../shared/domain/limits.js');
  const keyAndAccount = await recorder.measure(async () => {
    const counted = await enforceLimits(
      { usage: store, now: () => now },
      [
        { subject: 'key', counter: 'k#bench', limits },
        { subject: 'account', counter: 'a#bench-account', limits },
      ],
      1,
    );
    if (!counted.ok) throw new Error('the key and account check was refused');
  });
  // Nothing limits the request (no plans, or a plan and key without limits): nothing counted.
  const unlimited = await recorder.measure(async () => {
    const counted = await enforceLimits({ usage: store, now: () => now }, [], 1);
    if (!counted.ok) throw new Error('an unlimited request was refused');
  });
  return {
    'limits check, unlimited': unlimited,
    'plan check, admitted (rate and quotas)': admitted,
    'plan check, refused': refused,
    "key's own limits and the plan, admitted": keyAndAccount,
  };
}

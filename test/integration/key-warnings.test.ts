import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler } from '../../functions/key-warnings/handler.js';
import { ensureTables, localClient } from '../../local/dynamodb-local.js';
import { DynamoKeyWarningStore } from '../../shared/adapters/dynamodb/key-warnings.js';
import { LocalAuthorizerCache } from '../../shared/adapters/local/authorizer-cache.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import {
  DAY_MS,
  enableKeyByOperator,
  type KeyWarningSettings,
  scanKeyWarnings,
  warningsDue,
} from '../../shared/domain/key-warnings.js';
import type { AuditEvent, AuthorizerCache } from '../../shared/domain/ports.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { dynamoDocumentClient, runtimeConfig } from '../../shared/runtime/storage.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { physicalTableName, TABLES, type TableNames, tableNames } from '../../shared/tables.js';
import { run, useMockedStack } from '../helpers/cli.js';
import { createGateway } from '../helpers/gateway.js';
import { newAccount } from '../helpers/harness.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * Key warnings on DynamoDB Local (issue 17): the scan over real tables, through the real
 * authorizer and handlers (the in-process API Gateway emulator, its result cache on). The scan
 * reads every key of its tables, so this file has tables of its own (no other test file's keys are
 * warned or disabled): the handlers, the authorizer and the CLI are pointed at them.
 */

const PREFIX = `kg-warn-${randomBytes(3).toString('hex')}`;
const TABLE_NAMES: TableNames = tableNames(PREFIX);
Object.assign(process.env, {
  KEYGATE_KEYS_TABLE: TABLE_NAMES.keys,
  KEYGATE_ACCOUNTS_TABLE: TABLE_NAMES.accounts,
  KEYGATE_AUDIT_TABLE: TABLE_NAMES.audit,
});

beforeAll(async () => {
  await ensureTables(inject('dynamodbEndpoint'), PREFIX);
});
afterAll(async () => {
  const client = localClient(inject('dynamodbEndpoint'));
  for (const table of TABLES) {
    await client.send(new DeleteTableCommand({ TableName: physicalTableName(PREFIX, table) }));
  }
});

const EXPIRY: KeyWarningSettings = { expiryDays: [30, 7, 1], disableUnused: false };
const DISABLING: KeyWarningSettings = { expiryDays: [], unusedDays: 90, disableUnused: true };

const gateway = createGateway({ cacheTtlSeconds: 300 });
const { call, emulator } = gateway;

function scanDeps(authorizerCache: AuthorizerCache = new LocalAuthorizerCache()) {
  return {
    now: () => new Date(),
    store: new DynamoKeyWarningStore(dynamoDocumentClient(), runtimeConfig().tables),
    authorizerCache,
  };
}
const scan = (settings: KeyWarningSettings, at = new Date(), cache?: AuthorizerCache) =>
  scanKeyWarnings(scanDeps(cache), settings, at);
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS);

async function createKey(ownerKey: string, body: Record<string, unknown> = {}) {
  const res = await call(
    'POST',
    '/v3/api_keys',
    { key: ownerKey, body: { name: 'ci', scopes: ['alerts.read'], ...body } },
    CreatedApiKey,
  );
  expect(res.status).toBe(201);
  return { key: res.body.api_key, id: res.body.api_key_id };
}

/** The account's warning events about `keyId`, oldest first, as `action days/last use`. */
async function warningsOf(accountId: string, keyId: string): Promise<string[]> {
  const { events } = await defaultDeps().repo.listEvents(accountId, {
    limit: 100,
    targetKeyId: keyId,
  });
  return events
    .filter((e) => /warning|disabled_unused|enabled/.test(e.action))
    .reverse()
    .map(describeWarning);
}
function describeWarning(e: AuditEvent): string {
  return `${e.action} ${e.details.days ?? e.details.last_used_at ?? e.details.by ?? ''}`.trim();
}

describe('expiry warnings', () => {
  it('warns at 30, 7 and 1 days, each once, and never after the key expired', async () => {
    // Arrange
    const { accountId, ownerKey } = await newAccount();
    const expires = inDays(29.9);
    const { id } = await createKey(ownerKey, { expires_at: expires.toISOString() });
    const at = (daysLeft: number) => new Date(expires.getTime() - daysLeft * DAY_MS);

    // Act: each moment scanned twice, as overlapping hourly runs would.
    for (const daysLeft of [29.9, 29.9, 20, 7, 6.5, 1, 0.5, 0.5, -1]) {
      await scan(EXPIRY, at(daysLeft));
    }

    // Assert
    expect(await warningsOf(accountId, id)).toEqual([
      'api_key.expiry_warning 30',
      'api_key.expiry_warning 7',
      'api_key.expiry_warning 1',
    ]);
  });

  it('re-arms for the new date when a PUT moves expires_at', async () => {
    // Arrange
    const { accountId, ownerKey } = await newAccount();
    const { id } = await createKey(ownerKey, { expires_at: inDays(6).toISOString() });
    await scan(EXPIRY);
    const later = inDays(25).toISOString();
    const put = await call('PUT', `/v3/api_keys/${id}`, {
      key: ownerKey,
      body: { name: 'ci', scopes: ['alerts.read'], expires_at: later },
    });
    expect(put.status).toBe(200);

    // Act
    await scan(EXPIRY);
    await scan(EXPIRY);

    // Assert
    expect(await warningsOf(accountId, id)).toEqual([
      'api_key.expiry_warning 7',
      'api_key.expiry_warning 30',
    ]);
    const { events } = await defaultDeps().repo.listEvents(accountId, {
      limit: 1,
      targetKeyId: id,
    });
    expect(events[0]?.details).toEqual({ name: 'ci', days: '30', expires_at: later });
  });
});

describe('the scheduled function', () => {
  it('scans with the deployment’s settings (default: expiry warnings) and the process’s tables', async () => {
    // Arrange
    const { accountId, ownerKey } = await newAccount();
    const { id } = await createKey(ownerKey, { expires_at: inDays(0.5).toISOString() });

    // Act: as EventBridge invokes it.
    await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' });

    // Assert
    expect(await warningsOf(accountId, id)).toEqual(['api_key.expiry_warning 1']);
  });
});

describe('two scans racing', () => {
  it('record each warning exactly once, and disable each key once', async () => {
    // Arrange: keys due for an expiry warning and (91 days on) for an unused one.
    const { accountId, ownerKey } = await newAccount();
    const keys = [];
    for (let i = 0; i < 12; i++) {
      keys.push(await createKey(ownerKey, { expires_at: inDays(92).toISOString() }));
    }
    const settings: KeyWarningSettings = { ...DISABLING, expiryDays: [7] };
    const at = inDays(91);

    // Act
    const outcomes = await Promise.all([
      scan(settings, at),
      scan(settings, at),
      scan(settings, at),
    ]);

    // Assert
    for (const { id } of keys) {
      expect(await warningsOf(accountId, id)).toEqual([
        'api_key.expiry_warning 7',
        'api_key.unused_warning never',
        'api_key.disabled_unused never',
      ]);
    }
    const mine = (n: (o: (typeof outcomes)[number]) => number) =>
      outcomes.reduce((sum, o) => sum + n(o), 0);
    expect(mine((o) => o.skipped)).toBeGreaterThan(0);
    expect(mine((o) => o.disabled)).toBeGreaterThanOrEqual(keys.length);
  });
});

describe('unused keys disabled', () => {
  it('refuses a disabled key at once, even one whose allow the authorizer cache holds', async () => {
    // Arrange: the key's allow is cached (a second call is a cache hit).
    const { ownerKey } = await newAccount();
    const { key } = await createKey(ownerKey);
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);
    const hits = emulator.stats.cacheHits;
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);
    expect(emulator.stats.cacheHits).toBe(hits + 1);

    // Act
    const outcome = await scan(DISABLING, inDays(91));
    const after = await call('GET', '/v3/scopes', { key });

    // Assert
    expect(outcome.disabled).toBeGreaterThan(0);
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ errors: [{ field: null, message: 'authorization required' }] });
  });

  it('needs the flush: without it the cached allow would still serve the disabled key', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const { key } = await createKey(ownerKey);
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);

    // Act
    await scan(DISABLING, inDays(91), { flush: async () => {} });
    const cached = await call('GET', '/v3/scopes', { key });
    emulator.flushAuthorizerCache();
    const verified = await call('GET', '/v3/scopes', { key });

    // Assert
    expect(cached.status).toBe(200);
    expect(verified.status).toBe(401);
  });

  it('never disables the owner key, only warns about it', async () => {
    // Arrange
    const { accountId, ownerKey, owner } = await newAccount();

    // Act
    await scan(DISABLING, inDays(91));
    const res = await call('GET', '/v3/api_keys', { key: ownerKey });

    // Assert
    expect(res.status).toBe(200);
    expect(await warningsOf(accountId, owner.keyId)).toEqual(['api_key.unused_warning never']);
  });

  it('is enabled again by an operator, and not disabled again until used and idle again', async () => {
    // Arrange: the key is disabled, and its refusal cached.
    const { accountId, ownerKey } = await newAccount();
    const { key, id } = await createKey(ownerKey);
    await scan(DISABLING, inDays(91));
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(401);

    // Act
    const enabled = await enableKeyByOperator(scanDeps(), accountId, id);
    const again = await enableKeyByOperator(scanDeps(), accountId, id);
    await scan(DISABLING, inDays(91));
    const works = await call('GET', '/v3/scopes', { key });
    await scan(DISABLING, inDays(200));
    const idleAgain = await call('GET', '/v3/scopes', { key });

    // Assert
    expect([enabled, again]).toEqual(['done', 'not_disabled']);
    expect([works.status, idleAgain.status]).toEqual([200, 401]);
    const history = await warningsOf(accountId, id);
    expect(history.slice(0, 3)).toEqual([
      'api_key.unused_warning never',
      'api_key.disabled_unused never',
      'api_key.enabled operator',
    ]);
    expect(history.slice(3).map((h) => h.split(' ')[0])).toEqual([
      'api_key.unused_warning',
      'api_key.disabled_unused',
    ]);
  });

  it('answers another account’s key as an unknown one when enabling, and changes nothing', async () => {
    // Arrange
    const mine = await newAccount();
    const theirs = await newAccount();
    const { key, id } = await createKey(theirs.ownerKey);
    await scan(DISABLING, inDays(91));

    // Act
    const outcome = await enableKeyByOperator(scanDeps(), mine.accountId, id);
    const unknown = await enableKeyByOperator(scanDeps(), mine.accountId, 'AAAAAAAAAAAAAAAAAAAAAA');

    // Assert
    expect(outcome).toBe('not_found');
    expect(unknown).toBe('not_found');
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(401);
  });

  it('does not disable a key used after the scan read it', async () => {
    // Arrange: the scan's read, then a use, then its write.
    const { accountId, ownerKey } = await newAccount();
    const { key, id } = await createKey(ownerKey);
    const deps = scanDeps();
    const stale = (await collectKeys(deps.store)).find((k) => k.key.keyId === id);
    if (!stale) throw new Error('the scan did not read the key');
    const [warning] = warningsDue(inDays(91), stale, DISABLING);
    if (!warning) throw new Error('expected a warning');
    emulator.flushAuthorizerCache();
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);

    // Act
    const recorded = await deps.store.recordWarning(warning, [], new Date().toISOString());

    // Assert
    expect(recorded).toBe(false);
    emulator.flushAuthorizerCache();
    expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);
    expect(await warningsOf(accountId, id)).toEqual([]);
  });
});

async function collectKeys(store: DynamoKeyWarningStore) {
  const all = [];
  let after: string | undefined;
  do {
    const page = await store.scanKeys(after);
    all.push(...page.keys);
    after = page.next;
  } while (after !== undefined);
  return all;
}

describe('an item that cannot be read', () => {
  it('is skipped, and every other key is still warned', async () => {
    // Arrange: a damaged item (limits that cannot work) beside a key 3 days from expiry
    const { accountId, ownerKey } = await newAccount();
    const expiring = await createKey(ownerKey, { expires_at: inDays(3).toISOString() });
    const now = new Date().toISOString();
    await dynamoDocumentClient().send(
      new PutCommand({
        TableName: TABLE_NAMES.keys,
        Item: {
          keyId: `damaged${randomBytes(8).toString('hex')}`,
          accountId,
          name: 'damaged',
          type: 'general',
          scopes: ['alerts.read'],
          keyHash: 'x',
          createdAt: now,
          updatedAt: now,
          version: 1,
          expiresAt: inDays(3).toISOString(),
          limits: { quota: { perDay: 10, perMonth: 5 } },
        },
      }),
    );

    // Act
    await scan(EXPIRY);

    // Assert
    expect(await warningsOf(accountId, expiring.id)).toEqual(['api_key.expiry_warning 7']);
  });
});

describe('a storage fault', () => {
  it('fails the scan, and the next scan catches up without recording anything twice', async () => {
    // Arrange
    const { accountId, ownerKey } = await newAccount();
    const first = await createKey(ownerKey, { expires_at: inDays(3).toISOString() });
    const second = await createKey(ownerKey, { expires_at: inDays(3).toISOString() });
    let writes = 0;
    const name = `fault-${randomBytes(4).toString('hex')}`;
    // The second warning's transaction fails as a network fault would.
    dynamoDocumentClient().middlewareStack.add(
      (next) => async (args) => {
        if ('TransactItems' in (args.input as object) && ++writes === 2) {
          throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );

    // Act
    let failure: unknown;
    try {
      await scan(EXPIRY);
    } catch (error) {
      failure = error;
    } finally {
      dynamoDocumentClient().middlewareStack.remove(name);
    }
    await scan(EXPIRY);
    await scan(EXPIRY);

    // Assert
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    for (const { id } of [first, second]) {
      expect(await warningsOf(accountId, id)).toEqual(['api_key.expiry_warning 7']);
    }
  });

  it('still flushes for the keys it disabled before the fault', async () => {
    // Arrange: two keys whose allows are cached; the second disabling fails.
    const { ownerKey } = await newAccount();
    const keys = [await createKey(ownerKey), await createKey(ownerKey)];
    for (const { key } of keys) expect((await call('GET', '/v3/scopes', { key })).status).toBe(200);
    let disablings = 0;
    const name = `fault-${randomBytes(4).toString('hex')}`;
    dynamoDocumentClient().middlewareStack.add(
      (next) => async (args) => {
        const update = (
          args.input as {
            TransactItems?: { Update?: { UpdateExpression?: string; Key?: { keyId?: string } } }[];
          }
        ).TransactItems?.[0]?.Update;
        const mine = keys.some((k) => k.id === update?.Key?.keyId);
        if (mine && update?.UpdateExpression?.includes('disabledAt') && ++disablings === 2) {
          throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );

    // Act
    const failed = scan(DISABLING, inDays(300)).finally(() =>
      dynamoDocumentClient().middlewareStack.remove(name),
    );
    await expect(failed).rejects.toBeInstanceOf(ServiceUnavailableError);
    const statuses = [];
    for (const { key } of keys) statuses.push((await call('GET', '/v3/scopes', { key })).status);

    // Assert: the one disabled is refused at once, the other is still served (not disabled yet).
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it('fails the scan when the keys table cannot be read', async () => {
    const store = new DynamoKeyWarningStore(dynamoDocumentClient(), {
      ...TABLE_NAMES,
      keys: `${PREFIX}-missing`,
    });

    await expect(
      scanKeyWarnings(
        { now: () => new Date(), store, authorizerCache: new LocalAuthorizerCache() },
        EXPIRY,
      ),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('what a scan costs', () => {
  it('reads keys of at most 600 bytes: 0.5 read units per 4 KB, eventually consistent', async () => {
    // Arrange: keys with a long name, an expiry, a last use and every marker.
    const { ownerKey } = await newAccount();
    for (let i = 0; i < 5; i++) {
      const { key } = await createKey(ownerKey, {
        name: `a key with a realistic name ${i}`,
        expires_at: inDays(5).toISOString(),
      });
      await call('GET', '/v3/scopes', { key });
    }
    await scan({ ...DISABLING, expiryDays: [7] }, inDays(4.5));
    const sizes: number[] = [];
    let after: Record<string, unknown> | undefined;

    // Act
    do {
      const page = await dynamoDocumentClient().send(
        new ScanCommand({ TableName: TABLE_NAMES.keys, ExclusiveStartKey: after }),
      );
      sizes.push(...(page.Items ?? []).map(itemBytes));
      after = page.LastEvaluatedKey;
    } while (after);

    // Assert: docs/limits.md#warnings prices a scan from this bound.
    expect(sizes.length).toBeGreaterThan(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(600);
  });
});

/**
 * An item's size as DynamoDB counts it: each attribute's name and value in UTF-8 bytes; a number
 * about one byte per two significant digits plus one; a boolean one byte; a list or map three
 * bytes plus one per element (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 */
function itemBytes(item: Record<string, unknown>): number {
  const valueBytes = (value: unknown): number => {
    if (typeof value === 'string') return Buffer.byteLength(value);
    if (typeof value === 'number')
      return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
    if (typeof value === 'boolean' || value === null) return 1;
    if (Array.isArray(value)) return 3 + value.reduce((n, v) => n + 1 + valueBytes(v), 0);
    if (typeof value === 'object')
      return 3 + itemBytes(value as Record<string, unknown>) + Object.keys(value).length;
    return 0;
  };
  return Object.entries(item).reduce(
    (n, [name, value]) => n + Buffer.byteLength(name) + valueBytes(value),
    0,
  );
}

describe('keygate warnings scan, keygate keys enable', () => {
  useMockedStack('kg-cli-warnings-', PREFIX);
  const stack = ['--stack', 'Keygate'];
  const tempDir = tempDirs();

  it('scans at --now with the config’s warnings, and an operator enables the key it disabled', async () => {
    // Arrange: a config that disables keys unused for 90 days.
    const dir = tempDir('kg-cli-warnings-config-');
    const config = `${dir}/keygate.config.mjs`;
    writeFileSync(
      config,
      'export default { warnings: { unusedDays: 90, disableUnused: true } };\n',
    );
    process.env.KEYGATE_CONFIG = config;
    const account = `cli-warn-${Date.now()}`;
    await run(['bootstrap', '--account', account, '--json', ...stack]);
    const created = JSON.parse(
      (await run(['keys', 'create', '--account', account, '--name', 'ci', '--json', ...stack])).out,
    ) as { api_key_id: string };

    // Act
    const now = inDays(91).toISOString();
    const scanned = await run(['warnings', 'scan', '--now', now, '--json', ...stack]);
    const enable = ['keys', 'enable', '--account', account, '--id', created.api_key_id];
    const enabled = await run([...enable, ...stack]);
    const twice = await run([...enable, ...stack]);
    const badNow = await run(['warnings', 'scan', '--now', 'tomorrow', ...stack]);
    const events = JSON.parse(
      (await run(['events', '--account', account, '--json', ...stack])).out,
    ) as {
      'detail-type': string;
      detail: { api_key_id: string };
    }[];

    // Assert
    expect(scanned.code).toBe(0);
    expect(JSON.parse(scanned.out)).toMatchObject({ unusedWarnings: expect.any(Number) });
    expect(JSON.parse(scanned.out).disabled).toBeGreaterThan(0);
    expect(enabled.code).toBe(0);
    expect(enabled.out).toContain(`Enabled ${created.api_key_id}`);
    expect([twice.code, twice.err]).toEqual([
      1,
      `keygate: the key ${created.api_key_id} is not disabled`,
    ]);
    expect(badNow.code).toBe(2);
    expect(
      events.filter((e) => e.detail.api_key_id === created.api_key_id).map((e) => e['detail-type']),
    ).toEqual([
      'api_key.enabled',
      'api_key.disabled_unused',
      'api_key.unused_warning',
      'api_key.created',
    ]);
  });
});

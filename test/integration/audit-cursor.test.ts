import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { localClient } from '../../local/dynamodb-local.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import {
  CURSOR_KEY_PK,
  DynamoKeyRepository,
} from '../../shared/adapters/dynamodb/keys-repository.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { AuditEventList, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { ACCOUNTS_TABLE, createTableInput, tableNames } from '../../shared/tables.js';
import { type CallResult, countDynamoCommands, createGateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';
import { bodyAs } from '../helpers/typed-body.js';

/**
 * Security issue #12, item 4: the audit log's cursor, through the API Gateway emulator (the real
 * authorizer, its cache on, the real handlers on DynamoDB Local).
 *
 * - Another account's key ID answers exactly as an unknown one, whatever the limit: no event, no
 *   cursor, the same number and kind of storage calls.
 * - A cursor is opaque and authenticated: it carries nothing readable, and a tampered, truncated,
 *   foreign (another account's, another query's) or garbage one is refused with 400 before any
 *   storage query.
 * - Paging still returns every event exactly once, newest first.
 * - The cursor key is one item of the accounts table, created once (race-safe) and read once
 *   per process, and the only item the events function touches there.
 */

const { call } = createGateway({ cacheTtlSeconds: 300 });

const EVENTS = '/v3/api_keys/events';
const INVALID = { errors: [{ field: 'cursor', message: 'cursor is not valid' }] };

interface EventView {
  id: string;
  time: string;
  action: string;
  api_key_id: string;
}
interface EventsBody {
  result: EventView[];
  next_cursor: string | null;
}

const bodyOf = (res: CallResult): EventsBody => bodyAs(AuditEventList, res.body, 'events');

/** A well-formed key ID (16 random bytes, as every key's) that no account holds. */
const unknownKeyId = () => randomBytes(16).toString('base64url');

async function createKey(owner: string, body: Record<string, unknown> = {}) {
  const res = await call(
    'POST',
    '/v3/api_keys',
    { key: owner, body: { name: 'k', scopes: ['mail.send'], ...body } },
    CreatedApiKey,
  );
  expect(res.status).toBe(201);
  return res.body;
}

/** A key with `events` audit events: its creation, then renames. */
async function keyWithEvents(account: TestAccount, events: number) {
  const key = await createKey(account.ownerKey);
  for (let i = 1; i < events; i++) {
    const res = await call('PATCH', `/v3/api_keys/${key.api_key_id}`, {
      key: account.ownerKey,
      body: { name: `renamed ${i}` },
    });
    expect(res.status).toBe(200);
  }
  return key;
}

async function events(owner: string, query: Record<string, string>) {
  return call('GET', EVENTS, { key: owner, query });
}

/** Pages through a query to its end; every page but the last carries a cursor. */
async function pageThrough(owner: string, query: Record<string, string>) {
  const pages: EventsBody[] = [];
  let cursor: string | null = null;
  do {
    const res = await events(owner, { ...query, ...(cursor === null ? {} : { cursor }) });
    expect(res.status).toBe(200);
    pages.push(bodyOf(res));
    cursor = bodyOf(res).next_cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor !== null);
  return pages;
}

/** What a handler sent to DynamoDB for one request, by kind (values aside). */
async function storageCallsOf(request: () => Promise<CallResult>) {
  const counter = countDynamoCommands();
  const res = await request();
  const calls = counter.inputs.map((input) =>
    [
      input.IndexName === undefined ? 'table' : `index ${String(input.IndexName)}`,
      ...Object.keys(input).sort(),
      `Limit=${String(input.Limit)}`,
    ].join(' '),
  );
  return { res, calls };
}

/**
 * `value` in clear, and every base64 and base64url text of it, at each of the three alignments
 * it may have inside a longer encoded text (only the characters that encode its bytes alone).
 */
function encodingsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const found = [value];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = Buffer.concat([Buffer.alloc(shift), bytes]);
    const start = Math.ceil((shift * 8) / 6);
    const end = Math.floor((shifted.length * 8) / 6);
    for (const encoding of ['base64', 'base64url'] as const) {
      found.push(shifted.toString(encoding).slice(start, end));
    }
  }
  return found;
}

function expectNothingReadable(cursor: string, secrets: readonly string[]) {
  const bytes = Buffer.from(cursor, 'base64url');
  for (const secret of secrets) {
    for (const text of encodingsOf(secret)) {
      expect(cursor, `cursor text holds ${JSON.stringify(secret)}`).not.toContain(text);
    }
    expect(bytes.includes(Buffer.from(secret, 'utf8')), `cursor bytes hold ${secret}`).toBe(false);
  }
}

describe("another account's key", () => {
  it('answers exactly as an unknown key ID, whatever the limit, with the same storage calls', async () => {
    // Arrange: account B's key has 4 events; account A asks about it
    const a = await newAccount();
    const b = await newAccount();
    const foreign = await keyWithEvents(b, 4);
    const own = await events(b.ownerKey, { api_key_id: foreign.api_key_id });
    expect(bodyOf(own).result).toHaveLength(4);
    await events(a.ownerKey, {}); // the authorizer's result is cached from here on

    for (const limit of ['1', '2', '3', '4', '5', '100']) {
      // Act
      const asForeign = await storageCallsOf(() =>
        events(a.ownerKey, { api_key_id: foreign.api_key_id, limit }),
      );
      const asUnknown = await storageCallsOf(() =>
        events(a.ownerKey, { api_key_id: unknownKeyId(), limit }),
      );

      // Assert
      expect(asForeign.res.text, `limit ${limit}`).toBe('{"result":[],"next_cursor":null}');
      expect(asForeign.res.status).toBe(200);
      expect(asForeign.res.status).toBe(asUnknown.res.status);
      expect(asForeign.res.text).toBe(asUnknown.res.text);
      expect(asForeign.res.headers).toEqual(asUnknown.res.headers);
      expect(asForeign.calls, `storage calls at limit ${limit}`).toEqual(asUnknown.calls);
      expect(asForeign.calls).toHaveLength(1);
    }
  });

  it('answers as an unknown key for an ID shared by many accounts (a placeholder, not a key)', async () => {
    // Arrange: B records a refused escalation on create, whose event names no key (`-`)
    const a = await newAccount();
    const b = await newAccount();
    const admin = await createKey(b.ownerKey, { scopes: ['api_keys.create', 'api_keys.read'] });
    const refused = await call('POST', '/v3/api_keys', {
      key: admin.api_key,
      body: { name: 'x', scopes: ['mail.send'] },
    });
    expect(refused.status).toBe(403);

    for (const limit of ['1', '2']) {
      // Act
      const res = await events(a.ownerKey, { api_key_id: '-', limit });

      // Assert
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"result":[],"next_cursor":null}');
    }
  });
});

describe('cursors', () => {
  it("refuses another account's cursor before any storage call", async () => {
    // Arrange
    const a = await newAccount();
    const b = await newAccount();
    const key = await keyWithEvents(a, 3);
    const whole = bodyOf(await events(a.ownerKey, { limit: '1' })).next_cursor;
    const perKey = bodyOf(
      await events(a.ownerKey, { limit: '1', api_key_id: key.api_key_id }),
    ).next_cursor;
    expect(whole).toEqual(expect.any(String));
    expect(perKey).toEqual(expect.any(String));
    await events(b.ownerKey, {}); // the authorizer's result is cached from here on

    for (const query of [
      { cursor: whole as string } as Record<string, string>,
      { cursor: perKey as string },
      { cursor: perKey as string, api_key_id: key.api_key_id },
      { cursor: whole as string, api_key_id: key.api_key_id },
    ]) {
      // Act
      const { res, calls } = await storageCallsOf(() => events(b.ownerKey, query));

      // Assert
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
      expect(calls).toEqual([]);
    }
  });

  it("refuses a cursor of one key's history for another key, or for the whole account, and back", async () => {
    // Arrange
    const a = await newAccount();
    const x = await keyWithEvents(a, 3);
    const y = await keyWithEvents(a, 3);
    const ofX = bodyOf(await events(a.ownerKey, { limit: '1', api_key_id: x.api_key_id }))
      .next_cursor as string;
    const ofAccount = bodyOf(await events(a.ownerKey, { limit: '1' })).next_cursor as string;

    // Act
    const refused = [
      await events(a.ownerKey, { cursor: ofX, api_key_id: y.api_key_id }),
      await events(a.ownerKey, { cursor: ofX, api_key_id: unknownKeyId() }),
      await events(a.ownerKey, { cursor: ofX }),
      await events(a.ownerKey, { cursor: ofAccount, api_key_id: x.api_key_id }),
    ];
    const accepted = [
      await events(a.ownerKey, { cursor: ofX, api_key_id: x.api_key_id }),
      await events(a.ownerKey, { cursor: ofAccount }),
    ];

    // Assert
    for (const res of refused) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
    }
    for (const res of accepted) expect(res.status).toBe(200);
  });

  it('refuses a cursor with any byte or character changed, truncated, extended or garbage, before any storage call', async () => {
    // Arrange
    const a = await newAccount();
    await keyWithEvents(a, 3);
    const cursor = bodyOf(await events(a.ownerKey, { limit: '1' })).next_cursor as string;
    const bytes = Buffer.from(cursor, 'base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const tampered = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] ?? 0) ^ mask;
        tampered.add(copy.toString('base64url'));
      }
    }
    for (let i = 0; i < cursor.length; i++) {
      const next = alphabet[(alphabet.indexOf(cursor[i] ?? 'A') + 1) % alphabet.length];
      tampered.add(`${cursor.slice(0, i)}${next}${cursor.slice(i + 1)}`);
    }
    tampered.add(cursor.slice(0, -1));
    tampered.add(bytes.subarray(0, -1).toString('base64url'));
    tampered.add(bytes.subarray(1).toString('base64url'));
    tampered.add(bytes.subarray(0, 29).toString('base64url'));
    tampered.add(Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'));
    tampered.add(`${cursor}A`);
    tampered.add(`${cursor}=`);
    tampered.add(`${cursor}==`);
    tampered.add(Buffer.from(cursor, 'base64url').toString('base64'));
    tampered.add(` ${cursor}`);
    tampered.add(cursor.toUpperCase());
    tampered.add(randomBytes(bytes.length).toString('base64url'));
    tampered.add(Buffer.from('{"accountId":"x","eventId":"y"}').toString('base64url'));
    for (const garbage of ['', 'A', '-', '%%%', 'null', '{}', 'AAAA', '😀', 'a'.repeat(2048)]) {
      tampered.add(garbage);
    }
    tampered.delete(cursor);
    await events(a.ownerKey, {}); // the authorizer's result is cached from here on

    for (const forged of tampered) {
      // Act
      const { res, calls } = await storageCallsOf(() =>
        events(a.ownerKey, { limit: '1', cursor: forged }),
      );

      // Assert
      expect(res.status, JSON.stringify(forged)).toBe(400);
      expect(res.body).toEqual(INVALID);
      expect(calls).toEqual([]);
    }
    expect((await events(a.ownerKey, { limit: '1', cursor })).status).toBe(200);
  });

  it('carry neither the account ID nor any event ID or time, in clear or in base64', async () => {
    // Arrange
    const a = await newAccount();
    const key = await keyWithEvents(a, 4);
    await keyWithEvents(a, 2);

    // Act
    const pages = [
      ...(await pageThrough(a.ownerKey, { limit: '1' })),
      ...(await pageThrough(a.ownerKey, { limit: '2', api_key_id: key.api_key_id })),
    ];

    // Assert
    const seen = pages.flatMap((p) => p.result);
    const secrets = [
      a.accountId,
      a.owner.keyId,
      ...seen.flatMap((e) => [e.id, e.time, ...e.id.split('#')]),
    ];
    const cursors = pages.flatMap((p) => (p.next_cursor === null ? [] : [p.next_cursor]));
    expect(cursors.length).toBeGreaterThanOrEqual(8);
    for (const cursor of cursors) expectNothingReadable(cursor, secrets);
  });

  it('page through every event exactly once, newest first, for the account and for one key', async () => {
    // Arrange
    const a = await newAccount();
    const key = await keyWithEvents(a, 5);
    await keyWithEvents(a, 3);
    const all = bodyOf(await events(a.ownerKey, { limit: '100' }));
    const history = bodyOf(await events(a.ownerKey, { limit: '100', api_key_id: key.api_key_id }));
    expect(all.result).toHaveLength(8);
    expect(all.next_cursor).toBeNull();
    expect(history.result).toHaveLength(5);
    expect(history.result.every((e) => e.api_key_id === key.api_key_id)).toBe(true);
    const newestFirst = (list: EventView[]) =>
      [...list].sort((x, y) => (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
    expect(all.result).toEqual(newestFirst(all.result));

    for (const limit of ['1', '2', '3', '7']) {
      // Act
      const wholePages = await pageThrough(a.ownerKey, { limit });
      const keyPages = await pageThrough(a.ownerKey, { limit, api_key_id: key.api_key_id });

      // Assert
      expect(wholePages.flatMap((p) => p.result)).toEqual(all.result);
      expect(keyPages.flatMap((p) => p.result)).toEqual(history.result);
      for (const page of [...wholePages, ...keyPages]) {
        expect(page.result.length).toBeLessThanOrEqual(Number(limit));
      }
    }
  });
});

/** The `pk` a command names (as given to the document client, or marshalled: `{ S: … }`). */
function partitionKeyOf(input: Record<string, unknown>): unknown {
  const pk = ((input.Key ?? input.Item) as { pk?: unknown } | undefined)?.pk;
  return typeof pk === 'object' && pk !== null ? (pk as { S?: unknown }).S : pk;
}

describe('the cursor key', () => {
  const endpoint = () => inject('dynamodbEndpoint');
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A repository of its own, whose commands are recorded, on the given accounts table. */
  function ownRepository(accounts: string) {
    const client = createDocumentClient({ region: 'local', endpoint: endpoint() });
    cleanup.push(async () => client.destroy());
    const commands: { name: string; input: Record<string, unknown> }[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push({
          name: String(context.commandName),
          input: args.input as Record<string, unknown>,
        });
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    const tables = { ...tableNames(inject('tablePrefix')), accounts };
    return { client, commands, repo: new DynamoKeyRepository(client, tables) };
  }

  /** An empty accounts table of the test's own: a deployment whose cursor key does not exist. */
  async function freshAccountsTable(): Promise<string> {
    const name = `keygate-cursor-${randomBytes(6).toString('hex')}-accounts`;
    const admin = localClient(endpoint());
    await admin.send(new CreateTableCommand(createTableInput(ACCOUNTS_TABLE, name)));
    cleanup.push(async () => {
      await admin.send(new DeleteTableCommand({ TableName: name }));
      admin.destroy();
    });
    return name;
  }

  it('is created once when first uses race, the same for every process, then read once per process', async () => {
    // Arrange
    const table = await freshAccountsTable();
    const processes = Array.from({ length: 6 }, () => ownRepository(table));

    // Act
    const keys = await Promise.all(processes.map(({ repo }) => repo.cursorKey()));
    const again = await Promise.all(processes.map(({ repo }) => repo.cursorKey()));

    // Assert
    const first = Buffer.from(keys[0] ?? []);
    expect(first).toHaveLength(32);
    for (const key of [...keys, ...again]) expect(Buffer.from(key).equals(first)).toBe(true);
    const { client } = ownRepository(table);
    const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
    expect(Items).toEqual([
      { pk: CURSOR_KEY_PK, cursorKey: first.toString('base64url'), createdAt: expect.any(String) },
    ]);
    const puts = processes
      .flatMap(({ commands }) => commands)
      .filter((c) => c.name === 'PutItemCommand');
    expect(puts.length).toBeGreaterThanOrEqual(1);
    for (const { commands } of processes) {
      // One read, and at most a put and the winner's read: never again once it has the key.
      expect(commands.length).toBeLessThanOrEqual(3);
      expect(commands[0]?.name).toBe('GetItemCommand');
      for (const { input } of commands) {
        expect(input.TableName).toBe(table);
        const pk = partitionKeyOf(input);
        // The one item the events function's role may touch (`ForAllValues:StringEquals` on
        // `dynamodb:LeadingKeys`, test/infra/functions.test.ts).
        expect(pk).toBe(CURSOR_KEY_PK);
      }
      for (const put of commands.filter((c) => c.name === 'PutItemCommand')) {
        expect(put.input.ConditionExpression).toBe('attribute_not_exists(pk)');
      }
    }
  });

  it("on a lost race, uses the winner's key and never overwrites it", async () => {
    // Arrange: another process creates the key between this one's read and its put
    const table = await freshAccountsTable();
    const { client, repo, commands } = ownRepository(table);
    const winner = randomBytes(32).toString('base64url');
    const rival = ownRepository(table).client;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand') {
          await rival.send(
            new PutCommand({ TableName: table, Item: { pk: CURSOR_KEY_PK, cursorKey: winner } }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'rivalWinsTheRace' },
    );

    // Act
    const key = Buffer.from(await repo.cursorKey());

    // Assert
    expect(key.toString('base64url')).toBe(winner);
    expect(commands.map((c) => c.name)).toEqual([
      'GetItemCommand',
      'PutItemCommand',
      'GetItemCommand',
    ]);
    const stored = await rival.send(
      new GetCommand({ TableName: table, Key: { pk: CURSOR_KEY_PK } }),
    );
    expect(stored.Item).toEqual({ pk: CURSOR_KEY_PK, cursorKey: winner });
  });

  it('is the one the deployment already has: a new process reads it, never replaces it', async () => {
    // Arrange: the handlers' process has its key
    const existing = Buffer.from(await defaultDeps().repo.cursorKey());
    const { repo, commands } = ownRepository(tableNames(inject('tablePrefix')).accounts);

    // Act
    const key = Buffer.from(await repo.cursorKey());

    // Assert
    expect(key.equals(existing)).toBe(true);
    expect(commands.map((c) => c.name)).toEqual(['GetItemCommand']);
  });

  it('fails closed on a damaged item (503), never replaces it, and reads again on the next call', async () => {
    // Arrange
    const table = await freshAccountsTable();
    const { client, repo } = ownRepository(table);
    await client.send(
      new PutCommand({ TableName: table, Item: { pk: CURSOR_KEY_PK, cursorKey: 'too-short' } }),
    );

    // Act
    const damaged = await repo.cursorKey().then(
      () => undefined,
      (error: unknown) => error,
    );
    const stored = await client.send(
      new GetCommand({ TableName: table, Key: { pk: CURSOR_KEY_PK } }),
    );
    const repaired = randomBytes(32);
    await client.send(
      new PutCommand({
        TableName: table,
        Item: { pk: CURSOR_KEY_PK, cursorKey: repaired.toString('base64url') },
      }),
    );
    const key = await repo.cursorKey();

    // Assert
    expect(damaged).toBeInstanceOf(ServiceUnavailableError);
    expect(stored.Item).toEqual({ pk: CURSOR_KEY_PK, cursorKey: 'too-short' });
    expect(Buffer.from(key).equals(repaired)).toBe(true);
  });
});

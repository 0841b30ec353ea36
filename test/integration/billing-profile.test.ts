import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../../shared/adapters/dynamodb/keys-repository.js';
import type { Caller } from '../../shared/domain/api-keys.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { ALL_SCOPES, isBillingScope } from '../../shared/domain/scopes.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { BillingProfile, PLAN_READ_ONLY_MESSAGE } from '../../shared/schemas/billing.js';
import { tableNames } from '../../shared/tables.js';
import { callerFor, errorsOf, invoke, newAccount } from '../helpers/harness.js';

/** A document client and repository of the test's own, so it can count or fail their calls. */
function ownRepository() {
  const client = createDocumentClient({ region: 'local', endpoint: inject('dynamodbEndpoint') });
  const tables = tableNames(inject('tablePrefix'));
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, tables, commands, repo: new DynamoKeyRepository(client, tables) };
}

const clients: { destroy(): void }[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function createKey(owner: Caller, scopes?: string[]) {
  const res = await invoke(
    'createApiKey',
    { caller: owner, body: { name: 'k', ...(scopes === undefined ? {} : { scopes }) } },
    CreatedApiKey,
  );
  expect(res.status).toBe(201);
  const created = res.body;
  return { ...created, caller: await callerFor(created.api_key) };
}

async function readProfile(caller: Caller) {
  const res = await invoke('getBillingProfile', { caller }, BillingProfile);
  expect(res.status).toBe(200);
  return res.body;
}

const FORBIDDEN = { errors: [{ field: null, message: 'access forbidden' }] };

describe('GET /health', () => {
  it('answers 200 {"status":"ok"} without any caller', async () => {
    // Act
    const res = await invoke('getHealth');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('GET /v3/billing/profile', () => {
  it("answers the owner the account's default plan and an empty contact", async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke('getBillingProfile', { caller: owner });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ plan: 'free', contact: {}, updated_at: null });
  });

  it('refuses a general key holding every general scope (Full Access) with 403', async () => {
    // Arrange
    const { owner } = await newAccount();
    const general = await createKey(owner);

    // Act
    const res = await invoke('getBillingProfile', { caller: general.caller });

    // Assert
    expect(general.type).toBe('general');
    expect(general.scopes).toEqual(ALL_SCOPES.filter((s) => !isBillingScope(s)));
    expect(res.status).toBe(403);
    expect(res.body).toEqual(FORBIDDEN);
  });

  it('refuses a caller whose scopes lack billing.read, even a billing key', async () => {
    // Arrange
    const { owner } = await newAccount();
    const billing = await createKey(owner, ['billing.update']);

    // Act
    const res = await invoke('getBillingProfile', { caller: billing.caller });

    // Assert
    expect(res.status).toBe(403);
  });

  it('answers 401 without a caller', async () => {
    // Act
    const res = await invoke('getBillingProfile');

    // Assert
    expect(res.status).toBe(401);
  });
});

describe('PATCH /v3/billing/profile', () => {
  it('lets the owner set fields, then clear one while keeping the others', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const first = await invoke('updateBillingProfile', {
      caller: owner,
      body: { first_name: ' Ada ', email: 'ada@example.com', country: 'gb', city: 'London' },
    });
    const second = await invoke('updateBillingProfile', {
      caller: owner,
      body: { city: null, company: 'Engines Ltd' },
    });

    // Assert
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      plan: 'free',
      contact: { first_name: 'Ada', email: 'ada@example.com', city: 'London', country: 'GB' },
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({
      plan: 'free',
      contact: {
        first_name: 'Ada',
        email: 'ada@example.com',
        company: 'Engines Ltd',
        country: 'GB',
      },
      updated_at: expect.any(String),
    });
    expect(await readProfile(owner)).toEqual(second.body);
  });

  it('lets a billing key with billing.read and billing.update read and update', async () => {
    // Arrange
    const { owner } = await newAccount();
    const billing = await createKey(owner, ['billing.read', 'billing.update']);

    // Act
    const read = await invoke('getBillingProfile', { caller: billing.caller });
    const updated = await invoke('updateBillingProfile', {
      caller: billing.caller,
      body: { last_name: 'Lovelace', phone: '+44 20 7946 0000' },
    });

    // Assert
    expect(billing.type).toBe('billing');
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ plan: 'free', contact: {}, updated_at: null });
    expect(updated.status).toBe(200);
    expect((await readProfile(owner)).contact).toEqual({
      last_name: 'Lovelace',
      phone: '+44 20 7946 0000',
    });
  });

  it('refuses a billing key holding only billing.read with 403 and writes nothing', async () => {
    // Arrange
    const { owner } = await newAccount();
    const reader = await createKey(owner, ['billing.read']);

    // Act
    const res = await invoke('updateBillingProfile', {
      caller: reader.caller,
      body: { first_name: 'Mallory' },
    });

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual(FORBIDDEN);
    expect(await readProfile(owner)).toEqual({ plan: 'free', contact: {}, updated_at: null });
  });

  it('refuses a general key holding every general scope (Full Access) with 403', async () => {
    // Arrange
    const { owner } = await newAccount();
    const general = await createKey(owner);

    // Act
    const res = await invoke('updateBillingProfile', {
      caller: general.caller,
      body: { first_name: 'Mallory' },
    });

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual(FORBIDDEN);
    expect(await readProfile(owner)).toEqual({ plan: 'free', contact: {}, updated_at: null });
  });

  it.each([
    ['the plan', { plan: 'enterprise' }, [{ field: 'plan', message: PLAN_READ_ONLY_MESSAGE }]],
    [
      'the plan alongside valid fields',
      { plan: 'enterprise', city: 'Paris' },
      [{ field: 'plan', message: PLAN_READ_ONLY_MESSAGE }],
    ],
    [
      'an invalid email',
      { email: 'not-an-email', city: 'Paris' },
      [{ field: 'email', message: 'email must be a valid email address' }],
    ],
    [
      'a 3-letter country',
      { country: 'GBR' },
      [{ field: 'country', message: 'country must be a 2-letter ISO 3166-1 country code' }],
    ],
    [
      'a non-string field',
      { first_name: 7 },
      [{ field: 'first_name', message: 'first_name must be a string or null' }],
    ],
    [
      'a control character',
      { address1: 'a\u0007b' },
      [{ field: 'address1', message: 'address1 must not contain control characters' }],
    ],
    [
      'an empty body',
      {},
      [
        {
          field: null,
          message:
            'request body must set or clear at least one of: first_name, last_name, email, company, address1, address2, city, state, zip, country, phone',
        },
      ],
    ],
  ])('refuses %s with 400 and writes nothing', async (_case, body, errors) => {
    // Arrange
    const { owner } = await newAccount();
    const before = await invoke('updateBillingProfile', {
      caller: owner,
      body: { first_name: 'Ada', city: 'London' },
    });

    // Act
    const res = await invoke('updateBillingProfile', { caller: owner, body });

    // Assert
    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual(errors);
    expect(await readProfile(owner)).toEqual(before.body);
  });

  it('refuses invalid JSON with 400 and writes nothing', async () => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke('updateBillingProfile', { caller: owner, rawBody: '{"city":' });

    // Assert
    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'request body must be valid JSON' }]);
    expect(await readProfile(owner)).toEqual({ plan: 'free', contact: {}, updated_at: null });
  });

  it('ignores unknown fields, so a body cannot reach other attributes of the account', async () => {
    // Arrange
    const { owner, accountId } = await newAccount();
    const { client, tables } = ownRepository();
    clients.push(client);

    // Act
    const res = await invoke(
      'updateBillingProfile',
      {
        caller: owner,
        body: { city: 'Paris', keyLimit: 100000, keyCount: -5, name: 'hijack', website: 'x' },
      },
      BillingProfile,
    );

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.contact).toEqual({ city: 'Paris' });
    const { Item } = await client.send(
      new GetCommand({ TableName: tables.accounts, Key: { pk: `account#${accountId}` } }),
    );
    expect(Item).toMatchObject({ keyLimit: 100, keyCount: 0, billingContact: { city: 'Paris' } });
    expect(Item?.name).toMatch(/^test-/);
  });

  it("never changes another account's profile", async () => {
    // Arrange
    const mine = await newAccount();
    const theirs = await newAccount();
    await invoke('updateBillingProfile', { caller: theirs.owner, body: { first_name: 'Grace' } });

    // Act
    await invoke('updateBillingProfile', {
      caller: mine.owner,
      body: { first_name: 'Ada', email: 'ada@example.com' },
    });

    // Assert
    expect((await readProfile(theirs.owner)).contact).toEqual({ first_name: 'Grace' });
    expect((await readProfile(mine.owner)).contact).toEqual({
      first_name: 'Ada',
      email: 'ada@example.com',
    });
  });

  it('does not let a billing key list API keys (403)', async () => {
    // Arrange
    const { owner } = await newAccount();
    const billing = await createKey(owner, ['billing.read', 'billing.update']);

    // Act
    const res = await invoke('listApiKeys', { caller: billing.caller });

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual(FORBIDDEN);
  });
});

describe('billing profile storage', () => {
  it('keeps the plan and the contact on the account item', async () => {
    // Arrange
    const { owner, accountId } = await newAccount();
    const { client, tables } = ownRepository();
    clients.push(client);

    // Act
    await invoke('updateBillingProfile', { caller: owner, body: { zip: '94107', state: 'CA' } });

    // Assert
    const { Item } = await client.send(
      new GetCommand({ TableName: tables.accounts, Key: { pk: `account#${accountId}` } }),
    );
    expect(Item).toMatchObject({
      plan: 'free',
      billingContact: { zip: '94107', state: 'CA' },
      billingUpdatedAt: expect.any(String),
    });
  });

  it('updates with exactly one UpdateItem and no other call', async () => {
    // Arrange
    const { accountId } = await newAccount();
    const { client, repo, commands } = ownRepository();
    clients.push(client);

    // Act
    const updated = await repo.updateBillingContact(
      accountId,
      { set: { city: 'Paris', country: 'FR' }, remove: ['phone'] },
      '2026-01-01T00:00:00.000Z',
    );

    // Assert
    expect(commands).toEqual(['UpdateItemCommand']);
    expect(updated).toEqual({
      plan: 'free',
      contact: { city: 'Paris', country: 'FR' },
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('creates nothing for an account that does not exist', async () => {
    // Arrange
    const { client, repo } = ownRepository();
    clients.push(client);

    // Act
    const updated = await repo.updateBillingContact(
      'no-such-account',
      { set: { city: 'Paris' }, remove: [] },
      '2026-01-01T00:00:00.000Z',
    );

    // Assert
    expect(updated).toBeUndefined();
    expect(await repo.getBillingProfile('no-such-account')).toBeUndefined();
    expect(await repo.getAccount('no-such-account')).toBeUndefined();
  });

  it('serves and updates an account item stored before plans and contact maps existed', async () => {
    // Arrange: strip the account item back to its earlier shape.
    const { owner, accountId } = await newAccount();
    const { client, tables, repo, commands } = ownRepository();
    clients.push(client);
    await client.send(
      new UpdateCommand({
        TableName: tables.accounts,
        Key: { pk: `account#${accountId}` },
        UpdateExpression: 'REMOVE #plan, billingContact',
        ExpressionAttributeNames: { '#plan': 'plan' },
      }),
    );
    commands.length = 0;

    // Act
    const before = await readProfile(owner);
    const updated = await repo.updateBillingContact(
      accountId,
      { set: { city: 'Paris' }, remove: ['zip'] },
      '2026-01-01T00:00:00.000Z',
    );
    const next = await invoke('updateBillingProfile', {
      caller: owner,
      body: { company: 'Engines Ltd', city: null },
    });

    // Assert
    expect(before).toEqual({ plan: 'free', contact: {}, updated_at: null });
    expect(updated).toEqual({
      plan: undefined,
      contact: { city: 'Paris' },
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ plan: 'free', contact: { company: 'Engines Ltd' } });
    expect((await repo.getAccount(accountId))?.keyCount).toBe(0);
  });

  it('turns storage failures into ServiceUnavailableError, never a missing profile', async () => {
    // Arrange
    const { accountId } = await newAccount();
    const { client, repo } = ownRepository();
    clients.push(client);
    client.middlewareStack.add(
      () => async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
      },
      { step: 'initialize', name: 'failEverything' },
    );

    // Act
    const read = repo.getBillingProfile(accountId);
    const write = repo.updateBillingContact(
      accountId,
      { set: { city: 'Paris' }, remove: [] },
      '2026-01-01T00:00:00.000Z',
    );

    // Assert
    await expect(read).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(write).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

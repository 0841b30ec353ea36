import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../shared/runtime/config.js';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';
import { ApiKeyList, AuditEventList, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { CreatedSubuser, SubuserList } from '../../shared/schemas/subusers.js';
import { countDynamoCommands, createGateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';
import { accountState, expectConsistentAccount } from '../helpers/invariants.js';

/**
 * Subusers and `on-behalf-of` through the API Gateway emulator (real authorizer with its cache
 * on, real handlers, DynamoDB Local): SendGrid's Subusers contract, acting for a subuser, the
 * parent/subuser boundary, disabling (cached allows included), deleting, and the limits under
 * concurrency. The shared security suite covers every route's gate; this file the behaviour.
 */

const gateway = createGateway({ cacheTtlSeconds: 300 });
const call = gateway.call;

const REFUSED = { errors: [{ field: null, message: 'access forbidden' }] };
const UNAUTHORIZED = { errors: [{ field: null, message: 'authorization required' }] };
const PASSWORD = `never-stored-${randomBytes(8).toString('hex')}`;

const uniqueName = (prefix = 'sub') => `${prefix}-${randomBytes(5).toString('hex')}`;
const subuserBody = (username: string) => ({
  username,
  email: `${username}@example.com`,
  password: PASSWORD,
  ips: ['10.0.0.1'],
});

async function createSubuser(parent: TestAccount, username = uniqueName()) {
  const res = await call('POST', '/v3/subusers', {
    key: parent.ownerKey,
    body: subuserBody(username),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return username;
}

/** A key made with `key`, acting for `subuser` when given. */
async function createKey(key: string, scopes: string[], subuser?: string) {
  const res = await call(
    'POST',
    '/v3/api_keys',
    {
      key,
      body: { name: 'k', scopes },
      ...(subuser ? { headers: { 'on-behalf-of': subuser } } : {}),
    },
    CreatedApiKey,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function keyIds(key: string, subuser?: string): Promise<string[]> {
  const res = await call(
    'GET',
    '/v3/api_keys',
    { key, ...(subuser ? { headers: { 'on-behalf-of': subuser } } : {}) },
    ApiKeyList,
  );
  expect(res.status).toBe(200);
  return res.body.result.map((k) => k.api_key_id);
}

describe('POST /v3/subusers', () => {
  it("creates a subuser in SendGrid's shape, and never stores the password", async () => {
    // Arrange
    const parent = await newAccount();
    const username = uniqueName('Acme.Customer');

    // Act
    const res = await call(
      'POST',
      '/v3/subusers',
      {
        key: parent.ownerKey,
        body: { ...subuserBody(username), region: 'global', include_region: true },
      },
      CreatedSubuser,
    );

    // Assert: the contract's shape (checked by the gateway helper), and what it says
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      username,
      user_id: expect.any(Number),
      email: `${username}@example.com`,
      credit_allocation: { type: 'unlimited' },
      region: 'global',
      // Keygate's additive field: the plan that applies, none on a deployment without plans
      plan: null,
    });
    expect(Number.isSafeInteger(res.body.user_id)).toBe(true);
    const tables = configFromEnv().tables;
    for (const table of [tables.accounts, tables.keys, tables.audit]) {
      const items = await dynamoDocumentClient().send(new ScanCommand({ TableName: table }));
      expect(JSON.stringify(items.Items)).not.toContain(PASSWORD);
    }
  });

  it('refuses a username taken in any case, by any parent, with "username exists"', async () => {
    // Arrange
    const first = await newAccount();
    const second = await newAccount();
    const username = await createSubuser(first, uniqueName('Taken'));

    // Act
    const again = await call('POST', '/v3/subusers', {
      key: first.ownerKey,
      body: subuserBody(username.toLowerCase()),
    });
    const elsewhere = await call('POST', '/v3/subusers', {
      key: second.ownerKey,
      body: subuserBody(username.toUpperCase()),
    });

    // Assert
    for (const res of [again, elsewhere]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ field: 'username', message: 'username exists' }] });
    }
    expect((await accountState(second.accountId)).account?.subuserCount).toBe(0);
  });

  it.each([
    ['a malformed username', { username: 'a b' }, 'username', 'invalid username'],
    ['a username of 65 characters', { username: 'a'.repeat(65) }, 'username', 'invalid username'],
    ['an email that is not one', { email: 'nobody' }, 'email', 'email must be an email address'],
    ['ips that are not IPv4', { ips: ['::1'] }, 'ips', 'ips must be IPv4 addresses'],
    ['no password', { password: undefined }, 'password', 'password is required'],
  ])('answers 400 to %s, and creates nothing', async (_case, change, field, message) => {
    // Arrange
    const parent = await newAccount();

    // Act
    const res = await call('POST', '/v3/subusers', {
      key: parent.ownerKey,
      body: { ...subuserBody(uniqueName()), ...change },
    });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ field, message }] });
    expect(await call('GET', '/v3/subusers', { key: parent.ownerKey })).toMatchObject({ body: [] });
  });

  it('keeps the subuser limit exactly: 30 concurrent creates against a limit of 10 make 10', async () => {
    // Arrange
    const parent = await newAccount({ subuserLimit: 10 });
    const names = Array.from({ length: 30 }, () => uniqueName('race'));

    // Act
    const results = await Promise.all(
      names.map((username) =>
        call('POST', '/v3/subusers', { key: parent.ownerKey, body: subuserBody(username) }),
      ),
    );

    // Assert
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s !== 200)).toEqual(Array(20).fill(403));
    expect(results.find((r) => r.status === 403)?.body).toEqual({
      errors: [{ field: null, message: 'Cannot create more than 10 subusers' }],
    });
    const listed = await call('GET', '/v3/subusers', { key: parent.ownerKey }, SubuserList);
    expect(listed.body.length).toBe(10);
    expect((await accountState(parent.accountId)).account?.subuserCount).toBe(10);
  });
});

describe('GET /v3/subusers', () => {
  it("lists the parent's subusers only, by name, with a prefix, a limit and an offset", async () => {
    // Arrange
    const parent = await newAccount();
    const other = await newAccount();
    const stem = uniqueName('list');
    for (const suffix of ['c', 'a', 'b']) await createSubuser(parent, `${stem}-${suffix}`);
    await createSubuser(parent, uniqueName('zz'));
    await createSubuser(other, `${stem}-d`);

    // Act
    const all = await call('GET', '/v3/subusers', { key: parent.ownerKey }, SubuserList);
    const prefixed = await call('GET', '/v3/subusers', {
      key: parent.ownerKey,
      query: { username: stem.toUpperCase(), limit: '2', offset: '1' },
    });

    // Assert
    const names = all.body.map((s) => s.username);
    expect(names).toHaveLength(4);
    expect(names.slice(0, 3)).toEqual([`${stem}-a`, `${stem}-b`, `${stem}-c`]);
    expect(prefixed.body).toEqual([
      {
        disabled: false,
        id: expect.any(Number),
        username: `${stem}-b`,
        email: `${stem}-b@example.com`,
        plan: null,
      },
      {
        disabled: false,
        id: expect.any(Number),
        username: `${stem}-c`,
        email: `${stem}-c@example.com`,
        plan: null,
      },
    ]);
  });

  it("answers a subuser's own key with SendGrid's 403 on every Subusers route", async () => {
    // Arrange: a subuser key holding every subusers scope its parent could give it
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const scopes = ['subusers.create', 'subusers.read', 'subusers.update', 'subusers.delete'];
    const child = await createKey(parent.ownerKey, scopes, subuser);

    // Act
    const responses = [
      await call('GET', '/v3/subusers', { key: child.api_key }),
      await call('POST', '/v3/subusers', { key: child.api_key, body: subuserBody(uniqueName()) }),
      await call('PATCH', `/v3/subusers/${subuser}`, {
        key: child.api_key,
        body: { disabled: true },
      }),
      await call('DELETE', `/v3/subusers/${subuser}`, { key: child.api_key }),
    ];

    // Assert
    for (const res of responses) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        errors: [{ field: null, message: 'you dont have permission to access this resource' }],
      });
    }
    expect((await accountState(parent.accountId)).account?.subuserCount).toBe(1);
  });
});

describe('on-behalf-of', () => {
  it("creates, lists and deletes keys in the subuser's account, and each side sees only its own", async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);

    // Act
    const key = await createKey(parent.ownerKey, ['mail.send', 'api_keys.read'], subuser);
    const subuserSide = await keyIds(key.api_key);
    const parentActing = await keyIds(parent.ownerKey, subuser);
    const parentOwn = await keyIds(parent.ownerKey);

    // Assert
    expect(subuserSide).toEqual([key.api_key_id]);
    expect(parentActing).toEqual([key.api_key_id]);
    expect(parentOwn).not.toContain(key.api_key_id);
    const deleted = await call('DELETE', `/v3/api_keys/${key.api_key_id}`, {
      key: parent.ownerKey,
      headers: { 'on-behalf-of': subuser },
    });
    expect(deleted.status).toBe(204);
    expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(401);
  });

  it('finds the subuser whatever the case of its name in the header', async () => {
    const parent = await newAccount();
    const subuser = await createSubuser(parent, uniqueName('MixedCase'));

    const key = await createKey(parent.ownerKey, ['mail.send'], subuser.toUpperCase());

    expect(await keyIds(parent.ownerKey, subuser.toLowerCase())).toEqual([key.api_key_id]);
  });

  it("never lets a parent's key give a subuser's key more than it holds", async () => {
    // Arrange: a parent key that may create keys and send mail, nothing more
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const limited = await createKey(parent.ownerKey, ['api_keys.create', 'mail.send']);

    // Act
    const escalation = await call('POST', '/v3/api_keys', {
      key: limited.api_key,
      headers: { 'on-behalf-of': subuser },
      body: { name: 'wider', scopes: ['mail.send', 'templates.read'] },
    });
    const full = await call(
      'POST',
      '/v3/api_keys',
      { key: limited.api_key, headers: { 'on-behalf-of': subuser }, body: { name: 'full access' } },
      CreatedApiKey,
    );

    // Assert
    expect(escalation.status).toBe(403);
    expect(full.status).toBe(201);
    expect(full.body.scopes.sort()).toEqual(['api_keys.create', 'mail.send']);
    expect(await keyIds(parent.ownerKey, subuser)).toEqual([full.body.api_key_id]);
  });

  it("records the parent's key as the actor, in the subuser's log, with the parent's account", async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);

    // Act
    const key = await createKey(parent.ownerKey, ['mail.send'], subuser);
    const subuserLog = await call(
      'GET',
      '/v3/api_keys/events',
      { key: parent.ownerKey, headers: { 'on-behalf-of': subuser } },
      AuditEventList,
    );
    const parentLog = await call(
      'GET',
      '/v3/api_keys/events',
      { key: parent.ownerKey },
      AuditEventList,
    );

    // Assert
    const created = subuserLog.body.result.find((e) => e.action === 'api_key.created');
    expect(created).toMatchObject({
      api_key_id: key.api_key_id,
      actor_key_id: parent.owner.keyId,
      actor_account_id: parent.accountId,
    });
    const parentActions = parentLog.body.result.map((e) => e.action);
    expect(parentActions).toContain('subuser.created');
    expect(parentActions).not.toContain('api_key.created');
  });
});

describe('disabling a subuser', () => {
  it('refuses its keys from the next request, cached allows included, until it is enabled', async () => {
    // Arrange: the subuser's key has a cached allow for this route
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const key = await createKey(parent.ownerKey, ['mail.send', 'api_keys.read'], subuser);
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);
    const authorizerCalls = gateway.emulator.stats.authorizerInvocations;
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);
    expect(gateway.emulator.stats.authorizerInvocations).toBe(authorizerCalls);

    // Act
    const disabled = await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: { disabled: true },
    });
    const whileDisabled = await call('GET', '/v3/api_keys', { key: key.api_key });
    const listed = await call('GET', '/v3/subusers', { key: parent.ownerKey });
    const enabled = await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: { disabled: false },
    });
    const afterwards = await call('GET', '/v3/api_keys', { key: key.api_key });

    // Assert
    expect(disabled.status).toBe(204);
    expect(whileDisabled.status).toBe(401);
    expect(whileDisabled.body).toEqual(UNAUTHORIZED);
    expect(listed.body).toEqual([expect.objectContaining({ username: subuser, disabled: true })]);
    expect(enabled.status).toBe(204);
    expect(afterwards.status).toBe(200);
  });

  it('still lets the parent read and revoke its keys, but not add one', async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const key = await createKey(parent.ownerKey, ['mail.send'], subuser);
    await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: { disabled: true },
    });

    // Act
    const listed = await keyIds(parent.ownerKey, subuser);
    const added = await call('POST', '/v3/api_keys', {
      key: parent.ownerKey,
      headers: { 'on-behalf-of': subuser },
      body: { name: 'new', scopes: ['mail.send'] },
    });
    const revoked = await call('DELETE', `/v3/api_keys/${key.api_key_id}`, {
      key: parent.ownerKey,
      headers: { 'on-behalf-of': subuser },
    });

    // Assert
    expect(listed).toEqual([key.api_key_id]);
    expect(added.status).toBe(403);
    expect(added.body).toEqual({
      errors: [{ field: null, message: 'the account is disabled: enable it before creating keys' }],
    });
    expect(revoked.status).toBe(204);
    await expectConsistentAccount((await accountIdOf(parent, subuser)) ?? '');
  });

  it('marks every key, past one transaction of them, and unmarks every key when enabled', async () => {
    // Arrange: 120 keys (a transaction holds 100 items) in a subuser whose limit allows them
    const parent = await newAccount({ keyLimit: 150 });
    const subuser = await createSubuser(parent);
    const keys: { api_key: string }[] = [];
    // A few at a time: every create is a transaction on the subuser's one counter item.
    for (let batch = 0; batch < 12; batch += 1) {
      keys.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => createKey(parent.ownerKey, ['mail.send'], subuser)),
        )),
      );
    }
    const accountId = (await accountIdOf(parent, subuser)) ?? '';

    // Act
    await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: { disabled: true },
    });
    const whileDisabled = await accountState(accountId);
    await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: { disabled: false },
    });
    const afterwards = await accountState(accountId);

    // Assert
    expect(whileDisabled.keys).toHaveLength(120);
    expect(whileDisabled.keys.every((k) => k.accountDisabled === true)).toBe(true);
    expect(afterwards.keys.every((k) => k.accountDisabled === undefined)).toBe(true);
    const sample = keys[119];
    expect((await call('GET', '/v3/scopes', { key: sample?.api_key })).status).toBe(200);
  });

  it('ends in one state, on the account and on every key, whatever order racing changes land in', async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    await Promise.all(
      Array.from({ length: 10 }, () => createKey(parent.ownerKey, ['mail.send'], subuser)),
    );
    const accountId = (await accountIdOf(parent, subuser)) ?? '';

    // Act: disables and enables at once
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call('PATCH', `/v3/subusers/${subuser}`, {
          key: parent.ownerKey,
          body: { disabled: i % 2 === 0 },
        }),
      ),
    );

    // Assert: whichever change came last, the keys say what the account says
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(204));
    const state = await accountState(accountId);
    const disabled = state.account?.disabled === true;
    expect(state.keys.map((k) => k.accountDisabled === true)).toEqual(Array(10).fill(disabled));
  });

  it("keeps verification at one read of the key's item", async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const key = await createKey(parent.ownerKey, ['mail.send'], subuser);
    gateway.emulator.flushAuthorizerCache();
    const commands = countDynamoCommands();

    // Act: a route that answers from the authorizer's context alone
    const res = await call('GET', '/v3/scopes', { key: key.api_key });

    // Assert: one consistent read of the key's item (its account's state is on it), and at
    // most the once-a-minute last-use write
    expect(res.status).toBe(200);
    const reads = commands.inputs.filter((i) => 'Key' in i && !('UpdateExpression' in i));
    const others = commands.inputs.filter((i) => !reads.includes(i));
    expect(reads).toEqual([
      expect.objectContaining({ ConsistentRead: true, Key: { keyId: expect.any(String) } }),
    ]);
    for (const other of others) expect(String(other.UpdateExpression)).toContain('lastUsedAt');
  });
});

describe('DELETE /v3/subusers/{subuser_name}', () => {
  it('revokes every key at once, frees the name, and a new subuser of that name has nothing', async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const key = await createKey(parent.ownerKey, ['mail.send', 'api_keys.read'], subuser);
    expect((await call('GET', '/v3/api_keys', { key: key.api_key })).status).toBe(200);

    // Act
    const deleted = await call('DELETE', `/v3/subusers/${subuser}`, { key: parent.ownerKey });
    const refused = await call('GET', '/v3/api_keys', { key: key.api_key });
    const acting = await call('GET', '/v3/api_keys', {
      key: parent.ownerKey,
      headers: { 'on-behalf-of': subuser },
    });
    const again = await call('POST', '/v3/subusers', {
      key: parent.ownerKey,
      body: subuserBody(subuser),
    });

    // Assert
    expect(deleted.status).toBe(204);
    expect(refused.status).toBe(401);
    expect(acting).toMatchObject({ status: 403, body: REFUSED });
    expect(again.status).toBe(200);
    expect(await keyIds(parent.ownerKey, subuser)).toEqual([]);
    expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(401);
    expect((await accountState(parent.accountId)).account?.subuserCount).toBe(1);
  });

  it.each([
    ['an unknown name', async () => 'nobody-here'],
    ["another parent's subuser", async () => createSubuser(await newAccount())],
  ])('answers 404 for %s, and changes nothing', async (_case, target) => {
    // Arrange
    const parent = await newAccount();
    const name = await target();

    // Act
    const patched = await call('PATCH', `/v3/subusers/${name}`, {
      key: parent.ownerKey,
      body: { disabled: true },
    });
    const deleted = await call('DELETE', `/v3/subusers/${name}`, { key: parent.ownerKey });

    // Assert
    for (const res of [patched, deleted]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: [{ field: null, message: 'No user found' }] });
    }
  });

  it('answers "no fields provided" and "invalid username" as SendGrid does', async () => {
    const parent = await newAccount();
    const subuser = await createSubuser(parent);

    const empty = await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: {},
    });
    const malformed = await call('PATCH', '/v3/subusers/-bad', {
      key: parent.ownerKey,
      body: { disabled: true },
    });

    expect(empty.body).toEqual({ errors: [{ field: null, message: 'no fields provided' }] });
    expect(malformed.body).toEqual({ errors: [{ field: null, message: 'invalid username' }] });
    expect([empty.status, malformed.status]).toEqual([400, 400]);
  });

  it("refuses Keygate's plan with 400 on a deployment without plans, and changes nothing", async () => {
    // Arrange
    const parent = await newAccount();
    const subuser = await createSubuser(parent);
    const refusedName = uniqueName();

    // Act
    const created = await call('POST', '/v3/subusers', {
      key: parent.ownerKey,
      body: { ...subuserBody(refusedName), plan: 'free' },
    });
    const patched = await call('PATCH', `/v3/subusers/${subuser}`, {
      key: parent.ownerKey,
      body: { disabled: true, plan: 'free' },
    });

    // Assert: `plan` counts as a field, and there is no plan to choose
    for (const res of [created, patched]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        errors: [
          { field: 'plan', message: 'plan cannot be set: this deployment declares no plans' },
        ],
      });
    }
    const listed = await call('GET', '/v3/subusers', { key: parent.ownerKey }, SubuserList);
    expect(listed.body.map((s) => s.username)).toEqual([subuser]);
    expect(listed.body[0]).toMatchObject({ disabled: false, plan: null });
  });
});

/** The subuser's account ID, as its parent acting for it sees its keys' account. */
async function accountIdOf(parent: TestAccount, subuser: string): Promise<string | undefined> {
  const { repo } = await import('../../shared/runtime/deps.js').then((m) => m.defaultDeps());
  const id = await repo.findAccountIdByName(subuser);
  const account = id ? await repo.getAccount(id) : undefined;
  return account?.parentAccountId === parent.accountId ? account.accountId : undefined;
}

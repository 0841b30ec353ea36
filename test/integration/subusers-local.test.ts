import sendgridClient from '@sendgrid/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { ApiKeyList, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { CreatedSubuser, SubuserList } from '../../shared/schemas/subusers.js';
import {
  killEverythingOf,
  type LocalInstance,
  runCliProcess,
  startInstance,
} from '../helpers/local-instance.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { bodyAs } from '../helpers/typed-body.js';

const tempDir = tempDirs();

/**
 * Subusers through a real `npm start`: SendGrid's own `@sendgrid/client` over HTTP (create a
 * subuser, manage its keys with `on-behalf-of`, disable, enable, delete it) and the operator CLI
 * (`keygate accounts …`) against the running instance. The emulated gateway caches authorizer
 * allows for 300 s (the default), so every "refused from the next request" below is a cached
 * allow being dropped, not a cache that was never filled.
 */

// The package's CommonJS exports carry the class; its typings only expose it to `require`.
type Client = typeof sendgridClient;
const { Client } = sendgridClient as unknown as { Client: new () => Client };

/** The gateway's 401 (its authorizer said `Unauthorized`), in SendGrid's envelope. */
const UNAUTHORIZED = { errors: [{ field: null, message: 'authorization required' }] };

describe('subusers on npm start', () => {
  const dataDir = tempDir('keygate-subusers-');
  let instance: LocalInstance;
  let ownerKey: string;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    instance = await startInstance(dataDir, await freePort());
    ownerKey = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
    cliEnv = { KEYGATE_DATA_DIR: dataDir };
  });

  afterAll(async () => {
    await instance?.stop();
    killEverythingOf(dataDir);
  });

  describe("with SendGrid's own client", () => {
    it('creates a subuser whose keys, made on its behalf, belong to it alone', async () => {
      // Arrange
      const owner = sendgrid(instance.url, ownerKey);
      const parentKey = await call(owner, {
        method: 'POST',
        url: '/v3/api_keys',
        body: { name: 'parent-only', scopes: ['api_keys.read'] },
      });
      expect(parentKey.status).toBe(201);
      const parentKeyId = bodyAs(CreatedApiKey, parentKey.body, 'parent key').api_key_id;

      // Act: create the subuser, then a key in it with impersonation.
      const created = await call(owner, {
        method: 'POST',
        url: '/v3/subusers',
        body: {
          username: 'acme-one',
          email: 'ops@acme-one.example',
          password: 'not-stored-1!',
          ips: ['192.0.2.10'],
        },
      });
      const onBehalf = sendgrid(instance.url, ownerKey);
      onBehalf.setImpersonateSubuser('acme-one');
      const subKey = await call(onBehalf, {
        method: 'POST',
        url: '/v3/api_keys',
        body: { name: 'acme-one mail', scopes: ['mail.send', 'api_keys.read'] },
      });
      const { api_key: subApiKey, api_key_id: subKeyId } = bodyAs(
        CreatedApiKey,
        subKey.body,
        'key on behalf of acme-one',
      );
      const subuser = sendgrid(instance.url, subApiKey);
      const subusers = await call(owner, { method: 'GET', url: '/v3/subusers' });
      const listedOnBehalf = await call(onBehalf, { method: 'GET', url: '/v3/api_keys' });
      const listedByParent = await call(owner, { method: 'GET', url: '/v3/api_keys' });
      const listedBySubuser = await call(subuser, { method: 'GET', url: '/v3/api_keys' });
      const scopes = await call(subuser, { method: 'GET', url: '/v3/scopes' });

      // Assert
      expect(created).toEqual({
        status: 200,
        body: {
          username: 'acme-one',
          user_id: expect.any(Number),
          email: 'ops@acme-one.example',
          credit_allocation: { type: 'unlimited' },
          // Keygate's additive field: the plan that applies, none on a deployment without plans
          plan: null,
        },
      });
      expect(subusers.status).toBe(200);
      expect(subusers.body).toContainEqual({
        disabled: false,
        id: bodyAs(CreatedSubuser, created.body, 'subuser').user_id,
        username: 'acme-one',
        email: 'ops@acme-one.example',
        plan: null,
      });
      expect(subKey.status).toBe(201);
      expect(subKey.body).toMatchObject({
        name: 'acme-one mail',
        scopes: ['api_keys.read', 'mail.send'],
      });
      // The subuser sees its own key only, whether asked on its behalf or with its own key.
      expect(listedOnBehalf.status).toBe(200);
      expect(ids(listedOnBehalf.body)).toEqual([subKeyId]);
      expect(listedBySubuser.status).toBe(200);
      expect(ids(listedBySubuser.body)).toEqual([subKeyId]);
      // The parent's own list has its keys, not the subuser's.
      expect(listedByParent.status).toBe(200);
      expect(ids(listedByParent.body)).toContain(parentKeyId);
      expect(ids(listedByParent.body)).not.toContain(subKeyId);
      expect(scopes).toEqual({ status: 200, body: { scopes: ['api_keys.read', 'mail.send'] } });
    });

    it("refuses a disabled subuser's key from the next request, cached allow included, and takes it back when enabled", async () => {
      // Arrange: the subuser's key has just been allowed (the gateway caches that for 300 s).
      const owner = sendgrid(instance.url, ownerKey);
      const { key } = await subuserWithKey(instance.url, ownerKey, 'acme-two');
      const subuser = sendgrid(instance.url, key);
      expect((await call(subuser, { method: 'GET', url: '/v3/scopes' })).status).toBe(200);

      // Act
      const disabled = await call(owner, {
        method: 'PATCH',
        url: '/v3/subusers/acme-two',
        body: { disabled: true },
      });
      const whileDisabled = await call(subuser, { method: 'GET', url: '/v3/scopes' });
      const listedWhileDisabled = await call(owner, { method: 'GET', url: '/v3/subusers' });
      const enabled = await call(owner, {
        method: 'PATCH',
        url: '/v3/subusers/acme-two',
        body: { disabled: false },
      });
      const afterEnabled = await call(subuser, { method: 'GET', url: '/v3/scopes' });

      // Assert
      expect(disabled.status).toBe(204);
      expect(whileDisabled).toEqual({ status: 401, body: UNAUTHORIZED });
      expect(listedWhileDisabled.body).toContainEqual(
        expect.objectContaining({ username: 'acme-two', disabled: true }),
      );
      expect(enabled.status).toBe(204);
      expect(afterEnabled).toEqual({ status: 200, body: { scopes: ['api_keys.read'] } });
    });

    it("refuses a deleted subuser's key for good, and frees its username", async () => {
      // Arrange: the subuser's key has just been allowed (and cached).
      const owner = sendgrid(instance.url, ownerKey);
      const { key } = await subuserWithKey(instance.url, ownerKey, 'acme-three');
      const subuser = sendgrid(instance.url, key);
      expect((await call(subuser, { method: 'GET', url: '/v3/scopes' })).status).toBe(200);
      const onBehalf = sendgrid(instance.url, ownerKey);
      onBehalf.setImpersonateSubuser('acme-three');

      // Act
      const deleted = await call(owner, { method: 'DELETE', url: '/v3/subusers/acme-three' });
      const afterDelete = await call(subuser, { method: 'GET', url: '/v3/scopes' });
      const listed = await call(owner, { method: 'GET', url: '/v3/subusers' });
      const impersonatingGone = await call(onBehalf, { method: 'GET', url: '/v3/api_keys' });
      const recreated = await call(owner, {
        method: 'POST',
        url: '/v3/subusers',
        body: {
          username: 'acme-three',
          email: 'again@acme-three.example',
          password: 'not-stored-3!',
          ips: [],
        },
      });
      const oldKeyAfterRecreate = await call(subuser, { method: 'GET', url: '/v3/scopes' });
      const keysOfRecreated = await call(onBehalf, { method: 'GET', url: '/v3/api_keys' });

      // Assert
      expect(deleted.status).toBe(204);
      expect(afterDelete).toEqual({ status: 401, body: UNAUTHORIZED });
      expect(listed.status).toBe(200);
      expect(bodyAs(SubuserList, listed.body, 'subusers').map((s) => s.username)).not.toContain(
        'acme-three',
      );
      expect(impersonatingGone).toEqual({
        status: 403,
        body: { errors: [{ field: null, message: 'access forbidden' }] },
      });
      expect(recreated).toMatchObject({
        status: 200,
        body: { username: 'acme-three', email: 'again@acme-three.example' },
      });
      expect(oldKeyAfterRecreate).toEqual({ status: 401, body: UNAUTHORIZED });
      expect(keysOfRecreated).toEqual({ status: 200, body: { result: [] } });
    });
  });

  describe('with the CLI', () => {
    it('lists the parent and its subusers with their parent and state (accounts list --json)', async () => {
      // Arrange
      await subuserWithKey(instance.url, ownerKey, 'cli-listed');

      // Act
      const listed = runCliProcess(['accounts', 'list', '--json'], cliEnv);

      // Assert
      expect(listed.status).toBe(0);
      const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
      expect(rows).toContainEqual(
        expect.objectContaining({ name: 'local', parent: null, state: 'active' }),
      );
      expect(rows).toContainEqual(
        expect.objectContaining({ name: 'cli-listed', parent: 'local', state: 'active', keys: 1 }),
      );
    });

    it('disables and enables a subuser: its key is refused from the next request, then works again', async () => {
      // Arrange: the subuser's key has just been allowed (and cached).
      const { key } = await subuserWithKey(instance.url, ownerKey, 'cli-toggled');
      const subuser = sendgrid(instance.url, key);
      expect((await call(subuser, { method: 'GET', url: '/v3/scopes' })).status).toBe(200);

      // Act
      const disabled = runCliProcess(['accounts', 'disable', '--account', 'cli-toggled'], cliEnv);
      const whileDisabled = await call(subuser, { method: 'GET', url: '/v3/scopes' });
      const listedWhileDisabled = runCliProcess(['accounts', 'list', '--json'], cliEnv);
      const enabled = runCliProcess(['accounts', 'enable', '--account', 'cli-toggled'], cliEnv);
      const afterEnabled = await call(subuser, { method: 'GET', url: '/v3/scopes' });

      // Assert
      expect(disabled).toEqual({
        status: 0,
        stdout: `Disabled "cli-toggled" on ${instance.url}: its keys are refused from the next request.\n`,
        stderr: '',
      });
      expect(whileDisabled).toEqual({ status: 401, body: UNAUTHORIZED });
      expect(JSON.parse(listedWhileDisabled.stdout)).toContainEqual(
        expect.objectContaining({ name: 'cli-toggled', parent: 'local', state: 'disabled' }),
      );
      expect(enabled).toEqual({
        status: 0,
        stdout: `Enabled "cli-toggled" on ${instance.url}: its keys work again.\n`,
        stderr: '',
      });
      expect(afterEnabled).toEqual({ status: 200, body: { scopes: ['api_keys.read'] } });
    });

    it("disables the parent: its owner key is refused, its subuser's key keeps working", async () => {
      // Arrange: both keys have just been allowed (and cached).
      const owner = sendgrid(instance.url, ownerKey);
      const { key } = await subuserWithKey(instance.url, ownerKey, 'cli-child');
      const subuser = sendgrid(instance.url, key);
      expect((await call(owner, { method: 'GET', url: '/v3/scopes' })).status).toBe(200);
      expect((await call(subuser, { method: 'GET', url: '/v3/scopes' })).status).toBe(200);

      // Act
      const disabled = runCliProcess(['accounts', 'disable', '--account', 'local'], cliEnv);
      const ownerWhileDisabled = await call(owner, { method: 'GET', url: '/v3/scopes' });
      const subuserWhileDisabled = await call(subuser, { method: 'GET', url: '/v3/scopes' });
      const listedWhileDisabled = runCliProcess(['accounts', 'list', '--json'], cliEnv);
      const enabled = runCliProcess(['accounts', 'enable', '--account', 'local'], cliEnv);
      const ownerAfterEnabled = await call(owner, { method: 'GET', url: '/v3/scopes' });

      // Assert
      expect(disabled.status).toBe(0);
      expect(ownerWhileDisabled).toEqual({ status: 401, body: UNAUTHORIZED });
      expect(subuserWhileDisabled).toEqual({ status: 200, body: { scopes: ['api_keys.read'] } });
      const rows = JSON.parse(listedWhileDisabled.stdout) as Record<string, unknown>[];
      expect(rows).toContainEqual(expect.objectContaining({ name: 'local', state: 'disabled' }));
      expect(rows).toContainEqual(expect.objectContaining({ name: 'cli-child', state: 'active' }));
      expect(enabled.status).toBe(0);
      expect(ownerAfterEnabled.status).toBe(200);
    });

    it.each([
      ['disable', 'nobody'],
      ['enable', 'nobody'],
    ])('fails in one line to %s an unknown account', async (command, account) => {
      // Act
      const result = runCliProcess(['accounts', command, '--account', account], cliEnv);

      // Assert
      expect(result).toEqual({
        status: 1,
        stdout: '',
        stderr: `keygate: no account named "${account}"\n`,
      });
    });

    it('fails in one line to disable a deleted subuser', async () => {
      // Arrange
      const owner = sendgrid(instance.url, ownerKey);
      await subuserWithKey(instance.url, ownerKey, 'cli-deleted');
      expect(
        (await call(owner, { method: 'DELETE', url: '/v3/subusers/cli-deleted' })).status,
      ).toBe(204);

      // Act
      const result = runCliProcess(['accounts', 'disable', '--account', 'cli-deleted'], cliEnv);

      // Assert
      expect(result).toEqual({
        status: 1,
        stdout: '',
        stderr: 'keygate: no account named "cli-deleted"\n',
      });
    });
  });
});

/** SendGrid's client pointed at Keygate: `setApiKey` first, since it resets the base URL. */
function sendgrid(url: string, apiKey: string): Client {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', url);
  return client;
}

/** One request through the client: its status and parsed body, whether it succeeded or not. */
async function call(
  client: Client,
  request: Parameters<Client['request']>[0],
): Promise<{ status: number; body: unknown }> {
  try {
    const [response, body] = await client.request(request);
    return { status: response.statusCode, body };
  } catch (error) {
    const failed = error as { code?: number; response?: { body: unknown } };
    if (failed.code === undefined) throw error;
    return { status: failed.code, body: failed.response?.body };
  }
}

/** The key IDs of a `GET /v3/api_keys` answer. */
function ids(body: unknown): string[] {
  return bodyAs(ApiKeyList, body, 'keys').result.map((k) => k.api_key_id);
}

/** A new subuser of the owner's account and one key in it (`api_keys.read`), made on its behalf. */
async function subuserWithKey(url: string, ownerKey: string, username: string) {
  const created = await call(sendgrid(url, ownerKey), {
    method: 'POST',
    url: '/v3/subusers',
    body: { username, email: `ops@${username}.example`, password: 'not-stored!', ips: [] },
  });
  expect(created.status).toBe(200);
  const onBehalf = sendgrid(url, ownerKey);
  onBehalf.setImpersonateSubuser(username);
  const key = await call(onBehalf, {
    method: 'POST',
    url: '/v3/api_keys',
    body: { name: `${username} key`, scopes: ['api_keys.read'] },
  });
  expect(key.status).toBe(201);
  return { key: bodyAs(CreatedApiKey, key.body, 'key on behalf').api_key };
}

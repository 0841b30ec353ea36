import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import sendgridClient from '@sendgrid/client';
import sendgridMail from '@sendgrid/mail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import {
  type LocalInstance,
  processesMentioning,
  runCliProcess,
  runStart,
  startInstance,
} from '../helpers/local-instance.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();

/**
 * `npm start` as a user runs it: its own process, a fresh data directory, SendGrid's own Node
 * clients talking to it over HTTP, the CLI beside it, and a stop and restart.
 */

// The packages' CommonJS exports carry the classes; their typings only expose them to `require`.
type Client = typeof sendgridClient;
const { Client } = sendgridClient as unknown as { Client: new () => Client };
const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

/** SendGrid's client pointed at Keygate: `setApiKey` first, since it resets the base URL. */
function sendgrid(url: string, apiKey: string): Client {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', url);
  return client;
}

describe('npm start', () => {
  const dataDir = tempDir('keygate-start-');
  let port: number;
  let instance: LocalInstance;
  let ownerKey: string;

  beforeAll(async () => {
    port = await freePort();
    // The key-warnings scan every second (every minute by default).
    instance = await startInstance(dataDir, port, { env: { KEYGATE_WARNING_SCAN_SECONDS: '1' } });
    ownerKey = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
  });

  afterAll(async () => {
    await instance.stop();
  });

  it('bootstraps the local account on first start and shows its owner key once', async () => {
    expect(instance.output()).toContain('it will not be shown again');
    expect(ownerKey).toMatch(/^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(instance.output()).toContain(`Keygate listening on http://127.0.0.1:${port}`);
    expect((await fetch(`${instance.url}/health`)).status).toBe(200);
  });

  it('warns of a key 3 days from expiry on its own, in the audit log where the other events are', async () => {
    // Arrange
    const headers = { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' };
    const expiresAt = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    const created = await fetch(`${instance.url}/v3/api_keys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'expiring', scopes: ['mail.send'], expires_at: expiresAt }),
    });
    const { api_key_id: id } = (await created.json()) as { api_key_id: string };

    // Act: the periodic scan says when it recorded one.
    await instance.waitForOutput(/Key warnings: 1 expiry/);
    const events = await fetch(`${instance.url}/v3/api_keys/events?api_key_id=${id}`, { headers });

    // Assert
    const { result } = (await events.json()) as {
      result: { action: string; details: Record<string, string> }[];
    };
    expect(result.map((e) => e.action)).toEqual(['api_key.expiry_warning', 'api_key.created']);
    expect(result[0]?.details).toEqual({ name: 'expiring', days: '7', expires_at: expiresAt });
  });

  it("works with SendGrid's own clients: create, list, get, rename, re-scope, send, delete", async () => {
    // Arrange
    const owner = sendgrid(instance.url, ownerKey);

    // Act + Assert: each step as a SendGrid user writes it.
    const [created, createdBody] = await owner.request({
      method: 'POST',
      url: '/v3/api_keys',
      body: { name: 'Mail Send', scopes: ['mail.send', 'api_keys.read'] },
    });
    expect(created.statusCode).toBe(201);
    const { api_key: apiKey, api_key_id: id } = createdBody as {
      api_key: string;
      api_key_id: string;
    };

    const [, list] = await owner.request({ method: 'GET', url: '/v3/api_keys', qs: { limit: 10 } });
    expect(
      (list as { result: { api_key_id: string }[] }).result.map((k) => k.api_key_id),
    ).toContain(id);

    const [, one] = await owner.request({ method: 'GET', url: `/v3/api_keys/${id}` });
    expect(one).toMatchObject({
      api_key_id: id,
      name: 'Mail Send',
      scopes: ['api_keys.read', 'mail.send'],
    });

    const [, renamed] = await owner.request({
      method: 'PATCH',
      url: `/v3/api_keys/${id}`,
      body: { name: 'Sender' },
    });
    expect(renamed).toEqual({ api_key_id: id, name: 'Sender' });

    const [, rescoped] = await owner.request({
      method: 'PUT',
      url: `/v3/api_keys/${id}`,
      body: { name: 'Sender', scopes: ['mail.send'] },
    });
    expect(rescoped).toMatchObject({ scopes: ['mail.send'] });

    const mail = new MailService();
    mail.setClient(sendgrid(instance.url, apiKey));
    const [sent] = await mail.send({
      to: 'recipient@example.com',
      from: 'sender@example.com',
      subject: 'Hello, World!',
      text: 'Howdy!',
    });
    expect(sent.statusCode).toBe(202);

    const [deleted] = await owner.request({ method: 'DELETE', url: `/v3/api_keys/${id}` });
    expect(deleted.statusCode).toBe(204);

    const refused = await sendgrid(instance.url, apiKey)
      .request({ method: 'GET', url: '/v3/scopes' })
      .then(
        () => undefined,
        (error: { code: number; response: { body: unknown } }) => error,
      );
    expect(refused?.code).toBe(401);
    expect(refused?.response.body).toEqual({
      errors: [{ field: null, message: 'authorization required' }],
    });
  });

  it('lets operators manage keys and read the outbox with the CLI', async () => {
    // Act
    const created = runCliProcess(
      ['keys', 'create', '--account', 'local', '--name', 'ops', '--json'],
      {
        KEYGATE_DATA_DIR: dataDir,
      },
    );
    const list = runCliProcess(['keys', 'list', '--account', 'local', '--json'], {
      KEYGATE_DATA_DIR: dataDir,
    });
    const outbox = runCliProcess(['outbox', '--json'], { KEYGATE_DATA_DIR: dataDir });

    // Assert
    expect(created.status).toBe(0);
    const key = JSON.parse(created.stdout) as { api_key: string; api_key_id: string };
    expect(
      (
        await fetch(`${instance.url}/v3/scopes`, {
          headers: { authorization: `Bearer ${key.api_key}` },
        })
      ).status,
    ).toBe(200);
    expect(list.status).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { api_key_id: string }[]).map((k) => k.api_key_id),
    ).toContain(key.api_key_id);
    expect(outbox.status).toBe(0);
    expect(JSON.parse(outbox.stdout)).toContainEqual(
      expect.objectContaining({ payload: expect.objectContaining({ subject: 'Hello, World!' }) }),
    );
  });

  it('revokes through the CLI on the very next request, despite the authorizer cache', async () => {
    // Arrange
    const created = runCliProcess(
      ['keys', 'create', '--account', 'local', '--name', 'tmp', '--json'],
      {
        KEYGATE_DATA_DIR: dataDir,
      },
    );
    const key = JSON.parse(created.stdout) as { api_key: string; api_key_id: string };
    const auth = { headers: { authorization: `Bearer ${key.api_key}` } };
    expect((await fetch(`${instance.url}/v3/scopes`, auth)).status).toBe(200);

    // Act
    const deleted = runCliProcess(
      ['keys', 'delete', '--account', 'local', '--id', key.api_key_id],
      {
        KEYGATE_DATA_DIR: dataDir,
      },
    );

    // Assert
    expect(deleted.status).toBe(0);
    expect((await fetch(`${instance.url}/v3/scopes`, auth)).status).toBe(401);
  });

  it('logs one line per request with the key ID, never the key', async () => {
    await fetch(`${instance.url}/v3/scopes`, { headers: { authorization: `Bearer ${ownerKey}` } });

    const keyId = ownerKey.split('.')[1];
    await instance.waitForOutput(new RegExp(`GET /v3/scopes 200 [0-9.]+ms key=${keyId}`));
    expect(instance.output().split(ownerKey).length).toBe(2); // printed once, at bootstrap
  });

  it('stops on SIGTERM leaving no Java behind, and a restart finds every key', async () => {
    // Arrange
    const owner = sendgrid(instance.url, ownerKey);
    const [, before] = await owner.request({ method: 'GET', url: '/v3/api_keys' });

    // Act
    const code = await instance.stop();
    const leftover = processesMentioning(dataDir);
    instance = await startInstance(dataDir, port);
    const [, after] = await sendgrid(instance.url, ownerKey).request({
      method: 'GET',
      url: '/v3/api_keys',
    });

    // Assert
    expect(code).toBe(0);
    expect(leftover).toEqual([]);
    expect(instance.output()).not.toContain('will not be shown again');
    expect(after).toEqual(before);
  });
});

describe('npm start refuses clearly', () => {
  it('when the port is in use', async () => {
    // Arrange
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const port = (blocker.address() as { port: number }).port;

    // Act
    const result = runStart({
      PORT: String(port),
      KEYGATE_DATA_DIR: tempDir('kg-'),
    });
    blocker.close();

    // Assert
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `Port ${port} is already in use: stop what is using it or choose another with PORT=<port> npm start.`,
    );
  });

  it.each(['-1', '3601', 'soon', '1.5', ' ', '1e3', '0x10'])(
    'when KEYGATE_AUTHORIZER_CACHE_TTL is %j',
    async (ttl) => {
      const result = runStart({
        PORT: '0',
        KEYGATE_DATA_DIR: tempDir('kg-'),
        KEYGATE_AUTHORIZER_CACHE_TTL: ttl,
      });

      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        `KEYGATE_AUTHORIZER_CACHE_TTL must be whole seconds from 0 (off) to 3600, got "${ttl}"`,
      );
    },
  );

  it('when Java is missing', async () => {
    const result = runStart(
      { PORT: '0', KEYGATE_DATA_DIR: tempDir('kg-') },
      { path: '/nonexistent' },
    );

    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('Java 17 or newer is required');
  });

  it('when the data directory is corrupt, leaving no Java behind', async () => {
    // Arrange
    const dataDir = tempDir('kg-');
    mkdirSync(join(dataDir, 'dynamodb'));
    writeFileSync(
      join(dataDir, 'dynamodb', 'shared-local-instance.db'),
      'this is not a database'.repeat(200),
    );

    // Act
    const result = runStart({ PORT: '0', KEYGATE_DATA_DIR: dataDir });

    // Assert
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('it may be corrupt: move it aside or delete it to start fresh');
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});

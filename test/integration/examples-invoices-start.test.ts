import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { INVOICES_CONFIG } from '../helpers/examples.js';
import {
  killEverythingOf,
  type LocalInstance,
  runCliProcess,
  startInstance,
} from '../helpers/local-instance.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();

/**
 * The example's README, "run it": `KEYGATE_CONFIG=examples/invoices/keygate.config.ts npm start`,
 * as its own process, over HTTP, with a fresh data directory.
 */
describe(`KEYGATE_CONFIG=${INVOICES_CONFIG} npm start`, () => {
  const dataDir = tempDir('keygate-invoices-');
  let instance: LocalInstance | undefined;
  let ownerKey: string;

  beforeAll(async () => {
    instance = await startInstance(dataDir, await freePort(), {
      env: { KEYGATE_CONFIG: INVOICES_CONFIG },
    });
    ownerKey = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
  });

  afterAll(async () => {
    await instance?.stop();
    killEverythingOf(dataDir);
  });

  async function request(method: string, path: string, key: string, body?: unknown) {
    const res = await fetch(`${instance?.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }

  it("says what it serves, and serves the example's routes to keys of its scopes", async () => {
    // Arrange: a key that may read and create invoices, made with the printed owner key
    expect(instance?.output()).toMatch(
      /Serving 5 route\(s\) and 2 area\(s\) of .*keygate\.config\.ts/,
    );
    const created = await request('POST', '/v3/api_keys', ownerKey, {
      name: 'billing-service',
      scopes: ['invoices.create', 'invoices.read'],
    });
    expect(created.status).toBe(201);
    const key = (created.body as { api_key: string }).api_key;

    // Act
    const invoice = await request('POST', '/v1/invoices', key, {
      customer: 'Acme',
      amount_cents: 990,
    });
    const id = (invoice.body as { id: string }).id;
    const read = await request('GET', `/v1/invoices/${id}`, key);
    const pdf = await request('GET', `/v1/invoices/${id}/pdf`, key);
    const deleted = await request('DELETE', `/v1/invoices/${id}`, key);

    // Assert
    expect(invoice.status).toBe(201);
    expect(read).toMatchObject({ status: 200, body: { id, customer: 'Acme', currency: 'USD' } });
    expect([pdf.status, deleted.status]).toEqual([403, 403]);
  });

  it("lets the CLI grant the running instance's scopes, without being told its config", async () => {
    // Act: KEYGATE_CONFIG is not set for the CLI; it reads the deployment the instance wrote down
    const created = runCliProcess(
      [
        'keys',
        'create',
        '--account',
        'local',
        '--name',
        'reader',
        '--scopes',
        'invoices.read',
        '--json',
      ],
      { KEYGATE_DATA_DIR: dataDir },
    );
    const unknown = runCliProcess(
      ['keys', 'create', '--account', 'local', '--name', 'x', '--scopes', 'invoices.fly', '--json'],
      { KEYGATE_DATA_DIR: dataDir },
    );

    // Assert
    expect(created.status).toBe(0);
    const key = JSON.parse(created.stdout) as { api_key: string; scopes: string[] };
    expect(key.scopes).toEqual(['invoices.read']);
    const list = await request('GET', '/v1/invoices', key.api_key);
    const create = await request('POST', '/v1/invoices', key.api_key, {
      customer: 'Acme',
      amount_cents: 1,
    });
    expect([list.status, create.status]).toEqual([200, 403]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/invoices\.fly/);
  });
});

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SENDGRID_CATALOGUE } from '../../shared/domain/catalogue.js';
import { activeDeployment } from '../../shared/runtime/deployment.js';
import { useInvoicesExample } from '../helpers/examples.js';
import { createGateway } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';
import { keyCreator } from '../helpers/security-suite.js';

/**
 * The invoices example (`examples/invoices/`) as a team runs it: its config served by this
 * process (`useDeployment`, as `KEYGATE_CONFIG=examples/invoices/keygate.config.ts npm start`
 * does), requests through the API Gateway emulator (authorizer cache on, TTL 300 s) with the real
 * authorizer, Keygate's wrapper around the team's own handlers, and DynamoDB Local. Keys are made
 * through the API with the owner key, as a team's customers would make them.
 */

const loaded = await useInvoicesExample();
const { call, emulator } = createGateway({ cacheTtlSeconds: 300 });
const createKey = keyCreator(call);

afterEach(() => {
  vi.useRealTimers();
});

const TEAM_SCOPES = ['documents.read', 'invoices.create', 'invoices.delete', 'invoices.read'];
const NEW_INVOICE = { customer: 'Acme GmbH', amount_cents: 1250, currency: 'EUR' };

/** What the example promises, written out here: a change to its config must show in this file. */
const ROUTES = [
  { method: 'GET', path: '/v1/invoices', scopes: ['invoices.read'], success: 200 },
  { method: 'POST', path: '/v1/invoices', scopes: ['invoices.create'], success: 201 },
  { method: 'GET', path: '/v1/invoices/{invoice_id}', scopes: ['invoices.read'], success: 200 },
  {
    method: 'GET',
    path: '/v1/invoices/{invoice_id}/pdf',
    scopes: ['documents.read', 'invoices.read'],
    success: 200,
  },
  {
    method: 'DELETE',
    path: '/v1/invoices/{invoice_id}',
    scopes: ['invoices.delete'],
    success: 204,
  },
] as const;
type Route = (typeof ROUTES)[number];

interface Invoice {
  id: string;
  customer: string;
  amount_cents: number;
  currency: string;
  created_at: string;
  pdf_url?: string;
}

async function invoiceOf(ownerKey: string): Promise<Invoice> {
  const res = await call('POST', '/v1/invoices', { key: ownerKey, body: NEW_INVOICE });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Invoice;
}

/** A valid request to `route` for the account of `ownerKey` (a fresh invoice where it names one). */
async function requestTo(route: Route, ownerKey: string) {
  const path = route.path.includes('{invoice_id}')
    ? route.path.replace('{invoice_id}', (await invoiceOf(ownerKey)).id)
    : route.path;
  return { path, body: route.method === 'POST' ? NEW_INVOICE : undefined };
}

describe('the example config', () => {
  it('loads without warnings, with its committed lock complete', () => {
    expect(loaded.warnings).toEqual([]);
    expect(loaded.lockWritten).toBe(false);
    expect([...loaded.spec.scopeLock].sort()).toEqual(TEAM_SCOPES);
  });

  it('serves exactly the routes this file expects, behind the scopes it expects', () => {
    const served = activeDeployment().teamRoutes.map((r) => ({
      method: r.method,
      path: r.path,
      scopes: r.access.kind === 'key' ? [...r.access.scopes].sort() : 'public',
      keyTypes: r.access.kind === 'key' ? r.access.keyTypes : 'public',
    }));

    expect(served).toEqual(
      ROUTES.map(({ method, path, scopes }) => ({
        method,
        path,
        scopes: [...scopes],
        keyTypes: ['owner', 'general'],
      })),
    );
  });
});

describe('each route is allowed exactly for a key holding its scopes', () => {
  /** Keys of different scopes (undefined: Full Access), made once through the API. */
  const KEYS: readonly (readonly string[] | undefined)[] = [
    ['invoices.read'],
    ['invoices.create'],
    ['invoices.delete'],
    ['documents.read'],
    ['documents.read', 'invoices.read'],
    ['invoices.create', 'invoices.delete', 'invoices.read'],
    ['mail.send'],
    ['billing.read'],
    undefined,
  ];
  const label = (scopes: readonly string[] | undefined) => scopes?.join(' ') ?? 'Full Access';
  let account: TestAccount;
  const keys = new Map<string, string>();

  beforeAll(async () => {
    account = await newAccount();
    for (const scopes of KEYS) {
      keys.set(label(scopes), (await createKey(account.ownerKey, scopes, label(scopes))).api_key);
    }
  });

  const cases = ROUTES.flatMap((route) =>
    KEYS.map((scopes) => {
      // Billing keys hold billing scopes only and call no general route; Full Access is every
      // general scope the owner holds, the team's included.
      const held = scopes ?? TEAM_SCOPES;
      const general = !held.every((s) => s.startsWith('billing'));
      const allowed = general && route.scopes.every((s) => held.includes(s));
      return [`${route.method} ${route.path}`, label(scopes), allowed, route] as const;
    }),
  );

  it.each(cases)('%s with a key of [%s]: allowed %s', async (_name, keyLabel, allowed, route) => {
    // Arrange
    const request = await requestTo(route, account.ownerKey);

    // Act
    const res = await call(route.method, request.path, {
      key: keys.get(keyLabel),
      body: request.body,
    });

    // Assert
    expect(res.status, JSON.stringify(res.body)).toBe(allowed ? route.success : 403);
    if (!allowed) {
      expect(res.body).toEqual({ errors: [{ field: null, message: 'access forbidden' }] });
    }
  });

  it('never runs the handler of a refused request: nothing is created or deleted', async () => {
    // Arrange
    const reader = keys.get('invoices.read');
    const invoice = await invoiceOf(account.ownerKey);
    const before = await call('GET', '/v1/invoices', { key: account.ownerKey });

    // Act
    const deleted = await call('DELETE', `/v1/invoices/${invoice.id}`, { key: reader });
    const created = await call('POST', '/v1/invoices', { key: reader, body: NEW_INVOICE });

    // Assert
    expect([deleted.status, created.status]).toEqual([403, 403]);
    const after = await call('GET', '/v1/invoices', { key: account.ownerKey });
    expect(after.body).toEqual(before.body);
    expect((await call('GET', `/v1/invoices/${invoice.id}`, { key: reader })).status).toBe(200);
  });
});

describe("the example's handlers", () => {
  let account: TestAccount;

  beforeAll(async () => {
    account = await newAccount();
  });

  it('creates, lists, reads, renders and deletes an invoice of the caller’s account', async () => {
    // Arrange
    const key = (await createKey(account.ownerKey, TEAM_SCOPES, 'all invoices')).api_key;

    // Act
    const created = await call('POST', '/v1/invoices', { key, body: NEW_INVOICE });
    const id = (created.body as Invoice).id;
    const listed = await call('GET', '/v1/invoices', { key });
    const read = await call('GET', `/v1/invoices/${id}`, { key });
    const pdf = await call('GET', `/v1/invoices/${id}/pdf`, { key });
    const deleted = await call('DELETE', `/v1/invoices/${id}`, { key });
    const gone = await call('GET', `/v1/invoices/${id}`, { key });

    // Assert
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/json');
    expect(created.body).toMatchObject({ ...NEW_INVOICE, id: expect.stringMatching(/^inv_/) });
    expect((listed.body as { result: Invoice[] }).result.map((i) => i.id)).toContain(id);
    expect(read.body).toMatchObject({ id, ...NEW_INVOICE });
    expect(pdf.status).toBe(200);
    const document = pdf.body as { content_type: string; content_base64: string };
    expect(document.content_type).toBe('application/pdf');
    expect(Buffer.from(document.content_base64, 'base64').toString()).toMatch(/^%PDF-/);
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(gone.status).toBe(404);
  });

  it('answers 400 naming the field of an invalid invoice', async () => {
    const res = await call('POST', '/v1/invoices', {
      key: account.ownerKey,
      body: { customer: 'Acme', amount_cents: -5 },
    });

    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      errors: [{ field: 'amount_cents', message: expect.stringContaining('amount_cents') }],
    });
  });

  it('links the PDF only for a key that may follow the link', async () => {
    // Arrange
    const invoice = await invoiceOf(account.ownerKey);
    const reader = await createKey(account.ownerKey, ['invoices.read'], 'reader');
    const both = await createKey(account.ownerKey, ['documents.read', 'invoices.read'], 'both');

    // Act
    const plain = await call('GET', `/v1/invoices/${invoice.id}`, { key: reader.api_key });
    const linked = await call('GET', `/v1/invoices/${invoice.id}`, { key: both.api_key });

    // Assert
    expect(plain.body).not.toHaveProperty('pdf_url');
    const link = (linked.body as Invoice).pdf_url ?? '';
    expect(link).toBe(`/v1/invoices/${invoice.id}/pdf`);
    expect((await call('GET', link, { key: both.api_key })).status).toBe(200);
    expect((await call('GET', link, { key: reader.api_key })).status).toBe(403);
  });

  it("answers 404 for another account's invoice on every route that names one, and leaves it be", async () => {
    // Arrange
    const other = await newAccount();
    const theirs = await invoiceOf(other.ownerKey);

    // Act
    const statuses = await Promise.all(
      ROUTES.filter((r) => r.path.includes('{invoice_id}')).map(
        async (r) =>
          (
            await call(r.method, r.path.replace('{invoice_id}', theirs.id), {
              key: account.ownerKey,
            })
          ).status,
      ),
    );
    const ours = await call('GET', '/v1/invoices', { key: account.ownerKey });

    // Assert
    expect(statuses).toEqual([404, 404, 404]);
    expect((ours.body as { result: Invoice[] }).result.map((i) => i.id)).not.toContain(theirs.id);
    const still = await call('GET', `/v1/invoices/${theirs.id}`, { key: other.ownerKey });
    expect(still.status).toBe(200);
  });
});

describe('Keygate beside the example', () => {
  let account: TestAccount;

  beforeAll(async () => {
    account = await newAccount();
  });

  it("lists every scope of the config and SendGrid's for the owner key (/v3/scopes)", async () => {
    const res = await call('GET', '/v3/scopes', { key: account.ownerKey });

    expect(res.status).toBe(200);
    expect((res.body as { scopes: string[] }).scopes).toEqual(
      [...SENDGRID_CATALOGUE.all, ...TEAM_SCOPES].sort(),
    );
  });

  it("lists the team's areas with their Read and Full Access (/v3/scopes/areas)", async () => {
    const res = await call('GET', '/v3/scopes/areas', { key: account.ownerKey });

    expect(res.status).toBe(200);
    const areas = (res.body as { areas: { id: string }[] }).areas;
    expect(areas.filter((a) => a.id === 'invoices' || a.id === 'documents')).toEqual([
      {
        id: 'invoices',
        label: 'Invoices',
        billing: false,
        read: ['invoices.read'],
        full: ['invoices.read', 'invoices.create', 'invoices.delete'],
      },
      {
        id: 'documents',
        label: 'Documents',
        billing: false,
        read: ['documents.read'],
        full: ['documents.read'],
      },
    ]);
    // SendGrid's areas are kept (the default preset), the team's follow them.
    expect(areas.map((a) => a.id)).toEqual([
      ...SENDGRID_CATALOGUE.areas.map((a) => a.id),
      'invoices',
      'documents',
    ]);
  });

  it("lists the team's routes with their scopes (/openapi.json)", async () => {
    const res = await call('GET', '/openapi.json');

    expect(res.status).toBe(200);
    const paths = (res.body as { paths: Record<string, Record<string, Record<string, unknown>>> })
      .paths;
    for (const route of ROUTES) {
      const operation = paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation?.['x-keygate-scopes']).toEqual(route.scopes);
    }
    expect(paths['/v3/api_keys']?.post).toBeDefined();
  });

  it("grants the team's scopes, Full Access included, and refuses one the config does not declare", async () => {
    // Act
    const full = await createKey(account.ownerKey, undefined, 'full');
    const unknown = await call('POST', '/v3/api_keys', {
      key: account.ownerKey,
      body: { name: 'unknown', scopes: ['invoices.update'] },
    });

    // Assert
    const scopes = await call('GET', '/v3/scopes', { key: full.api_key });
    expect((scopes.body as { scopes: string[] }).scopes).toEqual(
      expect.arrayContaining(TEAM_SCOPES),
    );
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('invoices.update');
  });
});

describe('a cached allow never outlives the key on a team route', () => {
  it('refuses a key right after it expires, with the cache TTL at 300 s', async () => {
    // Arrange: a key that expires in 2 s, allowed on the team's route (its allow now cached)
    const { ownerKey } = await newAccount();
    const created = await call('POST', '/v3/api_keys', {
      key: ownerKey,
      body: {
        name: 'short-lived',
        scopes: ['invoices.read'],
        expires_at: new Date(Date.now() + 2000).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    const key = (created.body as { api_key: string }).api_key;
    expect((await call('GET', '/v1/invoices', { key })).status).toBe(200);
    const before = { ...emulator.stats };

    // Act: the clocks of the gateway, the authorizer and the handlers move 3 s on
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3000);
    const res = await call('GET', '/v1/invoices', { key });

    // Assert: the gateway answered from its cached allow; Keygate's wrapper refused
    expect(emulator.stats.cacheHits).toBe(before.cacheHits + 1);
    expect(emulator.stats.authorizerInvocations).toBe(before.authorizerInvocations);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      errors: [
        {
          field: null,
          message: 'The provided authorization grant is invalid, expired, or revoked',
        },
      ],
    });
  });

  it('refuses a rolled key’s old secret the moment its grace period ends', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const key = await createKey(ownerKey, ['invoices.read'], 'rolled');
    const rolled = await call('POST', `/v3/api_keys/${key.api_key_id}/roll`, {
      key: ownerKey,
      body: { grace_seconds: 2 },
    });
    expect(rolled.status).toBe(200);
    expect((await call('GET', '/v1/invoices', { key: key.api_key })).status).toBe(200);

    // Act
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3000);
    const old = await call('GET', '/v1/invoices', { key: key.api_key });
    const fresh = await call('GET', '/v1/invoices', {
      key: (rolled.body as { api_key: string }).api_key,
    });

    // Assert
    expect(old.status).toBe(401);
    expect(fresh.status).toBe(200);
  });
});

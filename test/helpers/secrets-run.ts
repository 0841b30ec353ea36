import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import type * as z from 'zod';
import {
  ApiGatewayEmulator,
  type EmulatorRequest,
  type EmulatorResponse,
} from '../../local/emulator.js';
import { DynamoKeyWarningStore } from '../../shared/adapters/dynamodb/key-warnings.js';
import {
  LocalAuthorizerCache,
  onLocalAuthorizerCacheFlush,
} from '../../shared/adapters/local/authorizer-cache.js';
import { generateApiKey } from '../../shared/domain/key-format.js';
import {
  DAY_MS,
  enableKeyByOperator,
  type KeyWarningStore,
  scanKeyWarnings,
} from '../../shared/domain/key-warnings.js';
import {
  activeDeployment,
  teamHandlersDir,
  useDeployment,
} from '../../shared/runtime/deployment.js';
import { dynamoDocumentClient, runtimeConfig } from '../../shared/runtime/storage.js';
import { AuditEventList, CreatedApiKey, RolledApiKey } from '../../shared/schemas/api-keys.js';
import type { CallOptions } from './gateway.js';
import { newAccount } from './harness.js';
import { runtimeLogsOn } from './log-level.js';
import { type AccountItems, accountItems } from './table-items.js';
import { checked } from './typed-body.js';

/**
 * The secrets tests' scripted run (issue 8): through the API Gateway emulator (the real
 * authorizer and handlers on DynamoDB Local), error paths included, it captures every log line
 * and metric the process writes, every HTTP response, the audit log, the outbox and every
 * DynamoDB item of its accounts, for test/integration/secrets.test.ts to scan for key material.
 */

export const KEY_PREFIX = 'SG';

export interface Exchange {
  label: string;
  routeId: EmulatorResponse['routeId'];
  status: number;
  /** The response as a client sees it: headers and body. */
  text: string;
}

/** Everything the run wrote, and every key it was handed. */
export interface ScriptedRun {
  /** stdout and stderr: Powertools' JSON logs, EMF metric lines, warnings. */
  logs: string;
  exchanges: Exchange[];
  /** Every key handed out: the accounts' owner keys, then each create's and roll's. */
  issued: string[];
  accountIds: string[];
  /** The account whose mail goes to the outbox. */
  acmeId: string;
  stored: AccountItems;
  outbox: { name: string; text: string }[];
}

const MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Quarterly report',
  content: [{ type: 'text/plain', value: 'See attached.' }],
};

/** The gateway helper's options, and a body sent as it is (invalid JSON). */
type RunCallOptions = CallOptions & { rawBody?: string };

export async function scriptedRun(): Promise<ScriptedRun> {
  // Everything the process writes to stdout and stderr is captured from here on.
  const output: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  // A plan without limits of its own: keys may then carry limits, and one's quota warning is
  // among the events scanned.
  const before = activeDeployment();
  useDeployment(
    { ...before.spec, plans: [{ id: 'unmetered' }], defaultPlan: 'unmetered' },
    teamHandlersDir(),
  );
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const logsOff = runtimeLogsOn();
  const emulator = new ApiGatewayEmulator({ cacheTtlSeconds: 300 });
  const issued: string[] = [];
  const exchanges: Exchange[] = [];
  const call = async <S extends z.ZodType = z.ZodUnknown>(
    label: string,
    method: string,
    path: string,
    options: RunCallOptions = {},
    answer?: S,
  ) => {
    const authorization =
      options.authorization ?? (options.key === undefined ? undefined : `Bearer ${options.key}`);
    const body =
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const request: EmulatorRequest = {
      method,
      path,
      headers: {
        ...(authorization === undefined ? {} : { Authorization: authorization }),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      ...(options.query ? { query: options.query } : {}),
      ...(body === undefined ? {} : { body }),
      ...(options.sourceIp ? { sourceIp: options.sourceIp } : {}),
    };
    const response = await emulator.handle(request);
    exchanges.push({
      label,
      routeId: response.routeId,
      status: response.status,
      text: `${JSON.stringify(response.headers)}\n${response.body}`,
    });
    const parsed: unknown = response.body === '' ? undefined : JSON.parse(response.body);
    const apiKey = CreatedApiKey.pick({ api_key: true }).safeParse(parsed).data?.api_key;
    if (apiKey !== undefined) issued.push(apiKey);
    return {
      status: response.status,
      body: checked(answer, parsed, `${label} → ${response.status}`),
    };
  };
  const create = async (ownerKey: string, body: { name: string } & Record<string, unknown>) => {
    const res = await call(
      `create ${body.name}`,
      'POST',
      '/v3/api_keys',
      { key: ownerKey, body },
      CreatedApiKey,
    );
    expect(res.status, body.name).toBe(201);
    return { key: res.body.api_key, id: res.body.api_key_id };
  };
  const faults: string[] = [];
  const injectFault = (name: string, when: (input: Record<string, unknown>) => boolean) => {
    faults.push(name);
    dynamoDocumentClient().middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as Record<string, unknown>;
        // The error carries the whole command: if a command ever held key material, the
        // error log would show it.
        if (when(input)) {
          throw Object.assign(new Error(`connect ECONNREFUSED (${JSON.stringify(input)})`), {
            name: 'NetworkingError',
          });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
  };
  const removeFault = (name: string) => dynamoDocumentClient().middlewareStack.remove(name);
  let stopFlushFailing: (() => void) | undefined;
  const accountIds: string[] = [];
  let acmeId = '';

  try {
    // Two accounts, keys of every kind.
    const acme = await newAccount();
    const other = await newAccount();
    issued.push(acme.ownerKey, other.ownerKey);
    accountIds.push(acme.accountId, other.accountId);
    acmeId = acme.accountId;
    const owner = acme.ownerKey;
    const full = await create(owner, { name: 'full' });
    const admin = await create(owner, {
      name: 'admin',
      scopes: ['api_keys.create', 'api_keys.read', 'api_keys.update', 'api_keys.delete'],
    });
    const mailer = await create(owner, { name: 'mailer', scopes: ['mail.send'] });
    const billing = await create(owner, {
      name: 'billing',
      scopes: ['billing.read', 'billing.update'],
    });
    const limited = await create(owner, {
      name: 'limited',
      scopes: ['api_keys.read'],
      expires_at: '2099-01-01T00:00:00Z',
      allowed_ips: ['203.0.113.0/24'],
    });
    const doomed = await create(owner, { name: 'doomed', scopes: ['alerts.read'] });
    const leaked = await create(owner, { name: 'leaked', scopes: ['alerts.read'] });
    const graced = await create(owner, { name: 'graced', scopes: ['alerts.read'] });
    const fresh = await create(owner, { name: 'fresh', scopes: ['alerts.read'] });
    const metered = await create(owner, {
      name: 'metered',
      scopes: ['alerts.read'],
      limits: { rate: { per_second: 100, burst: 100 }, quota: { per_day: 5 } },
    });
    const expiring = await create(owner, {
      name: 'expiring',
      scopes: ['alerts.read'],
      expires_at: new Date(Date.now() + 3 * DAY_MS).toISOString(),
    });
    const foreign = await create(other.ownerKey, { name: 'foreign', scopes: ['mail.send'] });

    // Reads with every key, from the right and the wrong address.
    await call('list', 'GET', '/v3/api_keys', { key: owner });
    for (const k of [full, admin, mailer, billing, limited, doomed]) {
      await call('get', 'GET', `/v3/api_keys/${k.id}`, { key: owner });
      await call('scopes', 'GET', '/v3/scopes', { key: k.key, sourceIp: '203.0.113.9' });
    }
    await call('list from the allowlist', 'GET', '/v3/api_keys', {
      key: limited.key,
      sourceIp: '203.0.113.5',
    });
    await call('list from elsewhere', 'GET', '/v3/api_keys', {
      key: limited.key,
      sourceIp: '198.51.100.1',
    });
    await call('another account', 'GET', `/v3/api_keys/${foreign.id}`, { key: owner });
    // A key's own quota: warned at 80 % (the 4th request), refused past it.
    for (let i = 0; i < 6; i++) await call('metered', 'GET', '/v3/scopes', { key: metered.key });

    // Mail to the outbox, in sandbox, and refused; billing, and billing refused.
    await call('mail', 'POST', '/v3/mail/send', { key: mailer.key, body: MAIL });
    await call('mail sandbox', 'POST', '/v3/mail/send', {
      key: mailer.key,
      body: { ...MAIL, mail_settings: { sandbox_mode: { enable: true } } },
    });
    await call('mail invalid', 'POST', '/v3/mail/send', { key: mailer.key, body: { from: {} } });
    await call('billing get', 'GET', '/v3/billing/profile', { key: billing.key });
    await call('billing patch', 'PATCH', '/v3/billing/profile', {
      key: billing.key,
      body: { company: 'Acme', email: 'billing@example.com' },
    });
    await call('billing key on a general route', 'GET', '/v3/api_keys', { key: billing.key });
    await call('general key on billing', 'GET', '/v3/billing/profile', { key: full.key });

    // Updates, rolls (old key used in its grace period, then refused), escalations refused.
    await call('rename', 'PATCH', `/v3/api_keys/${full.id}`, {
      key: owner,
      body: { name: 'renamed' },
    });
    await call('replace', 'PUT', `/v3/api_keys/${full.id}`, {
      key: owner,
      body: { name: 'narrowed', scopes: ['alerts.read', 'mail.send'] },
    });
    const rolled = await call(
      'roll with grace',
      'POST',
      `/v3/api_keys/${mailer.id}/roll`,
      { key: owner, body: { grace_seconds: 3600 } },
      RolledApiKey,
    );
    await call('old key in its grace period', 'GET', '/v3/scopes', { key: mailer.key });
    await call('new key', 'GET', '/v3/scopes', { key: rolled.body.api_key });
    await call('roll without api_keys.update', 'POST', `/v3/api_keys/${mailer.id}/roll`, {
      key: rolled.body.api_key,
      body: { grace_seconds: 0 },
    });
    await call('roll without grace', 'POST', `/v3/api_keys/${mailer.id}/roll`, {
      key: owner,
      body: { grace_seconds: 0 },
    });
    await call('rolled-away key', 'GET', '/v3/scopes', { key: rolled.body.api_key });
    await call('escalation on create', 'POST', '/v3/api_keys', {
      key: admin.key,
      body: { name: 'escalate', scopes: ['mail.send'] },
    });
    await call('escalation on delete', 'DELETE', `/v3/api_keys/${billing.id}`, {
      key: admin.key,
    });

    // Bad keys: malformed, a typo of a real key, a forged checksum for a real ID, deleted.
    await call('malformed', 'GET', '/v3/scopes', { authorization: 'Bearer SG.nope' });
    const typo = `${full.key.slice(0, 40)}${full.key[40] === 'A' ? 'B' : 'A'}${full.key.slice(41)}`;
    await call('typo', 'GET', '/v3/scopes', { key: typo });
    const forged = generateApiKey(KEY_PREFIX, admin.id).apiKey;
    await call('forged', 'GET', '/v3/scopes', { key: forged });
    await call('basic scheme', 'GET', '/v3/scopes', { authorization: `Basic ${owner}` });
    await call('delete', 'DELETE', `/v3/api_keys/${doomed.id}`, { key: owner });
    await call('deleted key', 'GET', '/v3/scopes', { key: doomed.key });

    // Bodies refused: invalid JSON, too large, not JSON, and the subuser header.
    await call('invalid JSON', 'POST', '/v3/api_keys', { key: owner, rawBody: '{"name":' });
    await call('too large', 'POST', '/v3/api_keys', {
      key: owner,
      body: { name: 'x'.repeat(20_000) },
    });
    await call('not JSON', 'POST', '/v3/api_keys', {
      key: owner,
      rawBody: 'name=x',
      headers: { 'Content-Type': 'text/plain' },
    });
    await call('on-behalf-of', 'GET', '/v3/api_keys', {
      key: owner,
      headers: { 'on-behalf-of': 'sub' },
    });

    // Storage faults: in a handler (the caller's allow is cached), in the authorizer (an
    // uncached key), and in the authorizer's last-use write (the request still succeeds).
    injectFault('storage-down', () => true);
    await call('handler, storage down', 'GET', '/v3/api_keys', {
      key: owner,
    });
    emulator.flushAuthorizerCache();
    await call('authorizer, storage down', 'GET', '/v3/scopes', {
      key: admin.key,
    });
    removeFault('storage-down');
    injectFault('touch-down', (input) =>
      String(input.UpdateExpression ?? '').includes('lastUsedAt'),
    );
    await call('last use not recorded', 'GET', '/v3/scopes', {
      key: fresh.key,
    });
    removeFault('touch-down');

    // A revocation whose authorizer-cache flush fails: still done, logged and counted.
    stopFlushFailing = onLocalAuthorizerCacheFlush(() => {
      throw new Error('FlushStageAuthorizersCache: TooManyRequestsException');
    });
    await call('delete, flush failing', 'DELETE', `/v3/api_keys/${limited.id}`, {
      key: owner,
    });
    stopFlushFailing();
    stopFlushFailing = undefined;

    // Leaked-key reports: a current key, a key in its grace period, another account's owner
    // key, noise; then the same again.
    await call('roll before the leak', 'POST', `/v3/api_keys/${graced.id}/roll`, {
      key: owner,
      body: { grace_seconds: 3600 },
    });
    const report = {
      keys: [leaked.key, graced.key, other.ownerKey, 'SG.not-a-key', ` ${forged}`],
    };
    for (const attempt of ['first', 'again']) {
      await call(`revoke leaked (${attempt})`, 'POST', '/v3/api_keys/revoke-leaked', {
        body: report,
      });
    }
    await call('leaked key', 'GET', '/v3/scopes', { key: leaked.key });
    await call('leaked owner key', 'GET', '/v3/scopes', { key: other.ownerKey });

    // Key warnings: the scan (of this run's accounts only: the table is shared) warns of the key
    // 3 days from expiry, then, 91 days on, of every unused key, disabling them; an operator
    // enables one again.
    const warnings = runAccountsOnly(
      new DynamoKeyWarningStore(dynamoDocumentClient(), runtimeConfig().tables),
      accountIds,
    );
    const scanDeps = {
      now: () => new Date(),
      store: warnings,
      authorizerCache: new LocalAuthorizerCache(),
    };
    await scanKeyWarnings(scanDeps, { expiryDays: [30, 7, 1], disableUnused: false });
    await scanKeyWarnings(
      scanDeps,
      { expiryDays: [], unusedDays: 90, disableUnused: true },
      new Date(Date.now() + 91 * DAY_MS),
    );
    await call('disabled key', 'GET', '/v3/scopes', { key: expiring.key });
    await enableKeyByOperator(scanDeps, acme.accountId, billing.id);
    await call('enabled key', 'GET', '/v3/billing/profile', { key: billing.key });

    // The audit log, through the API: every page, and one key's history.
    let cursor: string | undefined;
    do {
      const page = await call(
        'events',
        'GET',
        '/v3/api_keys/events',
        { key: owner, query: { limit: '7', ...(cursor ? { cursor } : {}) } },
        AuditEventList,
      );
      cursor = page.body.next_cursor ?? undefined;
    } while (cursor);
    await call('history', 'GET', '/v3/api_keys/events', {
      key: owner,
      query: { api_key_id: mailer.id },
    });
    await call('list at the end', 'GET', '/v3/api_keys', { key: owner });
    await call('scopes at the end', 'GET', '/v3/scopes', { key: owner });
  } finally {
    for (const name of faults) removeFault(name);
    stopFlushFailing?.();
    emulator.close();
    logsOff();
    stdout.mockRestore();
    stderr.mockRestore();
    useDeployment(before.spec, teamHandlersDir());
  }

  const outboxDir = process.env.KEYGATE_OUTBOX_DIR ?? '';
  const outbox = await Promise.all(
    (await readdir(outboxDir)).map(async (name) => ({
      name,
      text: await readFile(join(outboxDir, name), 'utf8'),
    })),
  );
  return {
    logs: output.join(''),
    exchanges,
    issued,
    accountIds,
    acmeId,
    stored: await accountItems(accountIds),
    outbox,
  };
}

/** The store, seeing only the keys of `accountIds` (the run shares its tables with other files). */
function runAccountsOnly(store: KeyWarningStore, accountIds: readonly string[]): KeyWarningStore {
  return {
    scanKeys: async (after) => {
      const page = await store.scanKeys(after);
      return { ...page, keys: page.keys.filter((k) => accountIds.includes(k.key.accountId)) };
    },
    recordWarning: (warning, events, at) => store.recordWarning(warning, events, at),
    enableKey: (keyId, accountId, event) => store.enableKey(keyId, accountId, event),
  };
}

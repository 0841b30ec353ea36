// The metrics' EMF lines are searched for leaks with the logs: written (first import).
import '../helpers/metrics-on.js';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  ApiGatewayEmulator,
  type EmulatorRequest,
  type EmulatorResponse,
} from '../../local/emulator.js';
import { onLocalAuthorizerCacheFlush } from '../../shared/adapters/local/authorizer-cache.js';
import { generateApiKey, keyDetectionPattern } from '../../shared/domain/key-format.js';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';
import { newAccount } from '../helpers/harness.js';
import { runtimeLogsOn } from '../helpers/log-level.js';
import { accountItems } from '../helpers/table-items.js';

/**
 * Secrets (issue 8): a full scripted run through the API Gateway emulator (the real authorizer
 * and handlers on DynamoDB Local), error paths included, captures every log line and metric the
 * process writes, every HTTP response, the audit log, the outbox and every DynamoDB item of its
 * accounts, and fails if any issued key (or its secret, or the secret's random part) appears
 * anywhere but the create and roll responses that hand it out.
 */

// ---------------------------------------------------------------------------------------------
// The scanner

const PREFIX = 'SG';
/** Any prefix a deployment may configure, in place of `SG`: keyDetectionPattern's own shape. */
const ANY_PREFIX = '[A-Za-z][A-Za-z0-9_]{0,15}';

interface Material {
  key: string;
  /** What to look for, and what it is. */
  needles: { label: string; text: string }[];
}

/**
 * What must never appear of one key: the key, its 43-character secret, the secret's 37 random
 * characters, and the secret base64- or base64url-encoded at any byte alignment (the middle of the
 * encoding, which does not depend on the bytes around it).
 */
function materialOf(key: string): Material {
  const secret = key.slice(PREFIX.length + 1 + 22 + 1);
  const needles = [
    { label: 'key', text: key },
    { label: 'secret', text: secret },
    { label: 'random part', text: secret.slice(0, 37) },
  ];
  for (let align = 0; align < 3; align += 1) {
    const encoded = Buffer.from(`${'\0'.repeat(align)}${secret}`).toString('base64');
    const middle = encoded.slice(align === 0 ? 0 : 4, -4);
    needles.push({ label: `base64 (alignment ${align})`, text: middle });
    needles.push({
      label: `base64url (alignment ${align})`,
      text: middle.replaceAll('+', '-').replaceAll('/', '_'),
    });
  }
  return { key, needles };
}

/** Every piece of key material of `keys` found in `text`. */
function leaksIn(text: string, keys: readonly Material[]): string[] {
  return keys.flatMap(({ key, needles }) =>
    needles.filter((n) => text.includes(n.text)).map((n) => `${n.label} of ${key.slice(0, 28)}…`),
  );
}

/** Key-shaped strings of any prefix, valid or not (the documented detection regex). */
function keyShapedIn(text: string): string[] {
  return [...text.matchAll(keyDetectionPattern(ANY_PREFIX))].map((m) => m[1] ?? '');
}

// ---------------------------------------------------------------------------------------------

interface Exchange {
  label: string;
  routeId: EmulatorResponse['routeId'];
  status: number;
  /** The response as a client sees it: headers and body. */
  text: string;
}

const MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Quarterly report',
  content: [{ type: 'text/plain', value: 'See attached.' }],
};

describe('secrets', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('the scanner finds a planted key, its secret, its random part and its base64 in a log line', () => {
    // Arrange
    const { apiKey } = generateApiKey(PREFIX);
    const secret = apiKey.slice(-43);
    const material = [materialOf(apiKey)];
    const lines = {
      key: `{"level":"INFO","message":"authorizer decision","header":"Bearer ${apiKey}"}`,
      secret: `{"level":"ERROR","error":"bad value ${secret}"}`,
      random: `{"message":"prefix${secret.slice(0, 37)}suffix"}`,
      base64: `{"message":"${Buffer.from(`ab${secret}cd`).toString('base64')}"}`,
      clean: '{"level":"INFO","message":"authorizer decision","keyId":"AAAAAAAAAAAAAAAAAAAAAA"}',
    };

    // Act
    const found = Object.fromEntries(
      Object.entries(lines).map(([name, line]) => [name, leaksIn(line, material)]),
    );

    // Assert
    expect(found.key).toContain(`key of ${apiKey.slice(0, 28)}…`);
    expect(found.secret).toContain(`secret of ${apiKey.slice(0, 28)}…`);
    expect(found.random).toContain(`random part of ${apiKey.slice(0, 28)}…`);
    expect(found.base64?.length).toBeGreaterThan(0);
    expect(found.clean).toEqual([]);
    expect(keyShapedIn(lines.key)).toEqual([apiKey]);
    expect(keyShapedIn(`x ${generateApiKey('Acme_1').apiKey} y`)).toHaveLength(1);
    expect(keyShapedIn(lines.clean)).toEqual([]);
  });

  it('a full run leaks no issued key into logs, metrics, responses, the audit log, the outbox or DynamoDB', async () => {
    // Arrange: everything the process writes to stdout and stderr (Powertools' JSON logs, EMF
    // metric lines, warnings) is captured from here on.
    const output: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    onTestFinished(runtimeLogsOn());
    const emulator = new ApiGatewayEmulator({ cacheTtlSeconds: 300 });
    const issued: string[] = [];
    const exchanges: Exchange[] = [];
    const call = async (
      label: string,
      method: string,
      path: string,
      options: {
        key?: string;
        authorization?: string;
        body?: unknown;
        rawBody?: string;
        headers?: Record<string, string>;
        query?: Record<string, string>;
        sourceIp?: string;
      } = {},
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
      const parsed = response.body === '' ? undefined : (JSON.parse(response.body) as unknown);
      const apiKey = (parsed as { api_key?: unknown } | undefined)?.api_key;
      if (typeof apiKey === 'string') issued.push(apiKey);
      return { status: response.status, body: parsed as Record<string, unknown> };
    };
    const create = async (ownerKey: string, body: Record<string, unknown>) => {
      const res = await call(`create ${String(body.name)}`, 'POST', '/v3/api_keys', {
        key: ownerKey,
        body,
      });
      expect(res.status, String(body.name)).toBe(201);
      return { key: String(res.body.api_key), id: String(res.body.api_key_id) };
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
      // Act: two accounts, keys of every kind.
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

      // Mail to the outbox, in sandbox, and refused; billing, and billing refused.
      expect(
        (await call('mail', 'POST', '/v3/mail/send', { key: mailer.key, body: MAIL })).status,
      ).toBe(202);
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
      const rolled = await call('roll with grace', 'POST', `/v3/api_keys/${mailer.id}/roll`, {
        key: owner,
        body: { grace_seconds: 3600 },
      });
      expect(rolled.status).toBe(200);
      await call('old key in its grace period', 'GET', '/v3/scopes', { key: mailer.key });
      await call('new key', 'GET', '/v3/scopes', { key: String(rolled.body.api_key) });
      const refusedRoll = await call(
        'roll without api_keys.update',
        'POST',
        `/v3/api_keys/${mailer.id}/roll`,
        {
          key: String(rolled.body.api_key),
          body: { grace_seconds: 0 },
        },
      );
      expect(refusedRoll.status).toBe(403);
      const ownerRoll = await call('roll without grace', 'POST', `/v3/api_keys/${mailer.id}/roll`, {
        key: owner,
        body: { grace_seconds: 0 },
      });
      expect(ownerRoll.status).toBe(200);
      await call('rolled-away key', 'GET', '/v3/scopes', { key: String(rolled.body.api_key) });
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
      const forged = generateApiKey(PREFIX, admin.id).apiKey;
      await call('forged', 'GET', '/v3/scopes', { key: forged });
      await call('basic scheme', 'GET', '/v3/scopes', { authorization: `Basic ${owner}` });
      expect(
        (await call('delete', 'DELETE', `/v3/api_keys/${doomed.id}`, { key: owner })).status,
      ).toBe(204);
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
      const handlerDown = await call('handler, storage down', 'GET', '/v3/api_keys', {
        key: owner,
      });
      emulator.flushAuthorizerCache();
      const authorizerDown = await call('authorizer, storage down', 'GET', '/v3/scopes', {
        key: admin.key,
      });
      removeFault('storage-down');
      injectFault('touch-down', (input) =>
        String(input.UpdateExpression ?? '').includes('lastUsedAt'),
      );
      const touchDown = await call('last use not recorded', 'GET', '/v3/scopes', {
        key: fresh.key,
      });
      removeFault('touch-down');
      expect([handlerDown.status, authorizerDown.status, touchDown.status]).toEqual([
        503, 503, 200,
      ]);

      // A revocation whose authorizer-cache flush fails: still done, logged and counted.
      stopFlushFailing = onLocalAuthorizerCacheFlush(() => {
        throw new Error('FlushStageAuthorizersCache: TooManyRequestsException');
      });
      const flushFailed = await call(
        'delete, flush failing',
        'DELETE',
        `/v3/api_keys/${limited.id}`,
        {
          key: owner,
        },
      );
      stopFlushFailing();
      stopFlushFailing = undefined;
      expect(flushFailed.status).toBe(204);

      // Leaked-key reports: a current key, a key in its grace period, another account's owner
      // key, noise; then the same again.
      const gracedRoll = await call(
        'roll before the leak',
        'POST',
        `/v3/api_keys/${graced.id}/roll`,
        {
          key: owner,
          body: { grace_seconds: 3600 },
        },
      );
      expect(gracedRoll.status).toBe(200);
      const report = {
        keys: [leaked.key, graced.key, other.ownerKey, 'SG.not-a-key', ` ${forged}`],
      };
      for (const attempt of ['first', 'again']) {
        const res = await call(`revoke leaked (${attempt})`, 'POST', '/v3/api_keys/revoke-leaked', {
          body: report,
        });
        expect(res.status).toBe(202);
      }
      await call('leaked key', 'GET', '/v3/scopes', { key: leaked.key });
      await call('leaked owner key', 'GET', '/v3/scopes', { key: other.ownerKey });

      // The audit log, through the API: every page, and one key's history.
      let cursor: string | undefined;
      do {
        const page = await call('events', 'GET', '/v3/api_keys/events', {
          key: owner,
          query: { limit: '7', ...(cursor ? { cursor } : {}) },
        });
        expect(page.status).toBe(200);
        cursor = typeof page.body.next_cursor === 'string' ? page.body.next_cursor : undefined;
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
      vi.restoreAllMocks();
    }

    // Assert: the run did what it says, so the scans below are not vacuous.
    const logs = output.join('');
    for (const line of [
      '"message":"authorizer decision"',
      '"message":"request failed"',
      '"message":"authorizer failed"',
      '"message":"last-used update failed"',
      '"message":"authorizer cache flush failed; revocation waits for the cache TTL"',
      '"AuthorizerCacheFlushFailed":1',
    ]) {
      expect(logs, line).toContain(line);
    }
    const statuses = new Set(exchanges.map((e) => e.status));
    for (const status of [200, 201, 202, 204, 400, 401, 403, 404, 413, 415, 503]) {
      expect(statuses, `a ${status} in the run`).toContain(status);
    }
    const handsOut = (e: Exchange) =>
      (e.routeId === 'createApiKey' || e.routeId === 'rollApiKey') && e.status < 300;
    expect(issued).toHaveLength(accountIds.length + exchanges.filter(handsOut).length);
    const stored = await accountItems(accountIds);
    const actions = new Set(stored.audit.map((event) => String(event.action)));
    for (const action of [
      'api_key.created',
      'api_key.updated',
      'api_key.rolled',
      'api_key.deleted',
      'api_key.leak_revoked',
      'api_key.escalation_refused',
    ]) {
      expect(actions, action).toContain(action);
    }
    const outboxDir = process.env.KEYGATE_OUTBOX_DIR ?? '';
    const outbox = await Promise.all(
      (await readdir(outboxDir)).map(async (name) => ({
        name,
        text: await readFile(join(outboxDir, name), 'utf8'),
      })),
    );
    expect(outbox.filter((file) => file.text.includes(acmeId))).not.toHaveLength(0);

    // Assert: no key material anywhere but in the responses that hand a key out.
    const material = issued.map(materialOf);
    expect(logs, 'EMF metric lines captured too').toContain('"_aws"');
    expect(leaksIn(logs, material), 'logs and metrics').toEqual([]);
    expect(keyShapedIn(logs), 'key-shaped strings in logs and metrics').toEqual([]);
    // The logger's redactor is the last line of defence: no code path should need it.
    expect(logs).not.toContain('[REDACTED');
    for (const exchange of exchanges.filter((e) => !handsOut(e))) {
      const where = `${exchange.label} → ${exchange.status}`;
      expect(leaksIn(exchange.text, material), where).toEqual([]);
      expect(keyShapedIn(exchange.text), where).toEqual([]);
    }
    // A response that hands a key out holds that one key, never an older one.
    for (const exchange of exchanges.filter(handsOut)) {
      const keys = keyShapedIn(exchange.text);
      expect(keys, exchange.label).toHaveLength(1);
      expect(
        leaksIn(
          exchange.text,
          material.filter((m) => m.key !== keys[0]),
        ),
        exchange.label,
      ).toEqual([]);
    }
    for (const item of [...stored.keys, ...stored.accounts, ...stored.audit]) {
      const text = JSON.stringify(item);
      expect(leaksIn(text, material), text.slice(0, 160)).toEqual([]);
      expect(keyShapedIn(text), text.slice(0, 160)).toEqual([]);
    }
    for (const file of outbox) {
      expect(leaksIn(file.text, material), file.name).toEqual([]);
      expect(keyShapedIn(file.text), file.name).toEqual([]);
    }
  }, 120_000);
});

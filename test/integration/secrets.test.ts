// The metrics' EMF lines are searched for leaks with the logs: written (first import).
import '../helpers/metrics-on.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, keyDetectionPattern } from '../../shared/domain/key-format.js';
import type { AuditAction } from '../../shared/domain/ports.js';
import {
  type Exchange,
  KEY_PREFIX,
  type ScriptedRun,
  scriptedRun,
} from '../helpers/secrets-run.js';

/**
 * Secrets (issue 8): a full scripted run (test/helpers/secrets-run.ts) through the API Gateway
 * emulator, error paths included, captures every log line and metric the process writes, every
 * HTTP response, the audit log, the outbox and every DynamoDB item of its accounts; the tests
 * fail if any issued key (or its secret, or the secret's random part) appears anywhere but the
 * create and roll responses that hand it out. One run serves every case: a key issued early must
 * not show up in what a later step writes, so the scans look at the whole run at once.
 */

// ---------------------------------------------------------------------------------------------
// The scanner

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
  const secret = key.slice(KEY_PREFIX.length + 1 + 22 + 1);
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

/** Every action the audit log records about a key: a new one fails to compile until it is here. */
const KEY_ACTIONS: Record<Extract<AuditAction, `api_key.${string}`>, true> = {
  'api_key.created': true,
  'api_key.updated': true,
  'api_key.rolled': true,
  'api_key.deleted': true,
  'api_key.leak_revoked': true,
  'api_key.escalation_refused': true,
  'api_key.quota_warning': true,
  'api_key.expiry_warning': true,
  'api_key.unused_warning': true,
  'api_key.disabled_unused': true,
  'api_key.enabled': true,
};

describe('secrets', () => {
  it('the scanner finds a planted key, its secret, its random part and its base64 in a log line', () => {
    // Arrange
    const { apiKey } = generateApiKey(KEY_PREFIX);
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

  describe('a full scripted run', () => {
    let run: ScriptedRun;
    let material: Material[];
    beforeAll(async () => {
      run = await scriptedRun();
      material = run.issued.map(materialOf);
    }, 120_000);
    const statusesOf = (label: string) =>
      run.exchanges.filter((e) => e.label === label).map((e) => e.status);
    const handsOut = (e: Exchange) =>
      (e.routeId === 'createApiKey' || e.routeId === 'rollApiKey') && e.status < 300;

    // The run did what it says, so the scans are not vacuous.

    it('logs every path the scans must cover: decisions, failures, a failed cache flush', () => {
      for (const line of [
        '"message":"authorizer decision"',
        '"message":"request failed"',
        '"message":"authorizer failed"',
        '"message":"last-used update failed"',
        '"message":"authorizer cache flush failed; revocation waits for the cache TTL"',
        '"AuthorizerCacheFlushFailed":1',
      ]) {
        expect(run.logs, line).toContain(line);
      }
    });

    it('gets every status from 200 to 503 that its responses can carry', () => {
      const statuses = new Set(run.exchanges.map((e) => e.status));
      for (const status of [200, 201, 202, 204, 400, 401, 403, 404, 413, 415, 503]) {
        expect(statuses, `a ${status} in the run`).toContain(status);
      }
    });

    it('sends mail to the outbox (202)', () => {
      expect(statusesOf('mail')).toEqual([202]);
      expect(run.outbox.filter((file) => file.text.includes(run.acmeId))).not.toHaveLength(0);
    });

    it('rolls with and without a grace period, and refuses a roll by a key without api_keys.update', () => {
      expect(statusesOf('roll with grace')).toEqual([200]);
      expect(statusesOf('roll without api_keys.update')).toEqual([403]);
      expect(statusesOf('roll without grace')).toEqual([200]);
      expect(statusesOf('roll before the leak')).toEqual([200]);
    });

    it('deletes keys, also when the authorizer-cache flush fails (204)', () => {
      expect(statusesOf('delete')).toEqual([204]);
      expect(statusesOf('delete, flush failing')).toEqual([204]);
    });

    it('answers 503 while storage is down, and 200 when only the last-use write fails', () => {
      expect(
        ['handler, storage down', 'authorizer, storage down', 'last use not recorded'].flatMap(
          statusesOf,
        ),
      ).toEqual([503, 503, 200]);
    });

    it('accepts the leaked-key report, and the same report again (202)', () => {
      for (const attempt of ['first', 'again']) {
        expect(statusesOf(`revoke leaked (${attempt})`)).toEqual([202]);
      }
    });

    it('reads every page of the audit log, and records every kind of key event', () => {
      expect(new Set(statusesOf('events'))).toEqual(new Set([200]));
      const actions = new Set(run.stored.audit.map((event) => String(event.action)));
      for (const action of Object.keys(KEY_ACTIONS)) {
        expect(actions, action).toContain(action);
      }
    });

    it('was handed the owner keys and one key per create or roll response, and no other', () => {
      expect(run.issued).toHaveLength(
        run.accountIds.length + run.exchanges.filter(handsOut).length,
      );
    });

    // No key material anywhere but in the responses that hand a key out.

    it('leaks no key material into logs and metrics', () => {
      expect(run.logs, 'EMF metric lines captured too').toContain('"_aws"');
      expect(leaksIn(run.logs, material), 'logs and metrics').toEqual([]);
      expect(keyShapedIn(run.logs), 'key-shaped strings in logs and metrics').toEqual([]);
      // The logger's redactor is the last line of defence: no code path should need it.
      expect(run.logs).not.toContain('[REDACTED');
    });

    it('leaks no key material into a response that does not hand a key out', () => {
      for (const exchange of run.exchanges.filter((e) => !handsOut(e))) {
        const where = `${exchange.label} → ${exchange.status}`;
        expect(leaksIn(exchange.text, material), where).toEqual([]);
        expect(keyShapedIn(exchange.text), where).toEqual([]);
      }
    });

    it('hands out one key per create or roll response, never an older one', () => {
      for (const exchange of run.exchanges.filter(handsOut)) {
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
    });

    it('leaks no key material into DynamoDB items: keys, accounts, audit events', () => {
      for (const item of [...run.stored.keys, ...run.stored.accounts, ...run.stored.audit]) {
        const text = JSON.stringify(item);
        expect(leaksIn(text, material), text.slice(0, 160)).toEqual([]);
        expect(keyShapedIn(text), text.slice(0, 160)).toEqual([]);
      }
    });

    it('leaks no key material into the outbox', () => {
      for (const file of run.outbox) {
        expect(leaksIn(file.text, material), file.name).toEqual([]);
        expect(keyShapedIn(file.text), file.name).toEqual([]);
      }
    });
  });
});

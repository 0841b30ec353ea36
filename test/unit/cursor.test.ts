import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../shared/domain/api-keys.js';
import { auditEvent } from '../../shared/domain/audit.js';
import { CURSOR_KEY_BYTES, openCursor, sealCursor } from '../../shared/domain/cursor.js';
import type { KeyRecord } from '../../shared/domain/ports.js';
import { listAuditEvents } from './as-api.js';
import { failure, makeDeps, unwrap } from './support.js';

const KEY = randomBytes(CURSOR_KEY_BYTES);
const ACCOUNT = { accountId: 'acct-1' };
const ONE_KEY = { accountId: 'acct-1', targetKeyId: 'AAAAAAAAAAAAAAAAAAAAAA' };
const POSITION = '2026-01-01T00:00:07.000Z#Q2JmV1x0cUZ4bWZxTnpVdw';

describe('sealCursor / openCursor', () => {
  it('opens what it sealed, for the same key and scope', () => {
    for (const scope of [ACCOUNT, ONE_KEY]) {
      expect(openCursor(KEY, sealCursor(KEY, POSITION, scope), scope)).toEqual({
        ok: true,
        position: POSITION,
      });
    }
  });

  it('seals the same position differently each time (random IV), in canonical base64url', () => {
    const cursors = new Set(Array.from({ length: 50 }, () => sealCursor(KEY, POSITION, ACCOUNT)));

    expect(cursors.size).toBe(50);
    for (const cursor of cursors) {
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      // version, IV, the position's bytes, tag
      expect(Buffer.from(cursor, 'base64url')).toHaveLength(1 + 12 + POSITION.length + 16);
    }
  });

  it("refuses another key's, another account's and another query's cursor", () => {
    const cursor = sealCursor(KEY, POSITION, ONE_KEY);

    for (const [key, scope] of [
      [randomBytes(CURSOR_KEY_BYTES), ONE_KEY],
      [KEY, { ...ONE_KEY, accountId: 'acct-2' }],
      [KEY, { ...ONE_KEY, targetKeyId: 'BAAAAAAAAAAAAAAAAAAAAA' }],
      [KEY, ACCOUNT],
      [KEY, { accountId: 'acct-1', targetKeyId: '' }],
      [KEY, { accountId: 'acct-1', targetKeyId: 'null' }],
      // No separator an ID could contain: the parts cannot be shifted into each other.
      [KEY, { accountId: 'acct-1AAAAAAAAAAAAAAAAAAAAAA' }],
      [KEY, { accountId: `acct-1","${ONE_KEY.targetKeyId}` }],
    ] as const) {
      expect(openCursor(key, cursor, scope)).toEqual({ ok: false });
    }
    expect(openCursor(KEY, sealCursor(KEY, POSITION, ACCOUNT), ONE_KEY)).toEqual({ ok: false });
  });

  it('refuses every single changed bit, truncation, extension and non-canonical text', () => {
    const cursor = sealCursor(KEY, POSITION, ACCOUNT);
    const bytes = Buffer.from(cursor, 'base64url');
    const forged: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] ?? 0) ^ (1 << bit);
        forged.push(copy.toString('base64url'));
      }
      forged.push(bytes.subarray(0, i).toString('base64url'));
      forged.push(bytes.subarray(i + 1).toString('base64url'));
    }
    forged.push(Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'));
    // The same bytes in other spellings: padded, base64, with a foreign character, or with the
    // last character's unused bits set (Node's decoder would read them all as `cursor`).
    forged.push(
      `${cursor}=`,
      bytes.toString('base64'),
      `${cursor.slice(0, 10)}.${cursor.slice(10)}`,
    );
    const last = cursor.at(-1) ?? 'A';
    const unusedBits = (bytes.length * 8) % 6 === 0 ? 0 : 6 - ((bytes.length * 8) % 6);
    for (let v = 1; v < 1 << unusedBits; v++) {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      forged.push(`${cursor.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ v]}`);
    }
    forged.push('', 'A', 'AQ', Buffer.from(POSITION).toString('base64url'));

    for (const text of forged) {
      if (text === cursor) continue;
      expect(openCursor(KEY, text, ACCOUNT), JSON.stringify(text)).toEqual({ ok: false });
    }
  });

  it('shows nothing of the position or the scope', () => {
    const cursor = sealCursor(KEY, POSITION, ONE_KEY);
    const bytes = Buffer.from(cursor, 'base64url');

    for (const part of [POSITION, ...POSITION.split('#'), ONE_KEY.accountId, ONE_KEY.targetKeyId]) {
      expect(bytes.includes(Buffer.from(part))).toBe(false);
      expect(cursor).not.toContain(part);
    }
  });

  it('never opens to a position storage would refuse: empty, or over 1024 bytes', () => {
    expect(openCursor(KEY, sealCursor(KEY, '', ACCOUNT), ACCOUNT)).toEqual({ ok: false });
    expect(openCursor(KEY, sealCursor(KEY, 'é'.repeat(513), ACCOUNT), ACCOUNT)).toEqual({
      ok: false,
    });
    expect(openCursor(KEY, sealCursor(KEY, 'x'.repeat(1024), ACCOUNT), ACCOUNT)).toEqual({
      ok: true,
      position: 'x'.repeat(1024),
    });
  });

  it('refuses a key of the wrong length loudly (a wiring bug, not a bad cursor)', () => {
    expect(() => sealCursor(randomBytes(16), POSITION, ACCOUNT)).toThrow(/32 bytes/);
    expect(() => openCursor(randomBytes(31), sealCursor(KEY, POSITION, ACCOUNT), ACCOUNT)).toThrow(
      /32 bytes/,
    );
  });
});

describe('listAuditEvents on the in-memory repository', () => {
  async function arrange() {
    const { deps, repo } = makeDeps();
    const caller = (accountId: string): Caller => ({
      accountId,
      keyId: `owner-${accountId}`.padEnd(22, '0'),
      type: 'owner',
      scopes: ['api_keys.read'],
    });
    const keyIds: Record<string, string> = {};
    for (const accountId of ['a', 'b']) {
      const owner: KeyRecord = {
        keyId: caller(accountId).keyId,
        accountId,
        name: 'owner',
        scopes: [],
        type: 'owner',
        keyHash: `hash-${accountId}`,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        version: 1,
      };
      await repo.createAccount(
        {
          accountId,
          name: accountId,
          keyLimit: 10,
          keyCount: 0,
          ownerKeyId: owner.keyId,
          createdAt: owner.createdAt,
        },
        owner,
      );
      for (let i = 0; i < 3; i++) {
        const keyId = randomBytes(16).toString('base64url');
        keyIds[accountId] ??= keyId;
        const key: KeyRecord = { ...owner, keyId, type: 'general', keyHash: keyId };
        const event = auditEvent(deps, {
          accountId,
          action: 'api_key.created',
          actor: caller(accountId),
          targetKeyId: keyId,
        });
        expect(await repo.insertKey(key, event)).toEqual({ ok: true });
      }
    }
    return { deps, caller, keyIds };
  }

  it('pages with sealed cursors, refuses a foreign one, and answers for a foreign key as for an unknown one', async () => {
    const { deps, caller, keyIds } = await arrange();
    const a = caller('a');

    const first = unwrap(await listAuditEvents(deps, a, { limit: 2 }));
    const second = unwrap(
      await listAuditEvents(deps, a, { limit: 2, cursor: first.next_cursor ?? '' }),
    );
    const stolen = await listAuditEvents(deps, caller('b'), {
      limit: 2,
      cursor: first.next_cursor ?? '',
    });
    const foreign = unwrap(
      await listAuditEvents(deps, a, { limit: 1, api_key_id: keyIds.b ?? '' }),
    );
    const placeholder = unwrap(await listAuditEvents(deps, a, { limit: 1, api_key_id: '-' }));

    expect(first.result).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(second.result).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect(new Set([...first.result, ...second.result].map((e) => e.id)).size).toBe(3);
    expect(failure(stolen)).toMatchObject({
      code: 'bad_request',
      errors: [{ field: 'cursor', message: 'cursor is not valid' }],
    });
    expect(foreign).toEqual({ result: [], next_cursor: null });
    expect(placeholder).toEqual({ result: [], next_cursor: null });
  });
});

import { describe, expect, it } from 'vitest';
import { RECENT_EVENTS } from '../../local/cli.js';
import { hashApiKey } from '../../shared/domain/key-format.js';
import { run, useMockedStack } from '../helpers/cli.js';

/**
 * `keygate events`: the lifecycle events as the bus carries them, read from DynamoDB Local's
 * audit table. `--stack` reads table names from CloudFormation, which cannot run here: that one
 * client is mocked (`test/helpers/cli.ts`).
 */

interface BusEntry {
  source: string;
  'detail-type': string;
  time: string;
  detail: Record<string, unknown> & { id: string; account_id: string; api_key_id: string };
}

describe('keygate events', () => {
  useMockedStack('kg-cli-events-');
  const stack = ['--stack', 'Keygate'];

  it("lists an account's changes, newest first, as the bus carries them, without key material", async () => {
    // Arrange
    const account = `cli-events-${Date.now()}`;
    const boot = JSON.parse(
      (await run(['bootstrap', '--account', account, '--json', ...stack])).out,
    );
    const created = JSON.parse(
      (
        await run([
          'keys',
          'create',
          '--account',
          account,
          '--name',
          'ci',
          '--scopes',
          'mail.send',
          '--json',
          ...stack,
        ])
      ).out,
    ) as { api_key_id: string; api_key: string };
    await run(['keys', 'delete', '--account', account, '--id', created.api_key_id, ...stack]);

    // Act
    const json = await run(['events', '--account', account, '--json', ...stack]);
    const text = await run(['events', '--account', account, ...stack]);

    // Assert
    expect(json.code).toBe(0);
    const entries = JSON.parse(json.out) as BusEntry[];
    const ofKey = entries.filter((e) => e.detail.api_key_id === created.api_key_id);
    expect(ofKey.map((e) => e['detail-type'])).toEqual(['api_key.deleted', 'api_key.created']);
    const [, creation] = ofKey;
    expect(creation).toMatchObject({
      source: 'keygate',
      'detail-type': 'api_key.created',
      detail: {
        account_id: boot.account_id,
        action: 'api_key.created',
        api_key_id: created.api_key_id,
        scopes_added: ['mail.send'],
        scopes_removed: [],
      },
    });
    expect(creation?.time).toBe(creation?.detail.time);
    expect(Object.keys(creation?.detail ?? {}).sort()).toEqual(
      [
        'account_id',
        'action',
        'actor_account_id',
        'actor_key_id',
        'api_key_id',
        'details',
        'id',
        'scopes_added',
        'scopes_removed',
        'source_ip',
        'time',
      ].sort(),
    );
    const ids = entries.map((e) => e.detail.id);
    expect(ids).toEqual([...ids].sort().reverse());
    for (const secret of [boot.api_key as string, created.api_key]) {
      expect(json.out + text.out).not.toContain(secret);
      expect(json.out + text.out).not.toContain(hashApiKey(secret));
    }
    expect(text.code).toBe(0);
    expect(text.out).toContain(`api_key.deleted`);
    expect(text.out).toContain(`key ${created.api_key_id}  +mail.send`);
  });

  it('lists the recent events of every account without --account', async () => {
    // Arrange
    const account = `cli-events-all-${Date.now()}`;
    await run(['bootstrap', '--account', account, '--json', ...stack]);
    await run(['keys', 'create', '--account', account, '--name', 'ci', '--json', ...stack]);

    // Act
    const all = await run(['events', '--json', ...stack]);

    // Assert
    expect(all.code).toBe(0);
    const entries = JSON.parse(all.out) as BusEntry[];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThanOrEqual(RECENT_EVENTS);
    const ids = entries.map((e) => e.detail.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(new Set(entries.map((e) => e.source))).toEqual(new Set(['keygate']));
  });

  it('says so, and exits 1, for an account that does not exist', async () => {
    const missing = await run(['events', '--account', `nobody-${Date.now()}`, ...stack]);

    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no account named/);
  });
});

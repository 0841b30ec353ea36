import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, useMockedStack } from '../helpers/cli.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * The CLI in-process. `--stack` reads table names from CloudFormation, which cannot run here, so
 * that one client is mocked; the tables themselves are DynamoDB Local's, reached through the
 * AWS SDK's standard `AWS_ENDPOINT_URL_DYNAMODB` (as under SAM or LocalStack).
 */

describe('keygate CLI', () => {
  useMockedStack('kg-cli-');
  const configDir = tempDirs();

  it("sets and clears a key's own limits (keys create LIMITS, keys set-limits) where the config declares plans", async () => {
    // Arrange: the deployed team config, with plans
    const dir = configDir('kg-cli-config-');
    writeFileSync(
      join(dir, 'keygate.config.mjs'),
      "export default { plans: [{ id: 'pro', quota: { perDay: 1000 } }], defaultPlan: 'pro' };\n",
    );
    process.env.KEYGATE_CONFIG = join(dir, 'keygate.config.mjs');
    const account = `cli-limits-${Date.now()}`;
    const stack = ['--account', account, '--stack', 'Keygate'];
    await run(['bootstrap', ...stack]);

    // Act
    const create = await run([
      'keys',
      'create',
      ...stack,
      '--name',
      'capped',
      '--rate',
      '5/10',
      '--per-day',
      '100',
      '--json',
    ]);
    const { api_key_id: id, limits } = JSON.parse(create.out) as {
      api_key_id: string;
      limits: unknown;
    };
    const set = await run(['keys', 'set-limits', ...stack, '--id', id, '--per-month', '2000']);
    const cleared = await run(['keys', 'set-limits', ...stack, '--id', id, '--no-limits']);
    const badRate = await run(['keys', 'set-limits', ...stack, '--id', id, '--rate', 'fast']);
    const neither = await run(['keys', 'set-limits', ...stack, '--id', id]);
    const looser = await run(['keys', 'set-limits', ...stack, '--id', id, '--per-day', '0']);

    // Assert
    expect(create.code).toBe(0);
    expect(limits).toEqual({ rate: { per_second: 5, burst: 10 }, quota: { per_day: 100 } });
    expect(set.out).toContain('{"quota":{"per_month":2000}}');
    expect(cleared.out).toContain('none of its own');
    expect([badRate.code, neither.code]).toEqual([2, 2]);
    expect(looser.code).toBe(1);
    expect(looser.err).toContain('limits');
  });

  it('bootstraps an account and manages its keys in a deployed stack (--stack)', async () => {
    // Arrange
    const account = `cli-${Date.now()}`;

    // Act
    const boot = await run(['bootstrap', '--account', account, '--json', '--stack', 'Keygate']);
    const create = await run([
      'keys',
      'create',
      '--account',
      account,
      '--name',
      'ci',
      '--scopes',
      'mail.send',
      '--json',
      '--stack',
      'Keygate',
    ]);
    const created = JSON.parse(create.out) as { api_key_id: string; scopes: string[] };
    const list = await run(['keys', 'list', '--account', account, '--json', '--stack', 'Keygate']);
    const del = await run([
      'keys',
      'delete',
      '--account',
      account,
      '--id',
      created.api_key_id,
      '--stack',
      'Keygate',
    ]);
    const after = await run(['keys', 'list', '--account', account, '--json', '--stack', 'Keygate']);

    // Assert
    expect(boot.code).toBe(0);
    expect(Object.keys(JSON.parse(boot.out)).sort()).toEqual(['account_id', 'api_key']);
    expect(create.code).toBe(0);
    expect(created.scopes).toEqual(['mail.send']);
    // Keys and limits follow the stack's own settings (its outputs), not the CLI's environment.
    expect((JSON.parse(create.out) as { api_key: string }).api_key).toMatch(/^kg\./);
    expect(JSON.parse(boot.out).api_key).toMatch(/^kg\./);
    expect((JSON.parse(list.out) as { api_key_id: string }[]).map((k) => k.api_key_id)).toContain(
      created.api_key_id,
    );
    expect(del.code).toBe(0);
    expect((JSON.parse(after.out) as { type: string }[]).map((k) => k.type)).toEqual(['owner']);
  });

  it('bootstraps an account on a plan (--plan), which limits it where the config declares it', async () => {
    // Arrange
    const account = `cli-plan-${Date.now()}`;

    // Act
    const boot = await run([
      'bootstrap',
      '--account',
      account,
      '--plan',
      'pro',
      '--json',
      '--stack',
      'Keygate',
    ]);
    const bad = await run([
      'bootstrap',
      '--account',
      `${account}-x`,
      '--plan',
      'Not A Plan',
      '--stack',
      'Keygate',
    ]);

    // Assert
    expect(boot.code).toBe(0);
    const { account_id } = JSON.parse(boot.out) as { account_id: string };
    const { defaultDeps } = await import('../../shared/runtime/deps.js');
    expect((await defaultDeps().repo.getAccount(account_id))?.plan).toBe('pro');
    expect(bad.code).toBe(1);
  });

  it('puts an account on another plan (accounts set-plan), recorded in its audit log', async () => {
    // Arrange
    const account = `cli-set-plan-${Date.now()}`;
    const boot = await run(['bootstrap', '--account', account, '--json', '--stack', 'Keygate']);
    const { account_id } = JSON.parse(boot.out) as { account_id: string };

    // Act
    const set = await run([
      'accounts',
      'set-plan',
      '--account',
      account,
      '--plan',
      'pro',
      '--stack',
      'Keygate',
    ]);
    const unknown = await run([
      'accounts',
      'set-plan',
      '--account',
      `${account}-none`,
      '--plan',
      'pro',
      '--stack',
      'Keygate',
    ]);
    const missing = await run(['accounts', 'set-plan', '--account', account, '--stack', 'Keygate']);

    // Assert
    expect(set.code).toBe(0);
    const { defaultDeps } = await import('../../shared/runtime/deps.js');
    const { repo } = defaultDeps();
    expect((await repo.getAccount(account_id))?.plan).toBe('pro');
    const { events } = await repo.listEvents(account_id, { limit: 10 });
    expect(events.find((e) => e.action === 'account.plan_changed')?.details).toEqual({
      by: 'operator',
      plan: 'pro',
      previous: 'free',
    });
    expect(unknown.code).toBe(1);
    expect(missing.code).toBe(2);
  });

  it("rolls keys (the owner key included: an operator's way back after a leak)", async () => {
    // Arrange
    const account = `cli-roll-${Date.now()}`;
    const boot = await run([
      'bootstrap',
      '--account',
      account,
      '--max-key-lifetime',
      '3600',
      '--json',
      '--stack',
      'Keygate',
    ]);
    const { api_key: ownerKey } = JSON.parse(boot.out) as { api_key: string };
    const ownerId = ownerKey.split('.')[1] ?? '';
    const { verifyApiKey } = await import('../../shared/domain/verify-key.js');
    const { defaultDeps } = await import('../../shared/runtime/deps.js');

    // Act
    const rolled = await run([
      'keys',
      'roll',
      '--account',
      account,
      '--id',
      ownerId,
      '--grace-seconds',
      '0',
      '--json',
      '--stack',
      'Keygate',
    ]);
    const created = await run([
      'keys',
      'create',
      '--account',
      account,
      '--name',
      'capped',
      '--json',
      '--stack',
      'Keygate',
    ]);

    // Assert
    expect(rolled.code).toBe(0);
    const { api_key: newOwnerKey } = JSON.parse(rolled.out) as { api_key: string };
    // The stack's outputs give its key prefix, 'kg'.
    const { repo, now, config } = defaultDeps();
    const deps = { repo, now, config: { ...config, keyPrefix: 'kg' } };
    expect(await verifyApiKey(deps, ownerKey)).toMatchObject({ ok: false, reason: 'unknown' });
    expect((await verifyApiKey(deps, newOwnerKey)).ok).toBe(true);
    const { expires_at } = JSON.parse(created.out) as { expires_at: string };
    expect(Date.parse(expires_at) - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  it.each([
    [['keys', 'roll', '--account', 'x', '--id', 'y', '--grace-seconds', 'soon']],
    [['keys', 'create', '--account', 'x']],
    [['keys']],
    [[]],
    [['keys', 'list', '--acount', 'x']],
    [['bootstrap', '--account', 'x', '--key-limit', 'many']],
    [['keys', 'list', '--account', '--json']],
    [['keys', 'delete', '--account', 'x', '--id', '--']],
  ])('prints usage and exits 2 for %j', async (args) => {
    const result = await run(args);

    expect(result.code).toBe(2);
    expect(result.err).toContain('Usage:');
  });

  it('fails in one line, without a stack trace, when no local instance runs', async () => {
    const result = await run(['keys', 'list', '--account', 'local']);

    expect(result.code).toBe(1);
    expect(result.err.split('\n')).toHaveLength(1);
    expect(result.err).toMatch(
      /^keygate: no local Keygate is running for .*: start it with npm start/,
    );
  });

  it('takes a key ID that starts with "-" as the value of --id (one ID in 64 does)', async () => {
    // Arrange
    const account = `cli-dash-${Date.now()}`;
    await run(['bootstrap', '--account', account, '--json', '--stack', 'Keygate']);

    // Act
    const result = await run([
      'keys',
      'delete',
      '--account',
      account,
      '--id',
      '-AAAAAAAAAAAAAAAAAAAAA',
      '--stack',
      'Keygate',
    ]);

    // Assert: reached the account's keys (not found), not a usage error.
    expect(result.code).toBe(1);
    expect(result.err).not.toContain('Usage:');
    expect(result.err).toMatch(/unable to find API Key/);
  });

  it('fails in one line for an unknown account', async () => {
    const result = await run(['keys', 'list', '--account', 'nobody', '--stack', 'Keygate']);

    expect(result).toMatchObject({ code: 1, err: 'keygate: no account named "nobody"' });
  });
});

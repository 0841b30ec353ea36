import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPEC,
  isSendGridServiceExactly,
  specFromConfig,
} from '../../shared/deployment/deployment.js';
import {
  DAY_MS,
  type KeyWarningSettings,
  type ScannedKey,
  warningEvents,
  warningSettings,
  warningsDue,
} from '../../shared/domain/key-warnings.js';
import type { KeyRecord } from '../../shared/domain/ports.js';

/**
 * The key warnings' pure part (issue 17): which warnings are due for a key at a given moment,
 * driven by the clock, and the config that sets them.
 */

const NOW = new Date('2026-12-03T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const DEFAULTS = warningSettings(undefined);
const UNUSED: KeyWarningSettings = { expiryDays: [], unusedDays: 90, disableUnused: true };

function key(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    keyId: 'Kk1Jj2Hh3Gg4Ff5Ee6Dd7C',
    accountId: 'a1B2c3D4e5F6g7H8i9J0kL',
    name: 'ci',
    scopes: ['mail.send'],
    type: 'general',
    keyHash: 'h',
    createdAt: at(-400 * DAY_MS),
    updatedAt: at(-400 * DAY_MS),
    version: 1,
    lastUsedAt: at(-DAY_MS),
    ...overrides,
  };
}
const scanned = (k: KeyRecord, marks: ScannedKey['marks'] = {}): ScannedKey => ({
  key: k,
  marks,
});
const expiryDaysDue = (expiresInMs: number, marks: ScannedKey['marks'] = {}) =>
  warningsDue(NOW, scanned(key({ expiresAt: at(expiresInMs) }), marks), DEFAULTS).map((w) =>
    w.kind === 'expiry' ? w.days : `${w.kind}`,
  );

describe('expiry warnings, by the clock', () => {
  it.each([
    ['30.1 days left', 30.1 * DAY_MS, []],
    ['exactly 30 days left', 30 * DAY_MS, [30]],
    ['29.9 days left', 29.9 * DAY_MS, [30]],
    ['7.1 days left', 7.1 * DAY_MS, [30]],
    ['exactly 7 days left', 7 * DAY_MS, [7]],
    ['exactly 1 day left', DAY_MS, [1]],
    ['one millisecond left', 1, [1]],
    ['expiring now', 0, []],
    ['already expired', -DAY_MS, []],
  ])('%s: %j', (_label, left, expected) => {
    expect(expiryDaysDue(left)).toEqual(expected);
  });

  it('gives only the most urgent threshold reached: a key made with 5 days to live hears of 7, not 30', () => {
    expect(expiryDaysDue(5 * DAY_MS)).toEqual([7]);
  });

  it('gives each threshold once per expiry, and never a larger one after a smaller', () => {
    const expiresAt = at(6 * DAY_MS);
    expect(expiryDaysDue(6 * DAY_MS, { expiry: { expiresAt, days: 7 } })).toEqual([]);
    expect(expiryDaysDue(6 * DAY_MS, { expiry: { expiresAt, days: 1 } })).toEqual([]);
    expect(expiryDaysDue(6 * DAY_MS, { expiry: { expiresAt, days: 30 } })).toEqual([7]);
  });

  it('re-arms for a new expiry (a PUT moved expires_at)', () => {
    const old = { expiresAt: at(40 * DAY_MS), days: 30 };
    expect(expiryDaysDue(20 * DAY_MS, { expiry: old })).toEqual([30]);
  });

  it('follows the configured thresholds, and none with []', () => {
    const settings = warningSettings({ expiryDays: [14, 3] });
    const due = (left: number) =>
      warningsDue(NOW, scanned(key({ expiresAt: at(left) })), settings).map((w) => w.kind);
    expect(due(15 * DAY_MS)).toEqual([]);
    expect(due(14 * DAY_MS)).toEqual(['expiry']);
    expect(
      warningsDue(
        NOW,
        scanned(key({ expiresAt: at(DAY_MS) })),
        warningSettings({ expiryDays: [] }),
      ),
    ).toEqual([]);
  });

  it('says nothing of a key without expiry', () => {
    expect(warningsDue(NOW, scanned(key()), DEFAULTS)).toEqual([]);
  });
});

describe('unused warnings, by the clock', () => {
  const due = (overrides: Partial<KeyRecord>, marks: ScannedKey['marks'] = {}) =>
    warningsDue(NOW, scanned(key(overrides), marks), UNUSED);

  it.each([
    ['used 90 days ago to the millisecond', { lastUsedAt: at(-90 * DAY_MS) }, 1],
    ['used 90 days less a millisecond ago', { lastUsedAt: at(-90 * DAY_MS + 1) }, 0],
    ['never used, made 90 days ago', { lastUsedAt: undefined, createdAt: at(-90 * DAY_MS) }, 1],
    ['never used, made 89 days ago', { lastUsedAt: undefined, createdAt: at(-89 * DAY_MS) }, 0],
    ['unused and expired', { lastUsedAt: at(-100 * DAY_MS), expiresAt: at(-1) }, 0],
    ['unused, its account disabled', { lastUsedAt: at(-100 * DAY_MS), accountDisabled: true }, 0],
    ['unused, already disabled', { lastUsedAt: at(-100 * DAY_MS), disabledAt: at(-DAY_MS) }, 0],
  ] as const)('%s: %i warning(s)', (_label, overrides, count) => {
    expect(due({ ...overrides })).toHaveLength(count);
  });

  it('tells the last use (or never) and disables, but never the owner key', () => {
    const lastUsedAt = at(-100 * DAY_MS);
    expect(due({ lastUsedAt })).toEqual([
      expect.objectContaining({ kind: 'unused', days: 90, lastUsed: lastUsedAt, disable: true }),
    ]);
    expect(due({ lastUsedAt: undefined })).toEqual([
      expect.objectContaining({ lastUsed: 'never', disable: true }),
    ]);
    expect(due({ lastUsedAt, type: 'owner' })).toEqual([
      expect.objectContaining({ kind: 'unused', disable: false }),
    ]);
  });

  it('warns once per last use: again only after the key was used and went idle again', () => {
    const lastUsedAt = at(-100 * DAY_MS);
    expect(due({ lastUsedAt }, { unused: lastUsedAt })).toEqual([]);
    expect(due({ lastUsedAt: undefined }, { unused: 'never' })).toEqual([]);
    expect(due({ lastUsedAt }, { unused: at(-200 * DAY_MS) })).toHaveLength(1);
  });

  it('gives no unused warning without unusedDays (the default)', () => {
    expect(warningsDue(NOW, scanned(key({ lastUsedAt: undefined })), DEFAULTS)).toEqual([]);
  });

  it('records the warning and the disabling as two events, with no key material', () => {
    const [warning] = due({ lastUsedAt: undefined });
    if (!warning) throw new Error('expected a warning');

    const events = warningEvents({ now: () => NOW }, warning);

    expect(events.map((e) => [e.action, e.details])).toEqual([
      ['api_key.unused_warning', { name: 'ci', unused_days: '90', last_used_at: 'never' }],
      ['api_key.disabled_unused', { name: 'ci', unused_days: '90', last_used_at: 'never' }],
    ]);
    expect(JSON.stringify(events)).not.toContain('"keyHash"');
    expect(events.every((e) => e.actorKeyId === null && e.targetKeyId === warning.key.keyId)).toBe(
      true,
    );
  });
});

describe('warnings in the config', () => {
  const build = (warnings: unknown) =>
    specFromConfig(
      { warnings },
      { file: 'keygate.config.ts', handlerExists: () => true, lock: [] },
    );

  it('carries them into the spec, thresholds largest first', () => {
    const outcome = build({ expiryDays: [1, 30, 7], unusedDays: 90, disableUnused: true });

    expect(outcome.ok && outcome.spec.warnings).toEqual({
      expiryDays: [30, 7, 1],
      unusedDays: 90,
      disableUnused: true,
    });
    expect(warningSettings(undefined)).toEqual({ expiryDays: [30, 7, 1], disableUnused: false });
  });

  it('makes a config with only warnings (or only plans) travel to the functions', () => {
    expect(isSendGridServiceExactly(DEFAULT_SPEC)).toBe(true);
    expect(isSendGridServiceExactly({ ...DEFAULT_SPEC, warnings: { unusedDays: 90 } })).toBe(false);
    expect(isSendGridServiceExactly({ ...DEFAULT_SPEC, plans: [{ id: 'starter' }] })).toBe(false);
  });

  it.each([
    [[], 'warnings: must be an object'],
    [{ expiry: [30] }, 'warnings.expiry: is not a setting (expiryDays, unusedDays, disableUnused)'],
    [{ expiryDays: 30 }, 'warnings.expiryDays: must be a list of at most 10 whole numbers'],
    [{ expiryDays: [0] }, 'warnings.expiryDays: must be a list'],
    [{ expiryDays: [1.5] }, 'warnings.expiryDays: must be a list'],
    [{ expiryDays: [7, 7] }, 'warnings.expiryDays: lists a number of days twice'],
    [{ unusedDays: 0 }, 'warnings.unusedDays: must be a whole number of days from 1 to 3650'],
    [{ unusedDays: 3651 }, 'warnings.unusedDays: must be a whole number'],
    [{ unusedDays: 90, disableUnused: 'yes' }, 'warnings.disableUnused: must be true or false'],
    [{ disableUnused: true }, 'warnings.disableUnused: needs unusedDays'],
  ])('refuses %j in one line', (warnings, message) => {
    const outcome = build(warnings);
    if (outcome.ok) throw new Error('expected the config to be refused');
    expect(outcome.error).toContain(`keygate.config.ts: ${message}`);
    expect(outcome.error).not.toContain('\n');
  });
});

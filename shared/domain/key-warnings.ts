import { auditEvent } from './audit.js';
import type { AuditEvent, AuthorizerCache, Deps, KeyRecord } from './ports.js';

/**
 * Key warnings (issue 17): a scheduled scan tells the team's systems, through the audit log and
 * so the event bus, when a key is some days from its expiry (`api_key.expiry_warning`) and when
 * it has not been used for some days (`api_key.unused_warning`), optionally disabling such a key
 * (`api_key.disabled_unused`; an operator enables it again).
 *
 * Each warning is given once per key and threshold: the key's item carries a marker of the last
 * warning given, written in the same transaction as the warning's event and conditioned on the
 * marker not being there yet and on the key still being as the scan read it. So two scans racing
 * record it once, and a warning is re-armed only when what it is about changes: a new expiry
 * (a PUT moving `expires_at`), a new last use.
 *
 * {@link warningsDue} is pure (clock, key, settings → warnings); {@link scanKeyWarnings} runs it
 * over every key of the deployment through a {@link KeyWarningStore}.
 */

export const DAY_MS = 24 * 3600 * 1000;

/** The days before expiry a key is warned at when the config says nothing (`warnings.expiryDays`). */
export const DEFAULT_EXPIRY_WARNING_DAYS: readonly number[] = [30, 7, 1];

/** What the scan warns about: the team config's `warnings`, with its defaults applied. */
export interface KeyWarningSettings {
  /** Days before expiry, each a threshold; empty: no expiry warnings. */
  expiryDays: readonly number[];
  /** Days without use after which a key is warned; undefined: no unused warnings. */
  unusedDays?: number;
  /** Whether a key warned as unused is also disabled (never the owner key). */
  disableUnused: boolean;
}

/** The config's `warnings` (as validated in `shared/deployment/deployment.ts`). */
export interface WarningsConfig {
  expiryDays?: readonly number[];
  unusedDays?: number;
  disableUnused?: boolean;
}

export function warningSettings(config: WarningsConfig | undefined): KeyWarningSettings {
  return {
    expiryDays: config?.expiryDays ?? DEFAULT_EXPIRY_WARNING_DAYS,
    ...(config?.unusedDays === undefined ? {} : { unusedDays: config.unusedDays }),
    disableUnused: config?.disableUnused === true,
  };
}

/** Whether the settings can warn about anything (without, no scan needs to run). */
export function warnsAtAll(settings: KeyWarningSettings): boolean {
  return settings.expiryDays.length > 0 || settings.unusedDays !== undefined;
}

/** The warnings already given for a key, as its item records them. */
export interface WarningMarks {
  /** The expiry the last expiry warning was about, and its threshold in days. */
  expiry?: { expiresAt: string; days: number };
  /** The last use the last unused warning was about: its `lastUsedAt`, or `never`. */
  unused?: string;
}

export interface ScannedKey {
  key: KeyRecord;
  marks: WarningMarks;
}

export const NEVER_USED = 'never';

export type DueWarning =
  | { kind: 'expiry'; key: KeyRecord; days: number; expiresAt: string }
  | {
      kind: 'unused';
      key: KeyRecord;
      days: number;
      /** The key's `lastUsedAt`, or {@link NEVER_USED}: also the warning's marker. */
      lastUsed: string;
      /** Disable it too (the config says so, and it is not the owner key). */
      disable: boolean;
    };

/**
 * The warnings due for one key at `now`.
 *
 * - Expiry: a key is `d` days from expiry once `expiresAt - now <= d` days, until it expires.
 *   Only the most urgent threshold reached is due (a key made with 5 days to live is warned at
 *   7 days, never told "30 days" afterwards), and only if no warning of that threshold or a
 *   more urgent one was given for this very expiry.
 * - Unused: a key is unused once `now - (lastUsedAt ?? createdAt) >= unusedDays`; due unless
 *   it was already warned about this same last use (or, never used, about never being used).
 *   An expired key is not warned (it is refused anyway).
 * - A disabled key, or a key of a disabled account, is not warned: it is refused already.
 */
export function warningsDue(
  now: Date,
  scanned: ScannedKey,
  settings: KeyWarningSettings,
): DueWarning[] {
  const { key, marks } = scanned;
  if (key.disabledAt !== undefined || key.accountDisabled === true) return [];
  const at = now.getTime();
  const expires = key.expiresAt === undefined ? undefined : Date.parse(key.expiresAt);
  if (expires !== undefined && expires <= at) return [];
  const due: DueWarning[] = [];
  if (key.expiresAt !== undefined && expires !== undefined) {
    const reached = settings.expiryDays.filter((d) => expires - at <= d * DAY_MS);
    if (reached.length > 0) {
      const days = Math.min(...reached);
      const given = marks.expiry;
      if (!(given && given.expiresAt === key.expiresAt && given.days <= days)) {
        due.push({ kind: 'expiry', key, days, expiresAt: key.expiresAt });
      }
    }
  }
  if (settings.unusedDays !== undefined) {
    const since = Date.parse(key.lastUsedAt ?? key.createdAt);
    const lastUsed = key.lastUsedAt ?? NEVER_USED;
    if (at - since >= settings.unusedDays * DAY_MS && marks.unused !== lastUsed) {
      due.push({
        kind: 'unused',
        key,
        days: settings.unusedDays,
        lastUsed,
        // An account must never lock itself out: its owner key is warned, never disabled.
        disable: settings.disableUnused && key.type !== 'owner',
      });
    }
  }
  return due;
}

/** The audit events one warning records (a disabled key: the warning and the disabling). */
export function warningEvents(deps: Pick<Deps, 'now'>, warning: DueWarning): AuditEvent[] {
  const { key } = warning;
  const time = deps.now().getTime();
  // The disabling is stamped a millisecond after the warning, so the log (ordered by event ID,
  // which starts with the time) always shows them in that order.
  const event = (action: AuditEvent['action'], details: Record<string, string>, offset = 0) =>
    auditEvent(
      { now: () => new Date(time + offset) },
      {
        accountId: key.accountId,
        action,
        actor: null,
        targetKeyId: key.keyId,
        details: { name: key.name, ...details },
      },
    );
  if (warning.kind === 'expiry') {
    return [
      event('api_key.expiry_warning', {
        days: String(warning.days),
        expires_at: warning.expiresAt,
      }),
    ];
  }
  const details = { unused_days: String(warning.days), last_used_at: warning.lastUsed };
  return [
    event('api_key.unused_warning', details),
    ...(warning.disable ? [event('api_key.disabled_unused', details, 1)] : []),
  ];
}

/**
 * Storage for the scan: a paginated read of every key with its marks, and the conditional write
 * that records a warning. Implemented on DynamoDB (`shared/adapters/dynamodb/key-warnings.ts`).
 */
export interface KeyWarningStore {
  /** One page of the deployment's keys, from the position `after` (a scan: background jobs only). */
  scanKeys(after: string | undefined): Promise<{ keys: ScannedKey[]; next?: string }>;
  /**
   * Records `warning`: its marker on the key (and `disabledAt` when it disables) and `events`,
   * atomically, only if the key still has what the warning is about (its expiry; its last use,
   * and for a disabling its version: a key changed meanwhile is not disabled) and the warning
   * was not given yet. Whether it was recorded (false: another scan did, or the key changed).
   */
  recordWarning(warning: DueWarning, events: readonly AuditEvent[], at: string): Promise<boolean>;
  /**
   * Enables a key the scan disabled, recording `event` in the same write: `not_found` when the
   * key is not the account's, `not_disabled` when it is not disabled (nothing is written).
   */
  enableKey(
    keyId: string,
    accountId: string,
    event: AuditEvent,
  ): Promise<'done' | 'not_found' | 'not_disabled'>;
}

export interface ScanOutcome {
  /** Keys read. */
  scanned: number;
  /** Warnings recorded, by kind, and keys disabled. */
  expiryWarnings: number;
  unusedWarnings: number;
  disabled: number;
  /** Warnings another scan recorded first, or whose key changed meanwhile. */
  skipped: number;
}

/**
 * One scan: every key of the deployment, page by page; each warning due at `at` is recorded (see
 * {@link KeyWarningStore.recordWarning}), events stamped with `deps.now()`. After each page (a
 * Scan page: up to 1 MB of keys) that disabled a key, the stage's authorizer cache is flushed, so a
 * cached allow of it stops then; one flush per page rather than per key, since a first run may
 * disable many keys and each flush is a write to the stage's flush lease.
 * A storage fault ends the scan (it throws): the next scan catches up, and what this one recorded
 * is not recorded again.
 */
export async function scanKeyWarnings(
  deps: Pick<Deps, 'now'> & { store: KeyWarningStore; authorizerCache: AuthorizerCache },
  settings: KeyWarningSettings,
  at: Date = deps.now(),
): Promise<ScanOutcome> {
  const outcome: ScanOutcome = {
    scanned: 0,
    expiryWarnings: 0,
    unusedWarnings: 0,
    disabled: 0,
    skipped: 0,
  };
  if (!warnsAtAll(settings)) return outcome;
  let after: string | undefined;
  do {
    const page = await deps.store.scanKeys(after);
    outcome.scanned += page.keys.length;
    let disabledHere = 0;
    try {
      for (const scanned of page.keys) {
        for (const warning of warningsDue(at, scanned, settings)) {
          const recorded = await deps.store.recordWarning(
            warning,
            warningEvents(deps, warning),
            deps.now().toISOString(),
          );
          if (!recorded) outcome.skipped += 1;
          else if (warning.kind === 'expiry') outcome.expiryWarnings += 1;
          else {
            outcome.unusedWarnings += 1;
            if (warning.disable) disabledHere += 1;
          }
        }
      }
    } finally {
      // Also when a later write of the page failed: the keys it did disable stop now.
      if (disabledHere > 0) {
        outcome.disabled += disabledHere;
        await deps.authorizerCache.flush();
      }
    }
    after = page.next;
  } while (after !== undefined);
  return outcome;
}

/**
 * An operator enables a key the unused-key scan disabled (`keygate keys enable`): it works again
 * from the next request. It is not disabled again until it has been used and is idle again. The
 * account is the operator's word for whose key it is: another account's key is `not_found`.
 */
export async function enableKeyByOperator(
  deps: Pick<Deps, 'now'> & { store: KeyWarningStore; authorizerCache: AuthorizerCache },
  accountId: string,
  keyId: string,
): Promise<'done' | 'not_found' | 'not_disabled'> {
  const event = auditEvent(deps, {
    accountId,
    action: 'api_key.enabled',
    actor: null,
    targetKeyId: keyId,
    details: { by: 'operator' },
  });
  const outcome = await deps.store.enableKey(keyId, accountId, event);
  // The gateway may hold the key's refusal (a cached 401) for the cache TTL: from the next
  // request, it works.
  if (outcome === 'done') await deps.authorizerCache.flush();
  return outcome;
}

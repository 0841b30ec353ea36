/**
 * The console's pure helpers for plans and limits (issue 17): a key's expiry warning, its own
 * rate limit and quotas as the form holds them and as the API takes them, and its usage in
 * words. No DOM, no network, so the unit tests run them directly.
 */

/** Limits as the API sends and takes them (the wire contract's snake_case; `{}`: none). */
export interface WireLimits {
  rate?: { per_second: number; burst: number };
  quota?: { per_day?: number; per_month?: number };
}

/** One quota period's count, as `GET /v3/api_keys/{id}/usage` answers it. */
export interface PeriodUsage {
  used: number;
  limit: number | null;
  resets_at: string;
}

/** A key's or an account's standing: counted only when it has limits. */
export interface SubjectUsage {
  counted: boolean;
  limits: WireLimits;
  day: PeriodUsage | null;
  month: PeriodUsage | null;
}

export interface KeyUsage {
  api_key_id: string;
  key: SubjectUsage;
  account: SubjectUsage & { plan: string | null };
}

const DAY_MS = 86_400_000;

/** The warnings a key gets before it expires: within 30, 7 and 1 days, the nearest first. */
export const EXPIRY_WARNING_DAYS = [1, 7, 30] as const;

export interface ExpiryWarning {
  level: 'expired' | 'soon';
  /** Days before the expiry the warning stands for (absent once expired). */
  days?: (typeof EXPIRY_WARNING_DAYS)[number];
  label: string;
}

/**
 * The badge a key's expiry earns at `now`: expired, or expiring within 1, 7 or 30 days (the
 * nearest threshold crossed); none for a key that never expires or is further out.
 */
export function expiryWarning(
  expiresAt: string | null | undefined,
  now: number,
): ExpiryWarning | null {
  if (!expiresAt) return null;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return null;
  const left = at - now;
  if (left <= 0) return { level: 'expired', label: 'Expired' };
  const days = EXPIRY_WARNING_DAYS.find((d) => left <= d * DAY_MS);
  if (days === undefined) return null;
  return { level: 'soon', days, label: `Expires within ${days} day${days === 1 ? '' : 's'}` };
}

/** A key's own rate limit and quotas as the form holds them: the inputs' text. */
export interface OwnLimitsText {
  perSecond: string;
  burst: string;
  perDay: string;
  perMonth: string;
}

export const NO_OWN_LIMITS: OwnLimitsText = { perSecond: '', burst: '', perDay: '', perMonth: '' };

/** The form's text for limits the API answered (a key's detail view; absent or `{}`: none). */
export function ownLimitsText(limits: WireLimits | undefined): OwnLimitsText {
  const text = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    perSecond: text(limits?.rate?.per_second),
    burst: text(limits?.rate?.burst),
    perDay: text(limits?.quota?.per_day),
    perMonth: text(limits?.quota?.per_month),
  };
}

/** The API's bounds (`limitsFault` in shared/domain/limits.ts), so the form refuses what it would. */
const MAX_RATE = 1_000_000;
const MAX_QUOTA = 1e12;

type Parsed = { ok: true; limits: WireLimits } | { ok: false; message: string };

function wholeNumber(text: string, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= max ? n : undefined;
}

/** The form's text as the API's limits, or what is wrong with it (in the form's words). */
export function parseOwnLimits(text: OwnLimitsText): Parsed {
  const perSecond = text.perSecond.trim();
  const burst = text.burst.trim();
  const perDay = text.perDay.trim();
  const perMonth = text.perMonth.trim();
  const limits: WireLimits = {};
  if (perSecond !== '' || burst !== '') {
    if (perSecond === '' || burst === '') {
      return { ok: false, message: 'Give both the requests per second and the burst, or neither.' };
    }
    const rate = Number(perSecond);
    if (!/^\d*\.?\d+$/.test(perSecond) || !(rate > 0 && rate <= MAX_RATE)) {
      return {
        ok: false,
        message: `Requests per second must be a number above 0, at most ${MAX_RATE}.`,
      };
    }
    const size = wholeNumber(burst, MAX_RATE);
    if (size === undefined) {
      return { ok: false, message: `The burst must be a whole number from 1 to ${MAX_RATE}.` };
    }
    limits.rate = { per_second: rate, burst: size };
  }
  const quota: NonNullable<WireLimits['quota']> = {};
  for (const [value, key, words] of [
    [perDay, 'per_day', 'daily'],
    [perMonth, 'per_month', 'monthly'],
  ] as const) {
    if (value === '') continue;
    const n = wholeNumber(value, MAX_QUOTA);
    if (n === undefined) {
      return { ok: false, message: `The ${words} quota must be a whole number from 1.` };
    }
    quota[key] = n;
  }
  if (quota.per_day !== undefined && quota.per_month !== undefined) {
    if (quota.per_day > quota.per_month) {
      return { ok: false, message: 'The daily quota cannot be more than the monthly quota.' };
    }
  }
  if (Object.keys(quota).length > 0) limits.quota = quota;
  return { ok: true, limits };
}

const isEmpty = (limits: WireLimits) => !limits.rate && !limits.quota;

const same = (a: WireLimits, b: WireLimits) =>
  a.rate?.per_second === b.rate?.per_second &&
  a.rate?.burst === b.rate?.burst &&
  a.quota?.per_day === b.quota?.per_day &&
  a.quota?.per_month === b.quota?.per_month;

/**
 * The `limits` part of a create or replace request, from what the form started with and holds
 * now, as the API reads it (the same rule as `expires_at`): unchanged → omitted; emptied → null
 * (removed; only on Edit, where there were limits); otherwise the whole new object, which
 * replaces the old one.
 */
export function ownLimitsForRequest(
  initial: OwnLimitsText,
  current: OwnLimitsText,
):
  | { ok: true; body: { limits?: WireLimits | null } }
  | { ok: false; field: 'limits'; message: string } {
  const now = parseOwnLimits(current);
  if (!now.ok) return { ok: false, field: 'limits', message: now.message };
  const before = parseOwnLimits(initial);
  const was = before.ok ? before.limits : undefined;
  if (was && same(was, now.limits)) return { ok: true, body: {} };
  if (isEmpty(now.limits)) return { ok: true, body: was && !isEmpty(was) ? { limits: null } : {} };
  return { ok: true, body: { limits: now.limits } };
}

/** A rate limit and quotas in words, for the usage view (`None` when there are none). */
export function limitsInWords(limits: WireLimits, format: (n: number) => string): string[] {
  const words: string[] = [];
  if (limits.rate) {
    const { per_second, burst } = limits.rate;
    words.push(
      `Rate: ${format(per_second)} request${per_second === 1 ? '' : 's'} per second, bursts of ${format(burst)}`,
    );
  }
  if (limits.quota?.per_day !== undefined) {
    words.push(`Daily quota: ${format(limits.quota.per_day)} requests`);
  }
  if (limits.quota?.per_month !== undefined) {
    words.push(`Monthly quota: ${format(limits.quota.per_month)} requests`);
  }
  return words;
}

/** A period's count in words: against its quota when it has one. */
export function periodInWords(
  period: PeriodUsage,
  when: 'today' | 'this month',
  format: (n: number) => string,
): string {
  const requests = `request${period.used === 1 ? '' : 's'}`;
  if (period.limit === null) return `${format(period.used)} ${requests} ${when}`;
  const share = period.limit > 0 ? Math.floor((period.used / period.limit) * 100) : 100;
  return `${format(period.used)} of ${format(period.limit)} ${requests} ${when} (${share} %)`;
}

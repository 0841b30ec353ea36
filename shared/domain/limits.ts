import { ForbiddenError, fail, ok, type Result, TooManyRequestsError } from './errors.js';

/**
 * Plans and limits (issue 17): what a team declares, and the arithmetic every enforcement point
 * shares. Pure: the counting itself is a conditional write in the usage store (a port), and this
 * module decides what its answers mean.
 *
 * - A **rate limit** is a token bucket of `burst` requests refilled at `perSecond`, kept as
 *   GCRA's one number, the theoretical arrival time (TAT): a request of cost `c` is admitted when
 *   `max(TAT, now) + c·T − now ≤ burst·T` (`T = 1 s / perSecond`), and moves the TAT there.
 * - A **quota** counts requests per UTC calendar day and per UTC calendar month, as API Gateway's
 *   usage plans do (periods DAY and MONTH); it resets at 00:00Z, and on the 1st at 00:00Z.
 * - A route may **cost** more than one request (Unkey's `cost`); a cost of 0 is never limited.
 */

export interface RateLimit {
  /** Requests per second, refilled continuously. */
  perSecond: number;
  /** Requests that may arrive at once (the bucket's size). */
  burst: number;
}

export interface Quota {
  perDay?: number;
  perMonth?: number;
}

export interface Limits {
  rate?: RateLimit;
  quota?: Quota;
}

/** A team's plan: a name and its limits (config `plans: [{ id, rate, quota }]`). */
export interface Plan extends Limits {
  id: string;
}

/** Microseconds: the TAT is kept in whole microseconds, so every sum stays an exact integer. */
const MICROS_PER_SECOND = 1_000_000;

/** The GCRA numbers of a rate limit for one request of `cost`. */
export function gcraOf(rate: RateLimit, cost: number) {
  const interval = Math.round(MICROS_PER_SECOND / rate.perSecond);
  return { interval, increment: cost * interval, tolerance: rate.burst * interval };
}

/**
 * A request against a rate limit, given the stored TAT (`undefined`: never used): admitted with
 * the new TAT, or refused with when the bucket admits it again.
 */
export function takeRate(
  rate: RateLimit,
  cost: number,
  storedTat: number | undefined,
  nowMicros: number,
): { admitted: true; tat: number } | { admitted: false; retryAfterMicros: number } {
  const { increment, tolerance } = gcraOf(rate, cost);
  const tat = Math.max(storedTat ?? nowMicros, nowMicros) + increment;
  if (tat - nowMicros <= tolerance) return { admitted: true, tat };
  return { admitted: false, retryAfterMicros: tat - tolerance - nowMicros };
}

/** Requests left in the bucket after a TAT (what `X-RateLimit-Remaining` says). */
export function rateRemaining(rate: RateLimit, tat: number, nowMicros: number): number {
  const { interval, tolerance } = gcraOf(rate, 1);
  return Math.max(0, Math.floor((tolerance - Math.max(0, tat - nowMicros)) / interval));
}

/** The calendar periods a moment falls in (UTC), and when each resets. */
export function periodsAt(now: Date) {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const day = now.getUTCDate();
  return {
    /** `2026-12`: the month's counters live under it. */
    month: `${year}-${String(month + 1).padStart(2, '0')}`,
    /** `d03`: the day's counter within the month's item. */
    dayAttribute: `d${String(day).padStart(2, '0')}`,
    dayResetsAt: new Date(Date.UTC(year, month, day + 1)),
    monthResetsAt: new Date(Date.UTC(year, month + 1, 1)),
  };
}

export type QuotaPeriod = 'day' | 'month';

/** Why a request was refused, for its 429. */
export type Refusal =
  | { kind: 'rate'; subject: LimitSubject; retryAfterSeconds: number; limit: number }
  | {
      kind: 'quota';
      subject: LimitSubject;
      period: QuotaPeriod;
      limit: number;
      resetsAt: Date;
    };

/** Whose limit: the key's own, or its account's plan. */
export type LimitSubject = 'key' | 'account';

/** The 429's message: which limit, and when a quota resets (SendGrid's wording for a rate). */
export function refusalMessage(refusal: Refusal): string {
  if (refusal.kind === 'rate') return 'too many requests';
  const whose = refusal.subject === 'key' ? 'this API key' : 'this account';
  const period = refusal.period === 'day' ? 'daily' : 'monthly';
  return `the ${period} quota of ${refusal.limit} requests for ${whose} is used up; it resets at ${refusal.resetsAt.toISOString()}`;
}

/** Seconds until a refused request may be tried again (`Retry-After`: at least 1). */
export function retryAfterSeconds(refusal: Refusal, now: Date): number {
  if (refusal.kind === 'rate') return Math.max(1, refusal.retryAfterSeconds);
  return Math.max(1, Math.ceil((refusal.resetsAt.getTime() - now.getTime()) / 1000));
}

/**
 * The limits a key may be given by a key that holds `creator`: each of the asked limits no looser
 * than the creator's (a rate neither faster nor with a larger burst, a quota no larger), and
 * the creator's own where the request leaves one out, as an expiry or an allowlist is inherited.
 * So a limited key can never make an unlimited one, as it can never grant a scope it lacks.
 */
export function boundedLimits(
  creator: Limits | undefined,
  asked: Limits | undefined,
): Result<Limits | undefined> {
  const rate = boundedRate(creator?.rate, asked?.rate);
  if (!rate.ok) return rate;
  const perDay = boundedCount('quota.perDay', creator?.quota?.perDay, asked?.quota?.perDay);
  if (!perDay.ok) return perDay;
  const perMonth = boundedCount('quota.perMonth', creator?.quota?.perMonth, asked?.quota?.perMonth);
  if (!perMonth.ok) return perMonth;
  // One period asked, the other inherited, can cross. A day asked above the creator's month is
  // looser than the creator (its month caps any day); a day inherited above the month asked is
  // held to that month: tighter than both, and limits that can work (`limitsFault`), so the key
  // can always be read back.
  let day = perDay.value;
  if (day !== undefined && perMonth.value !== undefined && day > perMonth.value) {
    if (asked?.quota?.perDay !== undefined) return fail(LOOSER('quota.perDay'));
    day = perMonth.value;
  }
  const quota: Quota = {
    ...(day === undefined ? {} : { perDay: day }),
    ...(perMonth.value === undefined ? {} : { perMonth: perMonth.value }),
  };
  if (rate.value === undefined && Object.keys(quota).length === 0) return ok(undefined);
  return ok({
    ...(rate.value === undefined ? {} : { rate: rate.value }),
    ...(Object.keys(quota).length === 0 ? {} : { quota }),
  });
}

/** "You cannot grant more than you have": a 403, as a scope the caller lacks. */
const LOOSER = (what: string) =>
  new ForbiddenError(`${what} cannot be looser than the limits of the key that sets it`, 'limits');

function boundedRate(
  creator: RateLimit | undefined,
  asked: RateLimit | undefined,
): Result<RateLimit | undefined> {
  if (asked === undefined) return ok(creator);
  if (creator && (asked.perSecond > creator.perSecond || asked.burst > creator.burst)) {
    return fail(LOOSER('rate'));
  }
  return ok(asked);
}

function boundedCount(
  what: string,
  creator: number | undefined,
  asked: number | undefined,
): Result<number | undefined> {
  if (asked === undefined) return ok(creator);
  if (creator !== undefined && asked > creator) return fail(LOOSER(what));
  return ok(asked);
}

/** What is wrong with a plan's or a key's limits, if anything (one line, without whose). */
export function limitsFault(limits: Limits): string | undefined {
  const { rate, quota } = limits;
  if (rate) {
    if (!(Number.isFinite(rate.perSecond) && rate.perSecond > 0 && rate.perSecond <= 1_000_000)) {
      return `rate.perSecond must be a number above 0, at most 1000000`;
    }
    if (!(Number.isInteger(rate.burst) && rate.burst >= 1 && rate.burst <= 1_000_000)) {
      return `rate.burst must be a whole number from 1 to 1000000`;
    }
  }
  for (const period of ['perDay', 'perMonth'] as const) {
    const value = quota?.[period];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 1e12)) {
      return `quota.${period} must be a whole number from 1`;
    }
  }
  if (
    quota?.perDay !== undefined &&
    quota.perMonth !== undefined &&
    quota.perDay > quota.perMonth
  ) {
    return `quota.perDay cannot exceed quota.perMonth`;
  }
  return undefined;
}

/**
 * Limits read back from storage or the authorizer's context: `undefined` when there are none,
 * `null` when the value is not limits that can work (a reader then fails closed).
 */
export function limitsFrom(value: unknown): Limits | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  const { rate, quota } = value as { rate?: unknown; quota?: unknown };
  const limits: Limits = {};
  if (rate !== undefined) {
    if (typeof rate !== 'object' || rate === null) return null;
    const { perSecond, burst } = rate as Record<string, unknown>;
    if (typeof perSecond !== 'number' || typeof burst !== 'number') return null;
    limits.rate = { perSecond, burst };
  }
  if (quota !== undefined) {
    if (typeof quota !== 'object' || quota === null) return null;
    const { perDay, perMonth } = quota as Record<string, unknown>;
    if (perDay !== undefined && typeof perDay !== 'number') return null;
    if (perMonth !== undefined && typeof perMonth !== 'number') return null;
    if (perDay === undefined && perMonth === undefined) return null;
    limits.quota = {
      ...(perDay === undefined ? {} : { perDay }),
      ...(perMonth === undefined ? {} : { perMonth }),
    };
  }
  if (!limits.rate && !limits.quota) return undefined;
  return limitsFault(limits) === undefined ? limits : null;
}

/** The most days a UTC month has: a daily quota caps a month at this many days' worth. */
const DAYS_IN_LONGEST_MONTH = 31;

/**
 * Whether `inner` is no looser than `outer` (a limit left out is unlimited): a rate neither faster
 * nor with a larger burst, and each quota no larger than what `outer` allows in that period. A
 * quota bounds the other period too: a monthly quota caps any day, a daily one a month at 31
 * days' worth; so a plan of 1,000 a day is within one of 1,000,000 a month, and one of 20,000 a
 * month is not within 1,000 a day. The rule a key's limits and a subuser's plan follow: you cannot
 * grant more than you have.
 */
export function limitsWithin(outer: Limits | undefined, inner: Limits | undefined): boolean {
  const o = outer ?? {};
  const i = inner ?? {};
  if (o.rate && (!i.rate || i.rate.perSecond > o.rate.perSecond || i.rate.burst > o.rate.burst)) {
    return false;
  }
  const outerCaps = impliedCaps(o.quota);
  const innerCaps = impliedCaps(i.quota);
  for (const period of ['perDay', 'perMonth'] as const) {
    const ceiling = outerCaps[period];
    const asked = innerCaps[period];
    if (ceiling !== undefined && (asked === undefined || asked > ceiling)) return false;
  }
  return true;
}

/** The most a quota lets through in a day and in a month, each period bounding the other. */
function impliedCaps(quota: Quota | undefined): Quota {
  const { perDay, perMonth } = quota ?? {};
  return {
    perDay: perDay ?? perMonth,
    perMonth: perMonth ?? (perDay === undefined ? undefined : perDay * DAYS_IN_LONGEST_MONTH),
  };
}

/** Two limits the same (a change of a key's limits must reach cached authorizer results). */
export function sameLimits(a: Limits | undefined, b: Limits | undefined): boolean {
  return JSON.stringify(canonicalLimits(a)) === JSON.stringify(canonicalLimits(b));
}

/** Limits with a fixed property order, for the authorizer context and comparisons. */
export function canonicalLimits(limits: Limits | undefined): Limits | undefined {
  if (!limits || (!limits.rate && !limits.quota)) return undefined;
  const { rate, quota } = limits;
  return {
    ...(rate ? { rate: { perSecond: rate.perSecond, burst: rate.burst } } : {}),
    ...(quota
      ? {
          quota: {
            ...(quota.perDay === undefined ? {} : { perDay: quota.perDay }),
            ...(quota.perMonth === undefined ? {} : { perMonth: quota.perMonth }),
          },
        }
      : {}),
  };
}

/** {@link limitsFault}, naming whose limits they are. */
export function limitsProblem(limits: Limits, what: string): string | undefined {
  const fault = limitsFault(limits);
  return fault === undefined ? undefined : `${what}: ${fault}`;
}

/** One request against one subject's limits (a key's, or its account's). */
export interface UsageCheck {
  /** `k#<key id>` or `a#<account id>`: whose counters. */
  subject: string;
  cost: number;
  now: Date;
  limits: Limits;
}

/** What the store counted: admitted with the new counts, or which limit refused it. */
export type UsageOutcome =
  | { admitted: true; day: number; month: number; tat: number | undefined }
  | { admitted: false; exceeded: 'rate'; retryAfterMicros: number }
  | { admitted: false; exceeded: QuotaPeriod };

/**
 * The usage counters (a port): `consume` admits a request and counts it in one conditional
 * write, or refuses it and counts nothing, so concurrent requests can never together pass a
 * limit. A storage fault throws (`ServiceUnavailableError`): the caller fails closed.
 */
export interface UsageStore {
  consume(check: UsageCheck): Promise<UsageOutcome>;
  /**
   * A subject's counts in the day and month `now` falls in, read consistently, counting
   * nothing. The counters are kept per period, so a new day or month reads 0 before its first
   * request; a subject never counted reads 0 too (only the caller knows whether it is counted).
   */
  read(subject: string, now: Date): Promise<{ day: number; month: number }>;
}

/** Where a caller stands against the limit nearest to refusing it (the `X-RateLimit-*` values). */
export interface Standing {
  limit: number;
  remaining: number;
  /** When it is whole again: the bucket full, or the quota's period over. */
  resetsAt: Date;
}

/** Whose limits one request counts against, and their counters' subject. */
export interface LimitedSubject {
  subject: LimitSubject;
  /** `a#<account id>` or `k#<key id>`. */
  counter: string;
  limits: Limits;
}

/**
 * Counts one request against each subject's limits (the account's plan, the key's own): admitted
 * with the standing of the binding limit, or refused with SendGrid's 429 (`too many requests`, or
 * which quota and when it resets) and `Retry-After`. A store fault propagates: the caller fails
 * closed with 503. Subjects are counted in order; one refused after another admitted leaves the
 * earlier count (an under-admission, never an over-admission).
 */
export async function enforceLimits(
  deps: { usage: UsageStore; now: () => Date },
  subjects: readonly LimitedSubject[],
  cost: number,
): Promise<Result<Counted>> {
  if (cost === 0) return ok({ standing: undefined, warnings: [] });
  const now = deps.now();
  const standings: Standing[] = [];
  const warnings: QuotaWarning[] = [];
  for (const { subject, counter, limits } of subjects) {
    if (!limits.rate && !limits.quota) continue;
    const outcome = await deps.usage.consume({ subject: counter, cost, now, limits });
    if (!outcome.admitted) return fail(refused(refusalOf(subject, limits, outcome, now), now));
    standings.push(...standingsOf(limits, outcome, now));
    warnings.push(...quotaWarnings(subject, limits, outcome, cost, now));
  }
  return ok({ standing: bindingStanding(standings), warnings });
}

/** What counting a request gave: where the caller stands, and the quota thresholds it crossed. */
export interface Counted {
  standing: Standing | undefined;
  warnings: QuotaWarning[];
}

/** The share of a quota at which the account is warned (80 %, 90 %, 100 %). */
export const WARNING_PERCENTS = [80, 90, 100] as const;

/** A quota threshold crossed: told once per period, by the one request that crossed it. */
export interface QuotaWarning {
  subject: LimitSubject;
  period: QuotaPeriod;
  limit: number;
  percent: (typeof WARNING_PERCENTS)[number];
  used: number;
  resetsAt: Date;
}

/**
 * The thresholds this request crossed. Counts are exact and only grow within a period, so
 * exactly one admitted request moves a count from below a threshold to at or above it: the
 * warning needs no record of its own to be told once per period.
 */
export function quotaWarnings(
  subject: LimitSubject,
  limits: Limits,
  outcome: Extract<UsageOutcome, { admitted: true }>,
  cost: number,
  now: Date,
): QuotaWarning[] {
  const periods = periodsAt(now);
  const counted = [
    {
      period: 'day' as const,
      limit: limits.quota?.perDay,
      used: outcome.day,
      resetsAt: periods.dayResetsAt,
    },
    {
      period: 'month' as const,
      limit: limits.quota?.perMonth,
      used: outcome.month,
      resetsAt: periods.monthResetsAt,
    },
  ];
  const warnings: QuotaWarning[] = [];
  for (const { period, limit, used, resetsAt } of counted) {
    if (limit === undefined) continue;
    for (const percent of WARNING_PERCENTS) {
      const threshold = (limit * percent) / 100;
      if (used - cost < threshold && used >= threshold) {
        warnings.push({ subject, period, limit, percent, used, resetsAt });
      }
    }
  }
  return warnings;
}

function refusalOf(
  subject: LimitSubject,
  limits: Limits,
  outcome: Extract<UsageOutcome, { admitted: false }>,
  now: Date,
): Refusal {
  if (outcome.exceeded === 'rate') {
    return {
      kind: 'rate',
      subject,
      retryAfterSeconds: Math.ceil(outcome.retryAfterMicros / MICROS_PER_SECOND),
      limit: limits.rate?.burst ?? 0,
    };
  }
  const periods = periodsAt(now);
  const day = outcome.exceeded === 'day';
  return {
    kind: 'quota',
    subject,
    period: outcome.exceeded,
    limit: (day ? limits.quota?.perDay : limits.quota?.perMonth) ?? 0,
    resetsAt: day ? periods.dayResetsAt : periods.monthResetsAt,
  };
}

/** The refusal as an error: its message, `Retry-After`, and the refused limit's standing. */
function refused(refusal: Refusal, now: Date): TooManyRequestsError {
  const retryAfter = retryAfterSeconds(refusal, now);
  const resetsAt =
    refusal.kind === 'quota' ? refusal.resetsAt : new Date(now.getTime() + retryAfter * 1000);
  return new TooManyRequestsError(refusalMessage(refusal), retryAfter, {
    limit: refusal.limit,
    remaining: 0,
    resetsAt,
  });
}

function standingsOf(
  limits: Limits,
  outcome: Extract<UsageOutcome, { admitted: true }>,
  now: Date,
): Standing[] {
  const periods = periodsAt(now);
  const standings: Standing[] = [];
  if (limits.rate && outcome.tat !== undefined) {
    standings.push({
      limit: limits.rate.burst,
      remaining: rateRemaining(limits.rate, outcome.tat, now.getTime() * 1000),
      resetsAt: new Date(Math.ceil(outcome.tat / 1000)),
    });
  }
  const { perDay, perMonth } = limits.quota ?? {};
  if (perDay !== undefined) {
    standings.push({
      limit: perDay,
      remaining: perDay - outcome.day,
      resetsAt: periods.dayResetsAt,
    });
  }
  if (perMonth !== undefined) {
    standings.push({
      limit: perMonth,
      remaining: perMonth - outcome.month,
      resetsAt: periods.monthResetsAt,
    });
  }
  return standings;
}

/** The limit nearest to refusing: the fewest requests left, then the nearest reset. */
export function bindingStanding(standings: readonly Standing[]): Standing | undefined {
  return [...standings].sort(
    (a, b) => a.remaining - b.remaining || a.resetsAt.getTime() - b.resetsAt.getTime(),
  )[0];
}

/** The plans a deployment declares, and the one an account without its own is on. */
export interface DeclaredPlans {
  plans: readonly Plan[];
  defaultPlan: string | undefined;
}

/**
 * An account's plan: the one its `plan` names when the team declared it, else the default plan;
 * none (not limited) when the team declared neither.
 */
export function planOf(
  plans: readonly Plan[],
  defaultPlan: string | undefined,
  accountPlan: string | undefined,
): Plan | undefined {
  return (
    plans.find((p) => p.id === accountPlan) ?? plans.find((p) => p.id === defaultPlan) ?? undefined
  );
}

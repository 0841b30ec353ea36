/**
 * The console's pure helpers for a key's expiry, IP allowlist, roll and history: no DOM, no
 * network, so the unit tests run them directly.
 */

/** The expiry and allowlist as the form holds them: a `datetime-local` value and textarea text. */
export interface KeyLimitsText {
  expires: string;
  allowedIps: string;
}

/** What a create or replace request says about them: omitted = unchanged, null = removed. */
export interface KeyLimitsBody {
  expires_at?: string | null;
  allowed_ips?: string[] | null;
}

/** The fields a refusal can point at; `limits`: the key's own rate limit and quotas. */
export type LimitField = 'expires_at' | 'allowed_ips' | 'limits';

export const NO_LIMITS: KeyLimitsText = { expires: '', allowedIps: '' };

const LOCAL_DATE_TIME = /^(\d{4,6})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;

/**
 * A `datetime-local` value (the browser's wall-clock time, `2027-01-31T09:30`) as an RFC 3339
 * UTC time (`2027-01-31T08:30:00Z` in Paris); undefined if it is not a real date and time.
 */
export function localInputToRfc3339(value: string): string | undefined {
  const match = LOCAL_DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [year, month, day, hours, minutes, seconds] = match.slice(1, 7).map((p) => Number(p ?? 0));
  if (
    year === undefined ||
    month === undefined ||
    day === undefined ||
    hours === undefined ||
    minutes === undefined ||
    seconds === undefined
  ) {
    return undefined;
  }
  if (month < 1 || month > 12 || hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const date = new Date(2000, 0, 1);
  // setFullYear, not the constructor: the constructor reads years 0-99 as 1900-1999.
  date.setFullYear(year, month - 1, day);
  date.setHours(hours, minutes, seconds, 0);
  if (Number.isNaN(date.getTime()) || date.getDate() !== day || date.getMonth() !== month - 1) {
    return undefined; // 31 February and the like
  }
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An RFC 3339 time as a `datetime-local` value in the browser's time zone, to the minute. */
export function rfc3339ToLocalInput(value: string | null | undefined): string {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The allowlist textarea: one address or CIDR block per line (commas and spaces also split). */
export function parseAllowlist(text: string): string[] {
  const entries = text
    .split(/[\s,;]+/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  return [...new Set(entries)];
}

/**
 * The expiry and allowlist part of a request body, from what the form started with and holds now:
 * unchanged → omitted; emptied → null (removed; only possible on Edit, where there was a value);
 * otherwise the new value. A date the form cannot read is reported, not sent.
 */
export function limitsForRequest(
  initial: KeyLimitsText,
  current: KeyLimitsText,
): { ok: true; body: KeyLimitsBody } | { ok: false; field: LimitField; message: string } {
  const body: KeyLimitsBody = {};
  const expires = current.expires.trim();
  if (expires !== initial.expires.trim()) {
    if (expires === '') body.expires_at = null;
    else {
      const at = localInputToRfc3339(expires);
      if (!at) {
        return {
          ok: false,
          field: 'expires_at',
          message: 'Enter a complete date and time, or leave the expiry empty.',
        };
      }
      body.expires_at = at;
    }
  }
  const ips = parseAllowlist(current.allowedIps);
  const before = parseAllowlist(initial.allowedIps);
  if (ips.length !== before.length || ips.some((ip, i) => ip !== before[i])) {
    body.allowed_ips = ips.length === 0 ? null : ips;
  }
  return { ok: true, body };
}

/** Grace-period choices of the Roll dialog (seconds), 24 hours by default as the API does. */
export const GRACE_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 0, label: 'None: the current key stops working at once' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
];
export const DEFAULT_GRACE_SECONDS = 86_400;

function durationInWords(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (seconds > 0 && seconds % 86_400 === 0) return unit(seconds / 86_400, 'day');
  if (seconds > 0 && seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  return unit(seconds, 'second');
}

const FIELD_WORDS: Record<string, string> = {
  expires_at: 'the expiry',
  allowed_ips: 'the IP allowlist',
};

/**
 * A server validation message in words: the API's field names become what the form calls them
 * and durations in seconds become days or hours.
 */
export function describeFieldError(message: string): string {
  const words = message
    .replace(/\b(expires_at|allowed_ips)\b/g, (name) => FIELD_WORDS[name] ?? name)
    .replace(/\b(\d+) seconds\b/g, (_, n: string) => durationInWords(Number(n)));
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Where a failed request's error belongs: beside the expiry, allowlist or limits fields, or the
 * form. Limits looser than the signed-in key's own are a 403 about `limits`: beside them too.
 */
export function formErrorFrom(
  status: number,
  errors: readonly { field: string | null; message: string }[],
  fallback: string,
): { field: LimitField | null; message: string } {
  const first = errors[0];
  if (status === 400 && errors.length === 1 && first) {
    if (first.field === 'expires_at' || first.field === 'allowed_ips' || first.field === 'limits') {
      return { field: first.field, message: describeFieldError(first.message) };
    }
  }
  if (status === 403 && errors.length === 1 && first?.field === 'limits') {
    return { field: 'limits', message: describeFieldError(first.message) };
  }
  return { field: null, message: fallback };
}

/** An audit event as GET /v3/api_keys/events returns it. */
export interface KeyEvent {
  id: string;
  time: string;
  action: string;
  actor_key_id: string | null;
  api_key_id: string;
  scopes_added: string[];
  scopes_removed: string[];
  source_ip: string | null;
  details: Record<string, string>;
}

const ACTIONS: Record<string, string> = {
  'api_key.created': 'Created',
  'api_key.updated': 'Updated',
  'api_key.rolled': 'Rolled: new secret',
  'api_key.deleted': 'Deleted',
  'api_key.leak_revoked': 'Revoked as leaked',
  'api_key.escalation_refused': 'Change refused: it would grant scopes the acting key lacks',
};

export interface EventWords {
  action: string;
  actor: string;
  source: string;
  details: string[];
}

/** One history entry in words; `formatDate` renders times, `keyName` names known keys. */
export function describeEvent(
  event: KeyEvent,
  formatDate: (iso: string) => string,
  keyName: (id: string) => string | undefined = () => undefined,
): EventWords {
  const actorName = event.actor_key_id ? keyName(event.actor_key_id) : undefined;
  const actor =
    event.actor_key_id === null
      ? 'anonymous report'
      : actorName
        ? `key ${event.actor_key_id} (${actorName})`
        : `key ${event.actor_key_id}`;
  const details: string[] = [];
  for (const [name, value] of Object.entries(event.details)) {
    details.push(detailInWords(event.action, name, value, formatDate));
  }
  return {
    action: ACTIONS[event.action] ?? event.action,
    actor,
    source: event.source_ip ?? 'unknown address',
    details,
  };
}

function detailInWords(
  action: string,
  name: string,
  value: string,
  formatDate: (iso: string) => string,
): string {
  switch (name) {
    case 'name':
      return action === 'api_key.updated' ? `Name set to “${value}”` : `Name: “${value}”`;
    case 'expires_at':
      return value === 'none' ? 'Expiry removed' : `Expires ${formatDate(value)}`;
    case 'allowed_ips':
      return value === 'any'
        ? 'Allowlist removed: any address may use it'
        : `Allowed from ${value.split(' ').join(', ')}`;
    case 'previous_key_valid_until':
      return value === 'none'
        ? 'The previous key stopped working at once'
        : `The previous key works until ${formatDate(value)}`;
    case 'revoked':
      return `Revoked: ${value}`;
    case 'missing_scopes':
      return `Missing scopes: ${value.split(' ').join(', ')}`;
    default:
      return `${name.replace(/_/g, ' ')}: ${value}`;
  }
}

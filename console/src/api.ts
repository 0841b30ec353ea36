/**
 * The console's only way to Keygate: its public HTTP API, same origin, with the signed-in key.
 * Errors become sentences from SendGrid's envelope.
 */

import type { KeyEvent, KeyLimitsBody } from './key-settings.js';
import type { KeyUsage, WireLimits } from './key-usage.js';
import type { Area } from './permissions.js';

export interface KeySummary {
  api_key_id: string;
  name: string;
  type: string;
  created_at?: string;
  expires_at?: string | null;
  last_used_at?: string | null;
  last_used_ip?: string | null;
}

export interface KeyDetail extends KeySummary {
  scopes: string[];
  allowed_ips?: string[];
  /** The key's own rate limit and quotas (`{}`: none). */
  limits?: WireLimits;
}

/** The key's own limits in a create or replace request: omitted keeps, null removes. */
type OwnLimitsBody = { limits?: WireLimits | null };

export interface CreatedKey extends KeyDetail {
  api_key: string;
}

export interface RolledKey extends CreatedKey {
  previous_key_valid_until: string | null;
}

export interface EventPage {
  result: KeyEvent[];
  next_cursor: string | null;
}

/** How many events the History dialog loads at a time. */
export const EVENTS_PAGE = 20;

type ErrorItem = { field: string | null; message: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: readonly ErrorItem[] = [],
  ) {
    super(message);
  }
}

const SESSION_KEY = 'keygate.apiKey';

export const session = {
  get: (): string | null => sessionStorage.getItem(SESSION_KEY),
  set: (key: string) => sessionStorage.setItem(SESSION_KEY, key),
  clear: () => sessionStorage.removeItem(SESSION_KEY),
};

/**
 * Who the console calls Keygate as: the signed-in key and, while it manages a subuser's keys,
 * that subuser (SendGrid's `on-behalf-of` header, which only the key-management routes take).
 */
export interface Auth {
  apiKey: string;
  onBehalfOf?: string | undefined;
}

/** A subuser, as `GET /v3/subusers` lists it. */
export interface Subuser {
  disabled: boolean;
  id: number;
  username: string;
  email: string;
  /** Keygate's addition: the plan that applies to it; null when the deployment has no plans. */
  plan: string | null;
}

/** A plan the signed-in account may give its subusers (`GET /v3/plans`). */
export interface OfferedPlan extends WireLimits {
  id: string;
}

/** `GET /v3/plans`: none when the deployment declares no plans. */
export interface OfferedPlans {
  plans: OfferedPlan[];
  own_plan: string | null;
}

/** How many subusers the Subusers page loads at a time. */
export const SUBUSERS_PAGE = 100;

async function call<T>(auth: Auth, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${auth.apiKey}`,
        ...(auth.onBehalfOf === undefined ? {} : { 'on-behalf-of': auth.onBehalfOf }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'Keygate could not be reached. Check your connection and try again.');
  }
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const errors = (json as { errors?: ErrorItem[] } | undefined)?.errors ?? [];
    throw new ApiError(response.status, describeError(response.status, errors), errors);
  }
  return json as T;
}

function describeError(status: number, errors: readonly ErrorItem[]): string {
  const detail = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
  if (status === 401) return 'That key was not accepted: it is unknown, malformed or revoked.';
  if (status === 403) return `Not allowed${detail ? `: ${detail}` : ''}.`;
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  if (status >= 500) return 'Keygate is having trouble right now. Try again in a moment.';
  return detail || `The request failed (${status}).`;
}

export const api = {
  scopes: (auth: Auth) => call<{ scopes: string[] }>(auth, 'GET', '/v3/scopes'),
  areas: (auth: Auth) => call<{ areas: Area[] }>(auth, 'GET', '/v3/scopes/areas'),
  list: (auth: Auth) => call<{ result: KeySummary[] }>(auth, 'GET', '/v3/api_keys'),
  get: (auth: Auth, id: string) =>
    call<KeyDetail>(auth, 'GET', `/v3/api_keys/${encodeURIComponent(id)}`),
  create: (auth: Auth, body: { name: string; scopes?: string[] } & KeyLimitsBody & OwnLimitsBody) =>
    call<CreatedKey>(auth, 'POST', '/v3/api_keys', body),
  replace: (
    auth: Auth,
    id: string,
    body: { name: string; scopes: string[] } & KeyLimitsBody & OwnLimitsBody,
  ) => call<KeyDetail>(auth, 'PUT', `/v3/api_keys/${encodeURIComponent(id)}`, body),
  roll: (auth: Auth, id: string, graceSeconds: number) =>
    call<RolledKey>(auth, 'POST', `/v3/api_keys/${encodeURIComponent(id)}/roll`, {
      grace_seconds: graceSeconds,
    }),
  events: (auth: Auth, id: string, cursor?: string) => {
    const query = new URLSearchParams({ api_key_id: id, limit: String(EVENTS_PAGE) });
    if (cursor) query.set('cursor', cursor);
    return call<EventPage>(auth, 'GET', `/v3/api_keys/events?${query}`);
  },
  remove: (auth: Auth, id: string) =>
    call<undefined>(auth, 'DELETE', `/v3/api_keys/${encodeURIComponent(id)}`),
  usage: (auth: Auth, id: string) =>
    call<KeyUsage>(auth, 'GET', `/v3/api_keys/${encodeURIComponent(id)}/usage`),
};

/**
 * A throwaway for SendGrid's required `password`: Keygate discards it (subusers sign in with API
 * keys), so it is random, never shown and never kept.
 */
function throwawayPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes));
}

/** SendGrid's Subusers routes: the signed-in key's own subusers (never on behalf of anyone). */
export const subusersApi = {
  list: (apiKey: string, options: { username?: string; offset?: number } = {}) => {
    const query = new URLSearchParams({
      limit: String(SUBUSERS_PAGE),
      offset: String(options.offset ?? 0),
    });
    if (options.username) query.set('username', options.username);
    return call<Subuser[]>({ apiKey }, 'GET', `/v3/subusers?${query}`);
  },
  create: (apiKey: string, body: { username: string; email: string; plan?: string }) =>
    call<{ username: string; user_id: number; email: string }>({ apiKey }, 'POST', '/v3/subusers', {
      ...body,
      password: throwawayPassword(),
      ips: [],
    }),
  setDisabled: (apiKey: string, username: string, disabled: boolean) =>
    call<undefined>({ apiKey }, 'PATCH', `/v3/subusers/${encodeURIComponent(username)}`, {
      disabled,
    }),
  remove: (apiKey: string, username: string) =>
    call<undefined>({ apiKey }, 'DELETE', `/v3/subusers/${encodeURIComponent(username)}`),
  plans: (apiKey: string) => call<OfferedPlans>({ apiKey }, 'GET', '/v3/plans'),
  setPlan: (apiKey: string, username: string, plan: string) =>
    call<undefined>({ apiKey }, 'PATCH', `/v3/subusers/${encodeURIComponent(username)}`, {
      plan,
    }),
};

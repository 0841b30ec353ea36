/**
 * The console's only way to Keygate: its public HTTP API, same origin, with the signed-in key.
 * Errors become sentences from SendGrid's envelope.
 */

import type { KeyEvent, KeyLimitsBody } from './key-settings.js';
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
}

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

async function call<T>(apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
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
  scopes: (key: string) => call<{ scopes: string[] }>(key, 'GET', '/v3/scopes'),
  areas: (key: string) => call<{ areas: Area[] }>(key, 'GET', '/v3/scopes/areas'),
  list: (key: string) => call<{ result: KeySummary[] }>(key, 'GET', '/v3/api_keys'),
  get: (key: string, id: string) =>
    call<KeyDetail>(key, 'GET', `/v3/api_keys/${encodeURIComponent(id)}`),
  create: (key: string, body: { name: string; scopes?: string[] } & KeyLimitsBody) =>
    call<CreatedKey>(key, 'POST', '/v3/api_keys', body),
  replace: (key: string, id: string, body: { name: string; scopes: string[] } & KeyLimitsBody) =>
    call<KeyDetail>(key, 'PUT', `/v3/api_keys/${encodeURIComponent(id)}`, body),
  roll: (key: string, id: string, graceSeconds: number) =>
    call<RolledKey>(key, 'POST', `/v3/api_keys/${encodeURIComponent(id)}/roll`, {
      grace_seconds: graceSeconds,
    }),
  events: (key: string, id: string, cursor?: string) => {
    const query = new URLSearchParams({ api_key_id: id, limit: String(EVENTS_PAGE) });
    if (cursor) query.set('cursor', cursor);
    return call<EventPage>(key, 'GET', `/v3/api_keys/events?${query}`);
  },
  remove: (key: string, id: string) =>
    call<undefined>(key, 'DELETE', `/v3/api_keys/${encodeURIComponent(id)}`),
};

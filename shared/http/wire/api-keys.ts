import type { CreatedKey, KeyReplacement, NewKey } from '../../domain/api-keys.js';
import type { Limits } from '../../domain/limits.js';
import type { KeyRecord } from '../../domain/ports.js';
import type { RolledKey } from '../../domain/roll-and-revoke.js';
import type {
  ApiKeyDetailView,
  ApiKeySummaryView,
  CreateApiKeyInput,
  CreatedApiKeyView,
  KeyLimitsWire,
  RenamedApiKeyView,
  ReplaceApiKeyInput,
  RolledApiKeyView,
} from '../../schemas/api-keys.js';

/**
 * SendGrid's API-keys wire format, both ways: its snake_case request bodies become the domain's
 * requests, and the domain's keys become SendGrid's views (with Keygate's additive fields). The
 * domain never sees either; the response schemas (`shared/schemas/api-keys.ts`) type these views.
 */

export function newKeyOf(body: CreateApiKeyInput): NewKey {
  return {
    name: body.name,
    ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
    ...(body.expires_at !== undefined ? { expiresAt: body.expires_at } : {}),
    ...(body.allowed_ips !== undefined ? { allowedIps: body.allowed_ips } : {}),
    ...(body.limits !== undefined ? { limits: limitsOf(body.limits) } : {}),
  };
}

export function replacementOf(body: ReplaceApiKeyInput): KeyReplacement {
  return {
    name: body.name,
    scopes: body.scopes,
    ...(body.expires_at !== undefined ? { expiresAt: body.expires_at } : {}),
    ...(body.allowed_ips !== undefined ? { allowedIps: body.allowed_ips } : {}),
    ...(body.limits !== undefined
      ? { limits: body.limits === null ? null : limitsOf(body.limits) }
      : {}),
  };
}

/** A key's limits as the API takes them (snake_case), as the domain holds them. */
export function limitsOf(wire: KeyLimitsWire): Limits {
  const { rate, quota } = wire;
  return {
    ...(rate ? { rate: { perSecond: rate.per_second, burst: rate.burst } } : {}),
    ...(quota
      ? {
          quota: {
            ...(quota.per_day === undefined ? {} : { perDay: quota.per_day }),
            ...(quota.per_month === undefined ? {} : { perMonth: quota.per_month }),
          },
        }
      : {}),
  };
}

/** A key's limits as the API shows them: `{}` when it has none of its own. */
export function limitsView(limits: Limits | undefined): KeyLimitsWire {
  const { rate, quota } = limits ?? {};
  return {
    ...(rate ? { rate: { per_second: rate.perSecond, burst: rate.burst } } : {}),
    ...(quota
      ? {
          quota: {
            ...(quota.perDay === undefined ? {} : { per_day: quota.perDay }),
            ...(quota.perMonth === undefined ? {} : { per_month: quota.perMonth }),
          },
        }
      : {}),
  };
}

/** When the key stops working and when it was last used (never its allowlist). */
function lifecycleView(key: KeyRecord) {
  return {
    expires_at: key.expiresAt ?? null,
    last_used_at: key.lastUsedAt ?? null,
    last_used_ip: key.lastUsedIp ?? null,
  };
}

/** A key in a list: no scopes and no allowlist, as SendGrid's list. */
export function summaryView(key: KeyRecord): ApiKeySummaryView {
  return {
    api_key_id: key.keyId,
    name: key.name,
    type: key.type,
    created_at: key.createdAt,
    ...lifecycleView(key),
  };
}

export function listView(keys: readonly KeyRecord[]): { result: ApiKeySummaryView[] } {
  return { result: keys.map(summaryView) };
}

export function detailView(key: KeyRecord): ApiKeyDetailView {
  return {
    api_key_id: key.keyId,
    name: key.name,
    scopes: [...key.scopes],
    type: key.type,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    ...lifecycleView(key),
    allowed_ips: key.allowedIps ? [...key.allowedIps] : [],
    limits: limitsView(key.limits),
  };
}

/** The one answer that carries the key itself. */
export function createdView({ apiKey, key }: CreatedKey): CreatedApiKeyView {
  return { api_key: apiKey, ...detailView(key) };
}

export function renamedView(key: KeyRecord): RenamedApiKeyView {
  return { api_key_id: key.keyId, name: key.name };
}

export function rolledView(rolled: RolledKey): RolledApiKeyView {
  return { ...createdView(rolled), previous_key_valid_until: rolled.previousValidUntil };
}

import * as z from 'zod';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from '../domain/grace-period.js';
import { MAX_ALLOWED_IPS } from '../domain/ip-allowlist.js';
import { wholeNumberParam } from './query.js';
import {
  CONTROL_CHARACTERS,
  INVISIBLE_CHARACTERS,
  INVISIBLE_MESSAGE,
  withoutSpacing,
} from './text.js';

/**
 * Request and response schemas of the API-keys contract. The same schemas validate requests,
 * type the domain's views and generate `GET /openapi.json`.
 */

export const NAME_MAX_LENGTH = 100;
export const SCOPE_MAX_LENGTH = 100;
export const SCOPES_MAX_ITEMS = 500;
export const LIST_LIMIT_MAX = 1000;

/** SendGrid's message for a PUT without a name; SendGrid reports it with `field: null`. */
export const PUT_NAME_MESSAGE = "expected JSON request body with 'name' property";

/** Any prefix: a key of another deployment is key material too. */
const KEY_SHAPED = /[A-Za-z][A-Za-z0-9_]{0,15}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/;

const keyName = (missingMessage: string) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? missingMessage : 'name must be a string'),
    })
    .trim()
    .min(1, 'name must not be empty')
    .max(NAME_MAX_LENGTH, `name must be at most ${NAME_MAX_LENGTH} characters`)
    .refine((v) => !CONTROL_CHARACTERS.test(v), 'name must not contain control characters')
    .refine((v) => !INVISIBLE_CHARACTERS.test(v), INVISIBLE_MESSAGE('name'))
    // A key pasted as a name would be stored, listed and audited: key material outside the
    // create response. Spaces or invisible characters inside it do not make it less of a key.
    .refine((v) => !KEY_SHAPED.test(withoutSpacing(v)), 'name must not contain an API key')
    .meta({ description: 'The name of the API key; it need not be unique.' });

const scopeList = (missingMessage: string) =>
  z
    .array(
      z
        .string({ error: 'scopes must be an array of strings' })
        .min(1, 'scopes must not contain empty strings')
        .max(SCOPE_MAX_LENGTH, `a scope is at most ${SCOPE_MAX_LENGTH} characters`),
      {
        error: (issue) =>
          issue.input === undefined ? missingMessage : 'scopes must be an array of strings',
      },
    )
    .max(SCOPES_MAX_ITEMS, `scopes may list at most ${SCOPES_MAX_ITEMS} entries`)
    .meta({ description: 'The permissions the key grants (see GET /v3/scopes).' });

const expiresAt = z.iso
  .datetime({
    offset: true,
    error: 'expires_at must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z',
  })
  .meta({ description: 'Keygate addition: when the key stops working (RFC 3339).' });

const allowedIps = z
  .array(
    z.string({ error: 'allowed_ips must be an array of IP addresses or CIDR blocks' }).max(64),
    {
      error: 'allowed_ips must be an array of IP addresses or CIDR blocks',
    },
  )
  .max(MAX_ALLOWED_IPS, `allowed_ips may list at most ${MAX_ALLOWED_IPS} entries`)
  .meta({
    description: 'Keygate addition: IPv4/IPv6 addresses or CIDR blocks the key may be used from.',
  });

const RATE_MESSAGE =
  'limits.rate must be {"per_second": a number above 0, "burst": a whole number from 1}';
const QUOTA_MESSAGE = 'limits.quota must be {"per_day": and/or "per_month": a whole number from 1}';
const LIMITS_MESSAGE = 'limits must be an object with "rate" and/or "quota"';
const MAX_RATE = 1_000_000;
const quotaCount = z
  .number({ error: QUOTA_MESSAGE })
  .int(QUOTA_MESSAGE)
  .min(1, QUOTA_MESSAGE)
  .max(1e12, QUOTA_MESSAGE);

/** Keygate addition (issue 17): a key's own rate limit and quotas, counted besides its plan's. */
export const KeyLimitsSchema = z
  .object(
    {
      rate: z
        .object(
          {
            per_second: z
              .number({ error: RATE_MESSAGE })
              .positive(RATE_MESSAGE)
              .max(MAX_RATE, RATE_MESSAGE)
              .meta({ description: 'Requests per second, refilled continuously.' }),
            burst: z
              .number({ error: RATE_MESSAGE })
              .int(RATE_MESSAGE)
              .min(1, RATE_MESSAGE)
              .max(MAX_RATE, RATE_MESSAGE)
              .meta({ description: 'Requests that may arrive at once.' }),
          },
          { error: RATE_MESSAGE },
        )
        .optional(),
      quota: z
        .object(
          {
            per_day: quotaCount
              .optional()
              .meta({ description: 'Requests per UTC day (resets at 00:00Z).' }),
            per_month: quotaCount
              .optional()
              .meta({ description: 'Requests per UTC month (resets on the 1st, 00:00Z).' }),
          },
          { error: QUOTA_MESSAGE },
        )
        .refine((q) => q.per_day !== undefined || q.per_month !== undefined, QUOTA_MESSAGE)
        .refine(
          (q) => q.per_day === undefined || q.per_month === undefined || q.per_day <= q.per_month,
          'limits.quota.per_day cannot exceed limits.quota.per_month',
        )
        .optional(),
    },
    { error: LIMITS_MESSAGE },
  )
  .meta({
    id: 'ApiKeyLimits',
    description:
      "Keygate addition: the key's own rate limit and quotas, never looser than the creating key's; {} when it has none.",
  });

export const CreateApiKeyBody = z
  .object({
    name: keyName('missing required argument'),
    scopes: scopeList('missing required argument')
      .optional()
      .meta({ description: 'Omitted: Full Access (every scope of the caller except billing).' }),
    expires_at: expiresAt.optional(),
    allowed_ips: allowedIps.optional(),
    limits: KeyLimitsSchema.optional(),
  })
  .meta({ id: 'CreateApiKeyRequest' });

export const RenameApiKeyBody = z
  .object({ name: keyName('missing required argument') })
  .meta({ id: 'RenameApiKeyRequest' });

export const ReplaceApiKeyBody = z
  .object({
    name: keyName(PUT_NAME_MESSAGE),
    scopes: scopeList('missing required argument'),
    // Omitted: unchanged. null: removed.
    expires_at: expiresAt.nullable().optional(),
    allowed_ips: allowedIps.nullable().optional(),
    limits: KeyLimitsSchema.nullable().optional(),
  })
  .meta({ id: 'ReplaceApiKeyRequest' });

export { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS };

export const RollApiKeyBody = z
  .object({
    grace_seconds: z
      .number({ error: 'grace_seconds must be an integer' })
      .int('grace_seconds must be an integer')
      .min(0, `grace_seconds must be from 0 to ${MAX_GRACE_SECONDS}`)
      .max(MAX_GRACE_SECONDS, `grace_seconds must be from 0 to ${MAX_GRACE_SECONDS}`)
      .optional()
      .meta({ description: 'How long the old key keeps working (default 24 h, at most 7 days).' }),
  })
  .meta({ id: 'RollApiKeyRequest' });

export const LEAKED_KEYS_MAX = 100;

export const RevokeLeakedKeysBody = z
  .object({
    keys: z
      .array(z.string({ error: 'keys must be an array of strings' }).max(512), {
        error: (issue) =>
          issue.input === undefined
            ? 'missing required argument'
            : 'keys must be an array of strings',
      })
      .min(1, 'keys must list at least one key')
      .max(LEAKED_KEYS_MAX, `keys may list at most ${LEAKED_KEYS_MAX} entries`),
  })
  .meta({ id: 'RevokeLeakedKeysRequest' });

export const EVENTS_LIMIT_MAX = 100;

export const ListEventsQuery = z.object({
  limit: wholeNumberParam('limit', 1, EVENTS_LIMIT_MAX, 'At most this many events (default 50).'),
  cursor: z
    .string()
    .max(2048, 'cursor is not valid')
    .optional()
    .meta({ description: 'next_cursor of the previous page.' }),
  // Not empty: DynamoDB refuses an empty key value, and no key has an empty ID.
  api_key_id: z
    .string()
    .min(1, 'api_key_id must not be empty')
    .max(64)
    .optional()
    .meta({ description: 'Only the events about this key.' }),
});

export const ListApiKeysQuery = z.object({
  limit: wholeNumberParam(
    'limit',
    1,
    LIST_LIMIT_MAX,
    'Return at most this many keys (oldest first).',
  ),
});

const keyType = z.enum(['owner', 'general', 'billing']).meta({
  description: 'Keygate addition: owner (the account bootstrap key), general or billing.',
});
const timestamp = z.string().meta({ description: 'Keygate addition: RFC 3339 time.' });
const apiKeyId = z.string().meta({ description: 'The ID of the API key (22 characters).' });

const usage = {
  expires_at: timestamp.nullable(),
  last_used_at: timestamp.nullable(),
  last_used_ip: z
    .string()
    .nullable()
    .meta({ description: 'Keygate addition: source address of the last use.' }),
};

export const ApiKeySummary = z
  .object({
    api_key_id: apiKeyId,
    name: z.string(),
    type: keyType,
    created_at: timestamp,
    ...usage,
  })
  .meta({ id: 'ApiKeySummary' });

export const ApiKeyList = z.object({ result: z.array(ApiKeySummary) }).meta({ id: 'ApiKeyList' });

export const ApiKeyView = z
  .object({
    api_key_id: apiKeyId,
    name: z.string(),
    scopes: z.array(z.string()),
    type: keyType,
    created_at: timestamp,
    updated_at: timestamp,
    ...usage,
    allowed_ips: z
      .array(z.string())
      .meta({ description: 'Keygate addition: empty when any address may use the key.' }),
    limits: KeyLimitsSchema,
  })
  .meta({ id: 'ApiKey' });

export const CreatedApiKey = ApiKeyView.extend({
  api_key: z.string().meta({ description: 'The key itself. Returned here only, never again.' }),
}).meta({ id: 'CreatedApiKey' });

export const RolledApiKey = CreatedApiKey.extend({
  previous_key_valid_until: timestamp.nullable(),
}).meta({ id: 'RolledApiKey' });

export const RevokeLeakedKeysAnswer = z
  .object({ received: z.number().meta({ description: 'Keys received; never which were valid.' }) })
  .meta({ id: 'RevokeLeakedKeysAnswer' });

export const RevokeByValueAnswer = z
  .object({
    received: z.number().meta({ description: 'Keys received.' }),
    revoked: z.number().meta({
      description: "Keys of the caller's account that were revoked (or ended a grace period).",
    }),
  })
  .meta({ id: 'RevokeByValueAnswer' });

export const AuditEventView = z
  .object({
    id: z.string(),
    time: timestamp,
    action: z.string(),
    actor_key_id: z.string().nullable(),
    api_key_id: apiKeyId,
    scopes_added: z.array(z.string()),
    scopes_removed: z.array(z.string()),
    source_ip: z.string().nullable(),
    details: z.record(z.string(), z.string()),
  })
  .meta({ id: 'AuditEvent' });

export const AuditEventList = z
  .object({ result: z.array(AuditEventView), next_cursor: z.string().nullable() })
  .meta({ id: 'AuditEventList' });

export const RenamedApiKey = z
  .object({ api_key_id: apiKeyId, name: z.string() })
  .meta({ id: 'RenamedApiKey' });

export const ScopeList = z.object({ scopes: z.array(z.string()) }).meta({ id: 'ScopeList' });

export const ScopeArea = z
  .object({
    id: z.string(),
    label: z.string(),
    billing: z
      .boolean()
      .meta({ description: 'Its scopes make billing keys, which hold nothing else.' }),
    read: z.array(z.string()).meta({ description: 'What Read Access grants.' }),
    full: z.array(z.string()).meta({ description: 'What Full Access grants.' }),
  })
  .meta({ id: 'ScopeArea' });

export const ScopeAreaList = z.object({ areas: z.array(ScopeArea) }).meta({ id: 'ScopeAreaList' });

export type ScopeAreaView = z.output<typeof ScopeArea>;

export const ErrorEnvelope = z
  .object({
    errors: z.array(z.object({ field: z.string().nullable(), message: z.string() })),
  })
  .meta({ id: 'ErrorResponse' });

export type CreateApiKeyInput = z.output<typeof CreateApiKeyBody>;
export type RenameApiKeyInput = z.output<typeof RenameApiKeyBody>;
export type ReplaceApiKeyInput = z.output<typeof ReplaceApiKeyBody>;
export type ListApiKeysInput = z.output<typeof ListApiKeysQuery>;
export type ApiKeySummaryView = z.output<typeof ApiKeySummary>;
export type ApiKeyDetailView = z.output<typeof ApiKeyView>;
export type CreatedApiKeyView = z.output<typeof CreatedApiKey>;
export type KeyLimitsWire = z.output<typeof KeyLimitsSchema>;
export type RenamedApiKeyView = z.output<typeof RenamedApiKey>;
export type RollApiKeyInput = z.output<typeof RollApiKeyBody>;
export type RolledApiKeyView = z.output<typeof RolledApiKey>;
export type RevokeLeakedKeysInput = z.output<typeof RevokeLeakedKeysBody>;
export type ListEventsInput = z.output<typeof ListEventsQuery>;
export type AuditEventViewType = z.output<typeof AuditEventView>;

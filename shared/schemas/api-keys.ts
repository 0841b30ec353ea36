import * as z from 'zod';

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

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

const keyName = (missingMessage: string) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? missingMessage : 'name must be a string'),
    })
    .trim()
    .min(1, 'name must not be empty')
    .max(NAME_MAX_LENGTH, `name must be at most ${NAME_MAX_LENGTH} characters`)
    .refine((v) => !CONTROL_CHARACTERS.test(v), 'name must not contain control characters')
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

export const CreateApiKeyBody = z
  .object({
    name: keyName('missing required argument'),
    scopes: scopeList('missing required argument')
      .optional()
      .meta({ description: 'Omitted: Full Access (every scope of the caller except billing).' }),
  })
  .meta({ id: 'CreateApiKeyRequest' });

export const RenameApiKeyBody = z
  .object({ name: keyName('missing required argument') })
  .meta({ id: 'RenameApiKeyRequest' });

export const ReplaceApiKeyBody = z
  .object({
    name: keyName(PUT_NAME_MESSAGE),
    scopes: scopeList('missing required argument'),
  })
  .meta({ id: 'ReplaceApiKeyRequest' });

export const ListApiKeysQuery = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, `limit must be an integer from 1 to ${LIST_LIMIT_MAX}`)
    .transform(Number)
    .refine(
      (n) => n >= 1 && n <= LIST_LIMIT_MAX,
      `limit must be an integer from 1 to ${LIST_LIMIT_MAX}`,
    )
    .optional(),
});

const keyType = z.enum(['owner', 'general', 'billing']).meta({
  description: 'Keygate addition: owner (the account bootstrap key), general or billing.',
});
const timestamp = z.string().meta({ description: 'Keygate addition: RFC 3339 time.' });
const apiKeyId = z.string().meta({ description: 'The ID of the API key (22 characters).' });

export const ApiKeySummary = z
  .object({ api_key_id: apiKeyId, name: z.string(), type: keyType, created_at: timestamp })
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
  })
  .meta({ id: 'ApiKey' });

export const CreatedApiKey = ApiKeyView.extend({
  api_key: z.string().meta({ description: 'The key itself. Returned here only, never again.' }),
}).meta({ id: 'CreatedApiKey' });

export const RenamedApiKey = z
  .object({ api_key_id: apiKeyId, name: z.string() })
  .meta({ id: 'RenamedApiKey' });

export const ScopeList = z.object({ scopes: z.array(z.string()) }).meta({ id: 'ScopeList' });

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
export type RenamedApiKeyView = z.output<typeof RenamedApiKey>;

import * as z from 'zod';

/**
 * The response schema of `GET /v3/api_keys/{api_key_id}/usage` (Keygate addition, issue 17):
 * where a key and its account stand against their limits. It types the wire view
 * (`shared/http/wire/usage.ts`) and generates `GET /openapi.json`.
 */

/** Limits in the wire contract's snake_case shape (the key detail view's `limits`). */
const limits = z
  .object({
    rate: z
      .object({
        per_second: z.number().meta({ description: 'Requests per second, refilled continuously.' }),
        burst: z.number().int().meta({ description: 'Requests that may arrive at once.' }),
      })
      .optional(),
    quota: z
      .object({
        per_day: z.number().int().optional().meta({ description: 'Requests per UTC day.' }),
        per_month: z.number().int().optional().meta({ description: 'Requests per UTC month.' }),
      })
      .optional(),
  })
  .meta({ description: 'The limits that apply; {} when none do.' });

const period = (name: string, resets: string) =>
  z
    .object({
      used: z
        .number()
        .int()
        .meta({ description: `Requests counted this ${name}.` }),
      limit: z
        .number()
        .int()
        .nullable()
        .meta({ description: `The ${name}'s quota; null when only counted, not limited.` }),
      resets_at: z.string().meta({ description: `When the count restarts from 0 (${resets}).` }),
    })
    .nullable()
    .meta({ description: `This UTC ${name}'s count; null when not counted.` });

const standing = {
  counted: z.boolean().meta({
    description:
      'Whether requests are counted: only with limits of their own. When false, day and month are null: the usage is unknown, not 0.',
  }),
  limits,
  day: period('day', '00:00Z'),
  month: period('month', 'the 1st, 00:00Z'),
};

export const ApiKeyUsage = z
  .object({
    api_key_id: z.string().meta({ description: 'The ID of the API key.' }),
    key: z
      .object(standing)
      .meta({ description: "The key's own limits (set on the key) and its counts." }),
    account: z
      .object({
        plan: z
          .string()
          .nullable()
          .meta({ description: "The account's plan; null when the deployment declares none." }),
        ...standing,
      })
      .meta({ description: "The account's plan, shared by all its keys, and its counts." }),
  })
  .meta({ id: 'ApiKeyUsage' });

export type ApiKeyUsageView = z.output<typeof ApiKeyUsage>;
export type LimitsView = z.output<typeof limits>;

import * as z from 'zod';
import { KeyLimitsSchema } from './api-keys.js';

/**
 * The response schema of `GET /v3/api_keys/{api_key_id}/usage` (Keygate addition, issue 17):
 * where a key and its account stand against their limits. It types the wire view
 * (`shared/http/wire/usage.ts`) and generates `GET /openapi.json`.
 */

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
      'Whether requests are counted: only where the deployment declares plans, and only against limits that apply. When false, day and month are null: the usage is unknown, not 0.',
  }),
  limits: KeyLimitsSchema,
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

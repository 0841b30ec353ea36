import * as z from 'zod';

/**
 * What the OpenAPI document says of a query parameter. Query values arrive as strings, so a
 * parameter's zod schema parses text; `param` is the JSON Schema of the value it stands for.
 */
export interface QueryParamMeta {
  description: string;
  param?: Record<string, unknown>;
}

/** A whole-number query parameter from `min` to `max`, optional; documented as an integer. */
export function wholeNumberParam(name: string, min: number, max: number, description: string) {
  const message = `${name} must be an integer from ${min} to ${max}`;
  const meta: QueryParamMeta = {
    description,
    param: { type: 'integer', minimum: min, maximum: max },
  };
  return z
    .string()
    .regex(/^[0-9]{1,7}$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message)
    .optional()
    .meta({ ...meta });
}

import * as z from 'zod';

/** The answer of `GET /health`: the function runs. It checks no dependency. */
export const Health = z
  .object({ status: z.literal('ok') })
  .meta({ id: 'Health', description: 'Liveness only; dependencies are not checked.' });

export type HealthView = z.output<typeof Health>;

export const HEALTHY: HealthView = { status: 'ok' };

import { assert } from 'vitest';
import * as z from 'zod';

/**
 * A response body typed by the zod schema of the route's answer, once that schema has accepted
 * it: the type is earned by the check, not asserted by a cast in the test. The body itself is
 * returned rather than zod's parsed copy, which drops the fields the schema does not name: tests
 * that look for fields a response must not have still see them.
 */
export function bodyAs<S extends z.ZodType>(schema: S, body: unknown, where: string): z.input<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    assert.fail(
      `${where}: not the answer ${String(schema.meta()?.id ?? 'its schema describes')}:\n${z.prettifyError(
        parsed.error,
      )}\nbody: ${JSON.stringify(body)?.slice(0, 500)}`,
    );
  }
  return body as z.input<S>;
}

/** A result whose body `bodyAs` has checked against `S`. */
export type Answered<R extends { body: unknown }, S extends z.ZodType> = Omit<R, 'body'> & {
  body: z.input<S>;
};

/** `bodyAs` where a schema is given; with none, the body unchecked, typed `unknown`. */
export function checked<S extends z.ZodType>(
  schema: S | undefined,
  body: unknown,
  where: string,
): z.input<S> {
  return schema === undefined ? (body as z.input<S>) : bodyAs(schema, body, where);
}

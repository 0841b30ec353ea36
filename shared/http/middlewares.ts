import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import type { Caller } from '../domain/caller.js';
import {
  BadRequestError,
  type FieldError,
  InternalError,
  KeygateError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors.js';
import type { Deps } from '../domain/ports.js';
import { actingCaller } from '../domain/subusers.js';
import type { Logger } from '../observability/logger.js';
import { countMetric, METRIC_NAMES } from '../observability/metrics.js';
import type { RouteDefinition } from '../routes.js';
import { PUT_NAME_MESSAGE } from '../schemas/api-keys.js';
import { headerValue as headerOf, readCaller } from './caller.js';
import { errorResponse } from './responses.js';
import { statusOf } from './statuses.js';

/** What the middlewares establish before the handler runs. */
export interface RequestContext extends Context {
  caller: Caller;
  input: { body: unknown; query: unknown };
}

type Middleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>;

/** Request bodies larger than this are refused (413) before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Turns every failure into SendGrid's envelope. Last in the chain, so first in `onError`.
 * Unexpected errors are logged (redacted) and answered with a generic 500; a 503 (a failing
 * dependency) is counted, by dependency.
 */
export function errorEnvelope(options: { logger: Logger }): Middleware {
  return {
    onError: function errorEnvelopeOnError(request) {
      const error =
        request.error instanceof KeygateError
          ? request.error
          : new InternalError({ cause: request.error });
      if (error instanceof ServiceUnavailableError) {
        countMetric(METRIC_NAMES.serviceUnavailable, { Dependency: error.dependency });
      }
      const status = statusOf(error);
      if (status >= 500) {
        options.logger.error('request failed', {
          status,
          error: error.cause ?? error,
          requestId: request.event?.requestContext?.requestId,
        });
      }
      request.response = errorResponse(error);
    },
  };
}

export { EXPIRED_MESSAGE, RETIRING_SECRET_MESSAGE } from './caller.js';

/**
 * Reads the caller from the authorizer's context and re-checks the route's scopes, key type,
 * expiry and secret (`readCaller`; defence in depth: the authorizer already did, and this costs
 * no I/O).
 */
export function callerContext(route: RouteDefinition): Middleware {
  return {
    before: function callerContextBefore(request) {
      const read = readCaller(request.event, route);
      if (!read.ok) throw read.error;
      request.context.caller = read.caller;
    },
  };
}

/**
 * `on-behalf-of`, on the routes that take it: the caller becomes the named subuser's account
 * with the parent's key, or the request is refused (403) before its input is even read, so a
 * refused header says nothing about the request. Costs no I/O without the header.
 */
export function actingAs(deps: () => Deps): Middleware {
  return {
    before: async function actingAsBefore(request) {
      const acting = await actingCaller(deps(), request.context.caller);
      if (!acting.ok) throw acting.error;
      request.context.caller = acting.value;
    },
  };
}

/**
 * How a validation error names its field: `top` reports the top-level property (`scopes`, as the
 * API-keys routes do), `dotted` the full path (`personalizations.0.to.0.email`, as mail send does).
 */
export type FieldPathStyle = 'top' | 'dotted';

/**
 * Parses and validates the query string and the JSON body with zod. Bodies are limited to
 * {@link MAX_BODY_BYTES}, must be JSON objects, and unknown fields are dropped (so no body can
 * set what the server owns: account, type, hash, counters).
 */
export function parseInput(schemas: {
  body?: z.ZodType | undefined;
  query?: z.ZodType | undefined;
  maxBodyBytes?: number | undefined;
  /** Defaults to `top`. */
  fieldPath?: FieldPathStyle | undefined;
}): Middleware {
  const maxBytes = schemas.maxBodyBytes ?? MAX_BODY_BYTES;
  const style = schemas.fieldPath ?? 'top';
  return {
    before: function parseInputBefore(request) {
      const { event } = request;
      const query = schemas.query
        ? check(schemas.query, event.queryStringParameters ?? {}, style)
        : undefined;
      const body = schemas.body
        ? check(schemas.body, readJsonObject(event, maxBytes), style)
        : undefined;
      request.context.input = { body, query };
    },
  };
}

function readJsonObject(event: APIGatewayProxyEvent, maxBytes: number): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new PayloadTooLargeError(`request body must be at most ${maxBytes} bytes`);
  }
  const contentType = headerValue(event, 'content-type');
  if (
    contentType !== undefined &&
    !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)
  ) {
    throw new UnsupportedMediaTypeError();
  }
  const text = bytes.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('request body must be valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('request body must be a JSON object');
  }
  return value;
}

function check(schema: z.ZodType, value: unknown, style: FieldPathStyle): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const top = issue.path[0];
    const path = style === 'dotted' ? issue.path.map(String).join('.') : String(top);
    const field = issue.message === PUT_NAME_MESSAGE || top === undefined ? null : path;
    const id = `${field}\u0000${issue.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      errors.push({ field, message: issue.message });
    }
  }
  throw new ValidationError(errors);
}

/** Case-insensitive header lookup (API Gateway REST passes headers as the client sent them). */
export function headerValue(event: APIGatewayProxyEvent, name: string): string | undefined {
  return headerOf(event.headers, name);
}

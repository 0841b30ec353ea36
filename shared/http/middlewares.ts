import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from 'zod';
import type { Caller } from '../domain/api-keys.js';
import {
  BadRequestError,
  type FieldError,
  ForbiddenError,
  InternalError,
  KeygateError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors.js';
import { remember } from '../domain/memo.js';
import type { Logger } from '../observability/logger.js';
import type { RouteDefinition } from '../routes.js';
import { PUT_NAME_MESSAGE } from '../schemas/api-keys.js';
import { errorResponse } from './responses.js';

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
 * Unexpected errors are logged (redacted) and answered with a generic 500.
 */
export function errorEnvelope(options: { logger: Logger }): Middleware {
  return {
    onError: function errorEnvelopeOnError(request) {
      const error =
        request.error instanceof KeygateError
          ? request.error
          : new InternalError({ cause: request.error });
      if (error.status >= 500) {
        options.logger.error('request failed', {
          status: error.status,
          error: error.cause ?? error,
          requestId: request.event?.requestContext?.requestId,
        });
      }
      request.response = errorResponse(error);
    },
  };
}

const AuthorizerContext = z.object({
  accountId: z.string().min(1),
  keyId: z.string().min(1),
  type: z.enum(['owner', 'general', 'billing']),
  scopes: z.string(),
  expiresAt: z.string().optional(),
  // Absent in a result cached by an earlier release: that authorizer vouched for the secret.
  secret: z.enum(['current', 'previous']).optional(),
  allowedIps: z.string().optional(),
});

/** Why a retiring secret is refused on a route that manages keys. */
export const RETIRING_SECRET_MESSAGE =
  'this key was rolled and the secret presented is retiring: it cannot manage keys; use the new secret';

/** SendGrid's words for a key that no longer works. */
export const EXPIRED_MESSAGE = 'The provided authorization grant is invalid, expired, or revoked';

/**
 * The authorizer context's space-joined scopes, split once per distinct string: a warm function
 * sees the same few keys again and again, and a full-access key holds some 200 scopes.
 */
function parsedScopes(joined: string): { scopes: readonly string[]; held: ReadonlySet<string> } {
  let parsed = scopeStrings.get(joined);
  if (!parsed) {
    // Every request of a warm function with this key shares the array: frozen.
    const scopes = Object.freeze(joined.split(' ').filter(Boolean));
    parsed = remember(scopeStrings, joined, { scopes, held: new Set(scopes) }, 256);
  }
  return parsed;
}

const scopeStrings = new Map<string, { scopes: readonly string[]; held: ReadonlySet<string> }>();

/**
 * Reads the caller from the authorizer's context and re-checks the route's scopes (defence in
 * depth: the authorizer already did, and this costs no I/O). A missing or malformed context
 * means the request did not come through the authorizer: 401.
 */
export function callerContext(route: RouteDefinition): Middleware {
  const required = route.access.kind === 'key' ? route.access.scopes : [];
  const keyTypes: readonly string[] = route.access.kind === 'key' ? route.access.keyTypes : [];
  const managesKeys = route.access.kind === 'key' && route.access.managesKeys === true;
  return {
    before: function callerContextBefore(request) {
      const parsed = AuthorizerContext.safeParse(request.event.requestContext?.authorizer);
      if (!parsed.success) throw new UnauthorizedError();
      // Acting for a subuser is not supported; ignoring the header would act on the wrong account.
      if (headerValue(request.event, 'on-behalf-of') !== undefined) {
        throw new BadRequestError('the on-behalf-of header is not supported', 'on-behalf-of');
      }
      // A cached authorizer result may outlive the key's expiry (or a roll's grace period): the
      // expiry travels in the context and is checked on every request.
      const { expiresAt, secret = 'current', allowedIps = '', ...identity } = parsed.data;
      if (expiresAt && Date.parse(expiresAt) <= Date.now()) {
        throw new UnauthorizedError(EXPIRED_MESSAGE);
      }
      const { scopes, held } = parsedScopes(identity.scopes);
      const missing = required.filter((s) => !held.has(s));
      if (!keyTypes.includes(identity.type) || missing.length > 0) {
        throw new ForbiddenError('access forbidden', null, missing);
      }
      if (managesKeys && secret === 'previous') throw new ForbiddenError(RETIRING_SECRET_MESSAGE);
      request.context.caller = {
        ...identity,
        scopes,
        secret,
        ...(expiresAt ? { expiresAt } : {}),
        ...(allowedIps ? { allowedIps: allowedIps.split(' ') } : {}),
        sourceIp: request.event.requestContext?.identity?.sourceIp ?? null,
      };
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
  const headers = event.headers ?? {};
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

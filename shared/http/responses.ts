import type { APIGatewayProxyResult } from 'aws-lambda';
import { type KeygateError, TooManyRequestsError } from '../domain/errors.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { statusOf } from './statuses.js';

/**
 * Headers on every response. `no-store` matters most on create, whose body holds the only copy
 * of a key: no proxy or browser cache may keep it.
 */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/**
 * A JSON response. 204, and any status without a body (`undefined`, e.g. mail send's 202), is
 * answered with an empty body and no `Content-Type`.
 */
export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  if (statusCode === 204 || body === undefined) {
    return { statusCode, headers: { ...BASE_HEADERS }, body: '' };
  }
  return {
    statusCode,
    headers: { ...BASE_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** SendGrid's envelope: `{"errors":[{"field":…,"message":…}]}`. */
export function errorResponse(error: KeygateError): APIGatewayProxyResult {
  const response = jsonResponse(statusOf(error), { errors: error.errors });
  // A refusal over a plan's limit says where the caller stands, as an admitted request does.
  const standing = error instanceof TooManyRequestsError ? rateLimitHeaders(error.standing) : {};
  return { ...response, headers: { ...response.headers, ...error.headers, ...standing } };
}

import type { ErrorCode, KeygateError } from '../domain/errors.js';

/**
 * The HTTP status of each error code: a closed map (adding a code to the domain forces a status
 * here), so no handler picks a status by hand. The domain names outcomes; HTTP is this layer's.
 */
export const statusByCode: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

export function statusOf(error: KeygateError): number {
  return statusByCode[error.code];
}

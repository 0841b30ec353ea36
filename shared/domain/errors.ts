/**
 * Keygate's error model. Every failure a client can see is one of these classes; the HTTP layer
 * turns them into SendGrid's envelope `{"errors":[{"field":…,"message":…}]}` with the status
 * of their code (`shared/http/statuses.ts`, a closed map), so no handler picks a status by hand.
 */

/** One entry of SendGrid's `errors` array. `field` is `null` when no single field is at fault. */
export interface FieldError {
  field: string | null;
  message: string;
}

/** The closed set of error codes. Adding one forces a status in `shared/http/statuses.ts`. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'unavailable'
  | 'internal';

/** Base class: a client-visible failure with one or more field errors. */
export class KeygateError extends Error {
  readonly code: ErrorCode;
  readonly errors: readonly FieldError[];
  /** Extra response headers (e.g. `Retry-After`). Never carries key material. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    errors: readonly FieldError[],
    headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(errors.map((e) => e.message).join('; '), options);
    this.name = new.target.name;
    this.code = code;
    this.errors = errors;
    this.headers = headers;
  }
}

export class BadRequestError extends KeygateError {
  constructor(message: string, field: string | null = null) {
    super('bad_request', [{ field, message }]);
  }
}

export class ValidationError extends KeygateError {
  constructor(errors: readonly FieldError[]) {
    super('bad_request', errors);
  }
}

export class UnauthorizedError extends KeygateError {
  constructor(message = 'authorization required') {
    super('unauthorized', [{ field: null, message }]);
  }
}

/** The response header that names the scopes a refused request lacked (as GitHub does). */
export const REQUIRED_SCOPES_HEADER = 'x-keygate-required-scopes';

export class ForbiddenError extends KeygateError {
  constructor(
    message = 'access forbidden',
    field: string | null = null,
    missingScopes: readonly string[] = [],
  ) {
    super(
      'forbidden',
      [{ field, message }],
      missingScopes.length > 0 ? { [REQUIRED_SCOPES_HEADER]: missingScopes.join(' ') } : {},
    );
  }
}

export class NotFoundError extends KeygateError {
  constructor(message = 'not found') {
    super('not_found', [{ field: null, message }]);
  }
}

export class ConflictError extends KeygateError {
  constructor(message: string) {
    super('conflict', [{ field: null, message }]);
  }
}

export class PayloadTooLargeError extends KeygateError {
  constructor(message = 'content too large') {
    super('payload_too_large', [{ field: null, message }]);
  }
}

export class UnsupportedMediaTypeError extends KeygateError {
  constructor(message = 'content-type must be application/json') {
    super('unsupported_media_type', [{ field: null, message }]);
  }
}

/** Which dependency failed: the storage (DynamoDB), unless said otherwise. */
export type FailingDependency = 'storage' | 'mail';

/** A dependency (DynamoDB, or SES for mail) is failing: retryable, never a 401 or an allow. */
/**
 * Over a plan's rate limit or quota: when to try again, and where the caller stands against the
 * limit that refused it (the HTTP layer sends it as SendGrid's `X-RateLimit-*` headers).
 */
export class TooManyRequestsError extends KeygateError {
  readonly standing: { limit: number; remaining: number; resetsAt: Date };

  constructor(
    message: string,
    retryAfterSeconds: number,
    standing: { limit: number; remaining: number; resetsAt: Date },
  ) {
    super('too_many_requests', [{ field: null, message }], {
      'retry-after': String(retryAfterSeconds),
    });
    this.standing = standing;
  }
}

export class ServiceUnavailableError extends KeygateError {
  /** For the operators' metrics only (never in the response: the client's answer is the same). */
  readonly dependency: FailingDependency;

  constructor(options?: ErrorOptions & { dependency?: FailingDependency }) {
    super(
      'unavailable',
      [{ field: null, message: 'service temporarily unavailable, retry later' }],
      { 'retry-after': '1' },
      options,
    );
    this.dependency = options?.dependency ?? 'storage';
  }
}

export class InternalError extends KeygateError {
  constructor(options?: ErrorOptions) {
    super('internal', [{ field: null, message: 'internal server error' }], {}, options);
  }
}

/** Expected outcomes of domain operations: a value, or a client-visible error. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: KeygateError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: KeygateError): Result<T> => ({ ok: false, error });

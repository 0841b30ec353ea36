import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '../domain/caller.js';
import {
  BadRequestError,
  ForbiddenError,
  type KeygateError,
  UnauthorizedError,
} from '../domain/errors.js';
import { type Limits, limitsFrom } from '../domain/limits.js';
import { remember } from '../domain/memo.js';
import type { RouteDefinition } from '../routes.js';

/**
 * Who is calling, from the authorizer's context, checked again on every request: the one check
 * Keygate's own handlers (`callerContext`) and a team's wrapped handlers (`wrapTeamHandler`)
 * share. Pure and light (no schema library), since every function's cold start pays for it.
 */

/** Why a retiring secret is refused on a route that manages keys. */
export const RETIRING_SECRET_MESSAGE =
  'this key was rolled and the secret presented is retiring: it cannot manage keys; use the new secret';

/** SendGrid's words for a key that no longer works. */
export const EXPIRED_MESSAGE = 'The provided authorization grant is invalid, expired, or revoked';

const KEY_TYPES = new Set(['owner', 'general', 'billing']);

/**
 * The caller of `route`, or the error to answer with: a missing or malformed context (the
 * request did not come through the authorizer: 401), `on-behalf-of` on a route that does not
 * take it (ignoring it would act on the wrong account: 400; where it is taken, the caller carries
 * it for `actingCaller` to resolve), an expiry or a roll's grace end
 * passed (a cached authorizer result may outlive them: 401), a scope or key type the route needs
 * (403), a retiring secret on a route that manages keys (403).
 */
export function readCaller(
  event: Pick<APIGatewayProxyEvent, 'requestContext' | 'headers'>,
  route: Pick<RouteDefinition, 'access'>,
  now: number = Date.now(),
): { ok: true; caller: Caller } | { ok: false; error: KeygateError } {
  const context = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  const accountId = context?.accountId;
  const keyId = context?.keyId;
  const type = context?.type;
  const joined = context?.scopes;
  const expiresAt = optionalString(context?.expiresAt);
  // Absent in a result cached by an earlier release: that authorizer vouched for the secret.
  const secret = optionalString(context?.secret) ?? 'current';
  const allowedIps = optionalString(context?.allowedIps) ?? '';
  // Absent in a result cached by an earlier release, which had no per-key limits.
  const limits = parsedLimits(optionalString(context?.limits) ?? '');
  if (
    typeof accountId !== 'string' ||
    accountId === '' ||
    typeof keyId !== 'string' ||
    keyId === '' ||
    typeof type !== 'string' ||
    !KEY_TYPES.has(type) ||
    typeof joined !== 'string' ||
    expiresAt === null ||
    limits === null ||
    (secret !== 'current' && secret !== 'previous')
  ) {
    return { ok: false, error: new UnauthorizedError() };
  }
  const onBehalfOf = headerValue(event.headers, 'on-behalf-of');
  if (onBehalfOf !== undefined) {
    if (route.access.kind !== 'key' || route.access.onBehalfOf !== true) {
      return {
        ok: false,
        error: new BadRequestError(
          'the on-behalf-of header is not supported on this route',
          'on-behalf-of',
        ),
      };
    }
    if (onBehalfOf.trim() === '') {
      return {
        ok: false,
        error: new BadRequestError('on-behalf-of must name a subuser', 'on-behalf-of'),
      };
    }
  }
  if (expiresAt && Date.parse(expiresAt) <= now) {
    return { ok: false, error: new UnauthorizedError(EXPIRED_MESSAGE) };
  }
  const { scopes, held } = parsedScopes(joined);
  if (route.access.kind === 'key') {
    const missing = route.access.scopes.filter((s) => !held.has(s));
    if (!route.access.keyTypes.includes(type as Caller['type']) || missing.length > 0) {
      return { ok: false, error: new ForbiddenError('access forbidden', null, missing) };
    }
    if (route.access.managesKeys === true && secret === 'previous') {
      return { ok: false, error: new ForbiddenError(RETIRING_SECRET_MESSAGE) };
    }
  }
  return {
    ok: true,
    caller: {
      accountId,
      keyId,
      type: type as Caller['type'],
      scopes,
      secret,
      ...(expiresAt ? { expiresAt } : {}),
      ...(allowedIps ? { allowedIps: allowedIps.split(' ') } : {}),
      ...(limits ? { limits } : {}),
      ...(onBehalfOf === undefined ? {} : { onBehalfOf: onBehalfOf.trim() }),
      sourceIp: event.requestContext?.identity?.sourceIp ?? null,
    },
  };
}

/** A string, undefined when absent, null when present but not a string (malformed). */
function optionalString(value: unknown): string | undefined | null {
  return value === undefined ? undefined : typeof value === 'string' ? value : null;
}

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
 * The context's limits: `undefined` for none, `null` when unreadable (401: a context that does not
 * say what it limits must not be served unlimited). Parsed once per distinct string.
 */
function parsedLimits(joined: string | null): Limits | undefined | null {
  if (joined === null) return null;
  if (joined === '') return undefined;
  const known = limitStrings.get(joined);
  if (known !== undefined) return known;
  let parsed: Limits | undefined | null;
  try {
    parsed = limitsFrom(JSON.parse(joined)) ?? null;
  } catch {
    parsed = null;
  }
  return remember(limitStrings, joined, parsed, 256);
}

const limitStrings = new Map<string, Limits | null>();

/** Case-insensitive header lookup (API Gateway REST passes headers as the client sent them). */
export function headerValue(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
  name: string,
): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

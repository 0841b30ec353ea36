import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Caller } from '../domain/caller.js';
import { InternalError, KeygateError, ServiceUnavailableError } from '../domain/errors.js';
import type { Standing } from '../domain/limits.js';
import type { KeyType } from '../domain/scopes.js';
import { redactingReplacer } from '../observability/redact.js';
import type { RouteDefinition } from '../routes.js';
import { readCaller } from './caller.js';
import { withStanding } from './rate-limit-headers.js';
import { errorResponse } from './responses.js';

/** A team's handler: a plain API Gateway (REST, Lambda proxy) handler. */
export type TeamHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** Who is calling a team's route: what Keygate's authorizer established about the key. */
export interface KeygateCaller {
  accountId: string;
  keyId: string;
  type: KeyType;
  /** The scopes the key holds, sorted. */
  scopes: readonly string[];
}

/**
 * Wraps a team's handler as Keygate wraps its own: before it runs, the caller is read from the
 * authorizer's context and checked again (`readCaller`), so an expired key, a roll's ended grace
 * period, a missing scope or a wrong key type is refused even when API Gateway answers from a
 * cached allow (SendGrid's envelope, as every Keygate error). Anything the handler throws becomes
 * a 500 in the envelope, logged (redacted) without the request. Light on purpose: no schema
 * library and no logger framework, since it is in every team function's cold start.
 *
 * @example
 * // What Keygate's bundle for a team route exports:
 * export const handler = wrapTeamHandler(teamHandler, route);
 */
export function wrapTeamHandler(
  inner: TeamHandler,
  route: Pick<RouteDefinition, 'access'>,
  /**
   * Counts the request against the key's own limits and its account's plan (`checkPlan` in
   * `plan-limits.ts`), given only where the team declared plans: without them a team function
   * loads no storage client.
   */
  planCheck?: (caller: Caller) => Promise<Standing | undefined>,
): TeamHandler {
  if (typeof inner !== 'function') {
    throw new Error('a team route module must export `handler`, an API Gateway proxy handler');
  }
  return async (event, context) => {
    const read = readCaller(event, route);
    if (!read.ok) return errorResponse(read.error);
    let standing: Standing | undefined;
    try {
      standing = await planCheck?.(read.caller);
    } catch (error) {
      // Refused (429), or the count failed: 503, never free service.
      return errorResponse(
        error instanceof KeygateError ? error : new ServiceUnavailableError({ cause: error }),
      );
    }
    try {
      return withStanding(await inner(event, context), standing);
    } catch (error) {
      const failure = error instanceof Error ? { name: error.name, message: error.message } : {};
      console.error(
        JSON.stringify(
          {
            level: 'ERROR',
            message: 'team handler failed',
            requestId: event.requestContext?.requestId,
            error: failure,
          },
          redactingReplacer,
        ),
      );
      return errorResponse(new InternalError());
    }
  };
}

/**
 * The caller of a team's route, from `event.requestContext.authorizer` (what the wrapper has
 * already checked). Throws when the event did not come through Keygate's authorizer.
 *
 * @example
 * export const handler = async (event) => {
 *   const { accountId, scopes } = keygateCaller(event);
 *   return { statusCode: 200, body: JSON.stringify(await invoicesOf(accountId)) };
 * };
 */
export function keygateCaller(event: Pick<APIGatewayProxyEvent, 'requestContext'>): KeygateCaller {
  const context = (event.requestContext?.authorizer ?? {}) as Record<string, unknown>;
  const { accountId, keyId, type, scopes } = context;
  if (
    typeof accountId !== 'string' ||
    typeof keyId !== 'string' ||
    (type !== 'owner' && type !== 'general' && type !== 'billing') ||
    typeof scopes !== 'string'
  ) {
    throw new Error('no Keygate caller: the request did not come through Keygate’s authorizer');
  }
  return { accountId, keyId, type, scopes: scopes.split(' ').filter(Boolean).sort() };
}

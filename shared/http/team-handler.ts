import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { KeyType } from '../domain/scopes.js';
import { logger } from '../observability/logger.js';
import type { RouteDefinition } from '../routes.js';
import { callerContext, errorEnvelope, type RequestContext } from './middlewares.js';

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
 * authorizer's context and checked again, so an expired key, a roll's ended grace period, a
 * missing scope or a wrong key type is refused even when API Gateway answers from a cached allow
 * (SendGrid's envelope, as every Keygate error). Anything the handler throws becomes a 500 in the
 * envelope, logged without the request.
 *
 * @example
 * // What Keygate's bundle for a team route exports:
 * export const handler = wrapTeamHandler(teamHandler, route);
 */
export function wrapTeamHandler(
  inner: TeamHandler,
  route: Pick<RouteDefinition, 'access'>,
): TeamHandler {
  if (typeof inner !== 'function') {
    throw new Error('a team route module must export `handler`, an API Gateway proxy handler');
  }
  const checked = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>()
    .use(errorEnvelope({ logger }))
    .use(callerContext(route as RouteDefinition))
    .handler((event, context) => inner(event, context));
  // middy adds the caller to the context it is given; the team's handler sees a plain Context.
  return (event, context) => checked(event, context as RequestContext);
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

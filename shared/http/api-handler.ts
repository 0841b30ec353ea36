import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod';
import type { Caller } from '../domain/caller.js';
import type { Result } from '../domain/errors.js';
import type { Deps } from '../domain/ports.js';
import { logger } from '../observability/logger.js';
import type { RouteDefinition } from '../routes.js';
import { type AdapterProvider, defaultDeps, provideAdapters } from '../runtime/deps.js';
import {
  actingAs,
  callerContext,
  errorEnvelope,
  type FieldPathStyle,
  parseInput,
  type RequestContext,
} from './middlewares.js';
import { jsonResponse } from './responses.js';

export interface ApiRequest<TBody, TQuery> {
  caller: Caller;
  body: TBody;
  query: TQuery;
  pathParameters: Readonly<Record<string, string>>;
}

/** A successful answer whose status or headers depend on the outcome. */
export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface HandlerSpec<TBody extends z.ZodType | undefined, TQuery extends z.ZodType | undefined> {
  route: RouteDefinition;
  body?: TBody;
  query?: TQuery;
  /** Largest accepted body; defaults to `MAX_BODY_BYTES` (16 KB). */
  maxBodyBytes?: number;
  /** How validation errors name fields; defaults to `top` (see {@link FieldPathStyle}). */
  fieldPath?: FieldPathStyle;
  /** Status of a successful answer (200, 201, 204), or an {@link ApiAnswer} built from the value. */
  status: number | ((value: never) => ApiAnswer);
  /** Adapters beyond storage the operation needs ({@link AdapterProvider}); none by default. */
  uses?: readonly AdapterProvider[];
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * Builds a key-authenticated route handler: middlewares parse the caller and the input, the
 * operation makes one domain call, and its result becomes the response. Errors of any kind
 * leave as SendGrid's envelope.
 *
 * @example
 * export const handler = keyRouteHandler(
 *   { route: ROUTES.getApiKey, status: 200 },
 *   (req, deps) => getApiKey(deps, req.caller, req.pathParameters.api_key_id ?? ''),
 * );
 */
export function keyRouteHandler<
  TBody extends z.ZodType | undefined = undefined,
  TQuery extends z.ZodType | undefined = undefined,
>(
  spec: HandlerSpec<TBody, TQuery>,
  operation: (
    request: ApiRequest<Parsed<TBody>, Parsed<TQuery>>,
    deps: Deps,
  ) => Promise<Result<unknown>> | Result<unknown>,
) {
  provideAdapters(...(spec.uses ?? []));
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>()
    .use(errorEnvelope({ logger }))
    .use(callerContext(spec.route))
    .use(actingAs(() => defaultDeps()))
    .use(
      parseInput({
        body: spec.body,
        query: spec.query,
        maxBodyBytes: spec.maxBodyBytes,
        fieldPath: spec.fieldPath,
      }),
    )
    .handler(async function keyRouteOperation(event, context) {
      const result = await operation(
        {
          caller: context.caller,
          body: context.input.body as Parsed<TBody>,
          query: context.input.query as Parsed<TQuery>,
          pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
        },
        defaultDeps(),
      );
      if (!result.ok) throw result.error;
      if (typeof spec.status === 'number') return jsonResponse(spec.status, result.value);
      const answer = spec.status(result.value as never);
      const response = jsonResponse(answer.status, answer.body);
      return { ...response, headers: { ...response.headers, ...answer.headers } };
    });
  return withUses(handler, spec.uses);
}

/** The adapters a handler was given, readable by tests (they are tied to IAM permissions). */
function withUses<T extends object>(handler: T, uses: readonly AdapterProvider[] = []) {
  return Object.assign(handler, { uses });
}

/** A public route: no caller, no input, a fixed answer. */
export function publicRouteHandler(answer: () => { status: number; body: unknown }) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(errorEnvelope({ logger }))
    .handler(async function publicRouteOperation() {
      const { status, body } = answer();
      return jsonResponse(status, body);
    });
}

/**
 * A public route that does work (no caller): its body is parsed and validated like any other,
 * and the operation gets the request's source address.
 */
export function publicOperationHandler<TBody extends z.ZodType>(
  spec: { body: TBody; status: number; uses?: readonly AdapterProvider[] },
  operation: (
    request: { body: z.output<TBody>; sourceIp: string | null },
    deps: Deps,
  ) => Promise<Result<unknown>>,
) {
  provideAdapters(...(spec.uses ?? []));
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>()
    .use(errorEnvelope({ logger }))
    .use(parseInput({ body: spec.body }))
    .handler(async function publicOperation(event, context) {
      const result = await operation(
        {
          body: context.input.body as z.output<TBody>,
          sourceIp: event.requestContext?.identity?.sourceIp ?? null,
        },
        defaultDeps(),
      );
      if (!result.ok) throw result.error;
      return jsonResponse(spec.status, result.value);
    });
  return withUses(handler, spec.uses);
}

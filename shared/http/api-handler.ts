import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import type { Caller } from '../domain/caller.js';
import { BadRequestError, type Result } from '../domain/errors.js';
import type { Deps } from '../domain/ports.js';
import { addLambdaContext, logger } from '../observability/logger.js';
import { bufferedMetrics } from '../observability/metrics.js';
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

/** The `{name}` parameters of an API Gateway resource path, as a union of their names. */
export type PathParameterNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParameterNames<Rest>
  : never;

/** A route's path parameters, typed from its path: each one present, a non-empty string. */
export type PathParameters<P extends string> = Readonly<Record<PathParameterNames<P>, string>>;

export interface ApiRequest<TBody, TQuery, TPath extends string = string> {
  caller: Caller;
  body: TBody;
  query: TQuery;
  pathParameters: PathParameters<TPath>;
}

/** A successful answer whose status or headers depend on the outcome. */
export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface HandlerSpec<
  TRoute extends RouteDefinition,
  TBody extends z.ZodType | undefined,
  TQuery extends z.ZodType | undefined,
  TValue,
> {
  route: TRoute;
  body?: TBody;
  query?: TQuery;
  /** Largest accepted body; defaults to `MAX_BODY_BYTES` (16 KB). */
  maxBodyBytes?: number;
  /** How validation errors name fields; defaults to `top` (see {@link FieldPathStyle}). */
  fieldPath?: FieldPathStyle;
  /** Status of a successful answer (200, 201, 204), or an {@link ApiAnswer} built from the value. */
  status: number | ((value: TValue) => ApiAnswer);
  /** Adapters beyond storage the operation needs ({@link AdapterProvider}); none by default. */
  uses?: readonly AdapterProvider[];
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * Every route's first middlewares: the invocation's Lambda context on its log lines, its metrics
 * written when it ends (Powertools' `logMetrics`: after the response or the error, so what the
 * error envelope counts is in it), and SendGrid's envelope for any error.
 */
function routeBase<TContext extends Context = RequestContext>() {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, TContext>()
    .before((request) => addLambdaContext(request.context))
    .use(logMetrics(bufferedMetrics()))
    .use(errorEnvelope({ logger }));
}

/**
 * Builds a key-authenticated route handler: middlewares parse the caller and the input, the
 * operation makes one domain call, and its result becomes the response. Errors of any kind
 * leave as SendGrid's envelope.
 *
 * @example
 * export const handler = keyRouteHandler(
 *   { route: ROUTES.getApiKey, status: 200 },
 *   (req, deps) => getApiKey(deps, req.caller, req.pathParameters.api_key_id),
 * );
 */
export function keyRouteHandler<
  TRoute extends RouteDefinition,
  TValue,
  TBody extends z.ZodType | undefined = undefined,
  TQuery extends z.ZodType | undefined = undefined,
>(
  spec: HandlerSpec<TRoute, TBody, TQuery, TValue>,
  operation: (
    request: ApiRequest<Parsed<TBody>, Parsed<TQuery>, TRoute['path']>,
    deps: Deps,
  ) => Promise<Result<TValue>> | Result<TValue>,
) {
  provideAdapters(...(spec.uses ?? []));
  const handler = routeBase()
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
          pathParameters: pathParametersOf<TRoute['path']>(spec.route.path, event.pathParameters),
        },
        defaultDeps(),
      );
      if (!result.ok) throw result.error;
      if (typeof spec.status === 'number') return jsonResponse(spec.status, result.value);
      const answer = spec.status(result.value);
      const response = jsonResponse(answer.status, answer.body);
      return { ...response, headers: { ...response.headers, ...answer.headers } };
    });
  return withUses(handler, spec.uses);
}

/**
 * The route's path parameters from the event, each checked present. API Gateway routes a request
 * to a method only when its path has every parameter, so a missing one is a caller that bypassed
 * the gateway: 400, never an empty ID handed to the domain.
 */
export function pathParametersOf<P extends string>(
  path: P,
  given: Readonly<Record<string, string | undefined>> | null,
): PathParameters<P> {
  const parameters: Record<string, string> = {};
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    const value = given?.[name as string];
    if (typeof value !== 'string' || value === '') {
      throw new BadRequestError(`the path parameter ${name} is missing`, name);
    }
    parameters[name as string] = value;
  }
  return parameters as PathParameters<P>;
}

/** The adapters a handler was given, readable by tests (they are tied to IAM permissions). */
function withUses<T extends object>(handler: T, uses: readonly AdapterProvider[] = []) {
  return Object.assign(handler, { uses });
}

/** A public route: no caller, no input, a fixed answer. */
export function publicRouteHandler(answer: () => { status: number; body: unknown }) {
  return routeBase<Context>().handler(async function publicRouteOperation() {
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
  const handler = routeBase()
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

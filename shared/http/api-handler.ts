import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import type { Caller } from '../domain/caller.js';
import { BadRequestError, type Result } from '../domain/errors.js';
import type { Deps } from '../domain/ports.js';
import { addLambdaContext, logger } from '../observability/logger.js';
import { bufferedMetrics } from '../observability/metrics.js';
import type { AdapterName, RouteContract } from '../routes.js';
import { plansDeclared } from '../runtime/deployment.js';
import { type AdapterProvider, depsWith, type ProvidersOf } from '../runtime/deps.js';
import { planLimitDeps } from '../runtime/plan-limits.js';
import { SCHEMAS, type SchemaName } from '../schemas/index.js';
import {
  actingAs,
  callerContext,
  errorEnvelope,
  type FieldPathStyle,
  parseInput,
  type RequestContext,
} from './middlewares.js';
import { planLimits } from './plan-limits.js';
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

type Schemas = typeof SCHEMAS;

/** What the route's named schema parses to (`undefined` when the route names none). */
type Parsed<N> = N extends SchemaName ? z.output<Schemas[N]> : undefined;
type BodyOf<R> = R extends { request: { body: infer N } } ? Parsed<N> : undefined;
type QueryOf<R> = R extends { request: { query: infer N } } ? Parsed<N> : undefined;
type AdaptersOf<R> = R extends { adapters: readonly (infer A extends AdapterName)[] } ? A : never;

interface HandlerOptions<TValue, TRequest = unknown> {
  /** Largest accepted body; defaults to `MAX_BODY_BYTES` (16 KB). */
  maxBodyBytes?: number;
  /** How validation errors name fields; defaults to `top` (see {@link FieldPathStyle}). */
  fieldPath?: FieldPathStyle;
  /**
   * The body in the wire format: SendGrid's view of what the domain returned (some views follow
   * a request flag, as `include_region`).
   */
  view?: (value: TValue, request: TRequest) => unknown;
  /** The answer when its status or headers depend on the outcome; else the route's status. */
  answer?: (value: TValue) => ApiAnswer;
}

/**
 * A handler's options: exactly the adapter factories its route declares (required when it
 * declares any, so the compiler and {@link checkedAdapters} hold the handler to its route).
 */
type OptionsFor<R extends RouteContract, TValue, TRequest> = [AdaptersOf<R>] extends [never]
  ? [options?: HandlerOptions<TValue, TRequest> & { adapters?: undefined }]
  : [options: HandlerOptions<TValue, TRequest> & { adapters: ProvidersOf<AdaptersOf<R>> }];

type KeyRequestOf<R extends RouteContract> = ApiRequest<BodyOf<R>, QueryOf<R>, R['path']>;
type PublicRequestOf<R extends RouteContract> = { body: BodyOf<R>; sourceIp: string | null };

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
 * Builds a key-authenticated route handler from its route's contract: middlewares parse the
 * caller and the input with the schemas the route names, the operation makes one domain call,
 * and its result is answered with the route's status. Errors of any kind leave as SendGrid's
 * envelope. The function's wiring is built from what this handler is given, nothing else.
 *
 * @example
 * export const handler = keyRouteHandler(ROUTES.getApiKey, (req, deps) =>
 *   getApiKey(deps, req.caller, req.pathParameters.api_key_id),
 * );
 */
export function keyRouteHandler<R extends RouteContract, TValue>(
  route: R,
  operation: (request: KeyRequestOf<R>, deps: Deps) => Promise<Result<TValue>> | Result<TValue>,
  ...[options]: OptionsFor<R, TValue, KeyRequestOf<R>>
) {
  const deps = depsWith(checkedAdapters(route, options?.adapters));
  const handler = routeBase()
    .use(callerContext(route))
    .use(actingAs(deps))
    // After on-behalf-of: a parent acting for its subuser counts against the subuser's plan.
    .use(planLimits<RequestContext>(route, planLimitDeps, plansDeclared))
    .use(
      parseInput({
        body: schemaOf(route.request?.body),
        query: schemaOf(route.request?.query),
        maxBodyBytes: options?.maxBodyBytes,
        fieldPath: options?.fieldPath,
      }),
    )
    .handler(async function keyRouteOperation(event, context) {
      const request: KeyRequestOf<R> = {
        caller: context.caller,
        body: context.input.body as BodyOf<R>,
        query: context.input.query as QueryOf<R>,
        pathParameters: pathParametersOf<R['path']>(route.path, event.pathParameters),
      };
      const result = await operation(request, deps());
      if (!result.ok) throw result.error;
      return answered(route, result.value, request, options);
    });
  return Object.assign(handler, { route });
}

function schemaOf(name: SchemaName | undefined): z.ZodType | undefined {
  return name === undefined ? undefined : SCHEMAS[name];
}

function answered<TValue, TRequest>(
  route: RouteContract,
  value: TValue,
  request: TRequest,
  options: HandlerOptions<TValue, TRequest> | undefined,
): APIGatewayProxyResult {
  if (!options?.answer) {
    const body = options?.view ? options.view(value, request) : value;
    return jsonResponse(route.response.status, body);
  }
  const { status, body, headers } = options.answer(value);
  const response = jsonResponse(status, body);
  return { ...response, headers: { ...response.headers, ...headers } };
}

/**
 * The adapters given, checked against the route's declaration as the handler module loads: the
 * types already insist, and this catches what a cast or a spread slipped past (a function with
 * an adapter its role may not use, or without one its operation needs).
 */
function checkedAdapters(
  route: RouteContract,
  given: AdapterProvider | undefined,
): AdapterProvider {
  const declared = [...(route.adapters ?? [])].sort();
  const actual = Object.keys(given ?? {}).sort();
  if (declared.join() !== actual.join()) {
    throw new Error(
      `${route.method} ${route.path} declares adapters [${declared.join(', ')}] but was given [${actual.join(', ')}]`,
    );
  }
  return given ?? {};
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

/** A public route that answers without input or I/O (health, the OpenAPI document). */
export function publicRouteHandler<R extends RouteContract & { access: { kind: 'public' } }>(
  route: R,
  body: () => unknown,
) {
  const handler = routeBase<Context>().handler(async function publicRouteOperation() {
    return jsonResponse(route.response.status, body());
  });
  return Object.assign(handler, { route });
}

/**
 * A public route that does work (no caller): its body is parsed and validated like any other,
 * and the operation gets the request's source address.
 */
export function publicOperationHandler<
  R extends RouteContract & { access: { kind: 'public' } },
  TValue,
>(
  route: R,
  operation: (request: PublicRequestOf<R>, deps: Deps) => Promise<Result<TValue>>,
  ...[options]: OptionsFor<R, TValue, PublicRequestOf<R>>
) {
  const deps = depsWith(checkedAdapters(route, options?.adapters));
  const handler = routeBase()
    .use(
      parseInput({
        body: schemaOf(route.request?.body),
        maxBodyBytes: options?.maxBodyBytes,
        fieldPath: options?.fieldPath,
      }),
    )
    .handler(async function publicOperation(event, context) {
      const request: PublicRequestOf<R> = {
        body: context.input.body as BodyOf<R>,
        sourceIp: event.requestContext?.identity?.sourceIp ?? null,
      };
      const result = await operation(request, deps());
      if (!result.ok) throw result.error;
      return answered(route, result.value, request, options);
    });
  return Object.assign(handler, { route });
}

import * as z from 'zod';
import type { DeployedRoute } from './deployment/deployment.js';
import { activeDeployment } from './runtime/deployment.js';
import { ErrorEnvelope } from './schemas/api-keys.js';
import { SCHEMAS, type SchemaName } from './schemas/index.js';
import type { QueryParamMeta } from './schemas/query.js';

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Bad request',
  '401': 'Missing, unknown, expired or revoked key',
  '403': 'The key lacks a required scope, or the request would exceed its own access',
  '404': 'Not found (also for keys of other accounts)',
  '409': 'Changed concurrently; read again and retry',
  '413': 'Request body too large',
  '415': 'Content-Type is not JSON',
  '429': 'Too many requests',
  '503': 'Temporarily unavailable; retry after Retry-After seconds',
};

/** SendGrid's header for acting as a subuser, on the routes that take it. */
const ON_BEHALF_OF = {
  name: 'on-behalf-of',
  in: 'header',
  required: false,
  description:
    "A subuser's username: the request acts on that subuser's account, with this key's scopes. Only a parent account's key may send it.",
  schema: { type: 'string' },
};

let cached: Record<string, unknown> | undefined;

/**
 * A route's query parameters, from its query schema: the names, each field's description, and
 * the value it stands for (query values are text; see {@link QueryParamMeta}).
 */
function queryParameters(name: SchemaName | undefined): Record<string, unknown>[] {
  if (name === undefined) return [];
  const query = SCHEMAS[name];
  if (!(query instanceof z.ZodObject)) return [];
  return Object.entries(query.shape as Record<string, z.ZodType>).map(([param, field]) => {
    const meta = field.meta() as Partial<QueryParamMeta> | undefined;
    return {
      name: param,
      in: 'query',
      ...(meta?.description ? { description: meta.description } : {}),
      schema: meta?.param ?? schema(field, 'input'),
    };
  });
}

/**
 * What a route answers on success. A team's route documents its bodies as open (any JSON): they
 * are the team's; its errors are Keygate's (the wrapper's and the gateway's).
 */
function successResponse(route: DeployedRoute): Record<string, unknown> {
  const body = route.team ? z.unknown() : route.response.body && SCHEMAS[route.response.body];
  return {
    [String(route.response.status)]: body
      ? {
          description: 'Success',
          content: { 'application/json': { schema: schema(body, 'output') } },
        }
      : { description: 'Success' },
  };
}

/**
 * The OpenAPI 3.1 document, generated from the routes the deployment serves (Keygate's, the
 * preset's, a team's) and the same zod schemas that validate requests, so it cannot describe an
 * API other than the one that runs.
 */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of activeDeployment().routes) {
    const requestBody = route.request?.body && SCHEMAS[route.request.body];
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...queryParameters(route.request?.query),
      ...(route.access.kind === 'key' && route.access.onBehalfOf === true ? [ON_BEHALF_OF] : []),
    ];
    const responses = successResponse(route);
    if (route.access.kind === 'key') {
      for (const [status, description] of Object.entries(ERROR_STATUSES)) {
        responses[status] = {
          description,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } },
          },
        };
      }
    }
    paths[route.path] ??= {};
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: {
        operationId: route.id,
        summary: route.summary,
        ...(route.access.kind === 'public'
          ? { security: [] }
          : { 'x-keygate-scopes': route.access.scopes }),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(requestBody
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: schema(requestBody, 'input') } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  schema(ErrorEnvelope, 'output');
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Keygate',
      version: '1',
      description:
        "SendGrid v3 API-keys contract, self-hosted. Fields marked as Keygate additions are additive to SendGrid's.",
    },
    security: [{ BearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: components,
    },
  };
  return cached;
}

const components: Record<string, unknown> = {};

/**
 * JSON Schema of a zod schema, with named schemas (`.meta({ id })`) moved to
 * `components.schemas`: zod emits them under a local `$defs`, which a `$ref` in an OpenAPI
 * document cannot address.
 */
function schema(type: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(type, { io, unrepresentable: 'any' });
  const {
    $schema: _schema,
    $defs,
    ...rest
  } = JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<
    string,
    unknown
  > & { $defs?: Record<string, unknown> };
  Object.assign(components, $defs);
  return rest;
}

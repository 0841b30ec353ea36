import * as z from 'zod';
import type { RouteId } from './routes.js';
import { activeDeployment } from './runtime/deployment.js';
import {
  ApiKeyList,
  ApiKeyView,
  AuditEventList,
  CreateApiKeyBody,
  CreatedApiKey,
  ErrorEnvelope,
  EVENTS_LIMIT_MAX,
  LIST_LIMIT_MAX,
  RenameApiKeyBody,
  RenamedApiKey,
  ReplaceApiKeyBody,
  RevokeByValueAnswer,
  RevokeLeakedKeysAnswer,
  RevokeLeakedKeysBody,
  RollApiKeyBody,
  RolledApiKey,
  ScopeAreaList,
  ScopeList,
} from './schemas/api-keys.js';
import { BillingProfile, UpdateBillingProfileBody } from './schemas/billing.js';
import { Health } from './schemas/health.js';
import { SendMailBody } from './schemas/mail.js';
import {
  CreatedSubuser,
  CreateSubuserBody,
  SUBUSERS_LIST_MAX,
  SubuserList,
  UpdateSubuserBody,
} from './schemas/subusers.js';

interface Operation {
  request?: z.ZodType;
  status: number;
  response?: z.ZodType;
  query?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

const OPERATIONS: Record<RouteId, Operation> = {
  createApiKey: { request: CreateApiKeyBody, status: 201, response: CreatedApiKey },
  listApiKeys: {
    status: 200,
    response: ApiKeyList,
    query: {
      limit: {
        description: 'Return at most this many keys (oldest first).',
        schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX },
      },
    },
  },
  getApiKey: { status: 200, response: ApiKeyView },
  renameApiKey: { request: RenameApiKeyBody, status: 200, response: RenamedApiKey },
  replaceApiKey: { request: ReplaceApiKeyBody, status: 200, response: ApiKeyView },
  deleteApiKey: { status: 204 },
  listApiKeyEvents: {
    status: 200,
    response: AuditEventList,
    query: {
      limit: {
        description: 'At most this many events (default 50).',
        schema: { type: 'integer', minimum: 1, maximum: EVENTS_LIMIT_MAX },
      },
      cursor: { description: 'next_cursor of the previous page.', schema: { type: 'string' } },
      api_key_id: { description: 'Only the events about this key.', schema: { type: 'string' } },
    },
  },
  rollApiKey: { request: RollApiKeyBody, status: 200, response: RolledApiKey },
  revokeApiKeysByValue: {
    request: RevokeLeakedKeysBody,
    status: 200,
    response: RevokeByValueAnswer,
  },
  revokeLeakedApiKeys: {
    request: RevokeLeakedKeysBody,
    status: 202,
    response: RevokeLeakedKeysAnswer,
  },
  listScopes: { status: 200, response: ScopeList },
  listScopeAreas: { status: 200, response: ScopeAreaList },
  listSubusers: {
    status: 200,
    response: SubuserList,
    query: {
      username: {
        description: 'Only subusers whose username starts with this (any case).',
        schema: { type: 'string' },
      },
      limit: {
        description: 'At most this many subusers (default 100).',
        schema: { type: 'integer', minimum: 1, maximum: SUBUSERS_LIST_MAX },
      },
      offset: {
        description: 'Skip this many subusers first.',
        schema: { type: 'integer', minimum: 0 },
      },
    },
  },
  // SendGrid answers a created subuser with 200, not 201 (its contract).
  createSubuser: { request: CreateSubuserBody, status: 200, response: CreatedSubuser },
  updateSubuser: { request: UpdateSubuserBody, status: 204 },
  deleteSubuser: { status: 204 },
  sendMail: { request: SendMailBody, status: 202 },
  getBillingProfile: { status: 200, response: BillingProfile },
  updateBillingProfile: {
    request: UpdateBillingProfileBody,
    status: 200,
    response: BillingProfile,
  },
  getHealth: { status: 200, response: Health },
  getOpenApi: { status: 200 },
};

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
 * What a team's route documents: its scopes and parameters; its bodies are the team's, so they
 * are open (any JSON), and its errors are Keygate's (the wrapper's and the gateway's).
 */
const TEAM_OPERATION: Operation = { status: 200, response: z.unknown() };

/**
 * The OpenAPI 3.1 document, generated from the routes the deployment serves (Keygate's, the
 * preset's, a team's) and the same zod schemas that validate requests, so it cannot describe an
 * API other than the one that runs.
 */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of activeDeployment().routes) {
    const op = route.team ? TEAM_OPERATION : OPERATIONS[route.id as RouteId];
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(op.query ?? {}).map(([name, q]) => ({ name, in: 'query', ...q })),
      ...(route.access.kind === 'key' && route.access.onBehalfOf === true ? [ON_BEHALF_OF] : []),
    ];
    const responses: Record<string, unknown> = {
      [String(op.status)]: op.response
        ? {
            description: 'Success',
            content: { 'application/json': { schema: schema(op.response, 'output') } },
          }
        : { description: 'Success' },
    };
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
        ...(op.request
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: schema(op.request, 'input') } },
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

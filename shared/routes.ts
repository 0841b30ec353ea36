/**
 * The route table: the single source of truth for Keygate's HTTP surface. CDK builds API Gateway
 * methods from it, the authorizer builds policies from it, the local runtime serves it, the
 * OpenAPI document describes it and the security tests iterate it.
 *
 * A route must declare its access: `public` explicitly, or the scopes a key needs (an empty list
 * means "any valid key"). The type has no default, so a route without a declaration does not
 * compile.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type RouteAccess =
  | { kind: 'public' }
  | {
      kind: 'key';
      /** Every one of these scopes is required. Empty: any valid key. */
      scopes: readonly string[];
    };

export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway resource path, `{param}` for path parameters. */
  path: string;
  /** Entry file under `functions/`, without extension. */
  handler: string;
  access: RouteAccess;
  summary: string;
}

const requires = (...scopes: string[]): RouteAccess => ({ kind: 'key', scopes });
const PUBLIC: RouteAccess = { kind: 'public' };

export const ROUTES = {
  createApiKey: {
    method: 'POST',
    path: '/v3/api_keys',
    handler: 'api-keys/create',
    access: requires('api_keys.create'),
    summary: 'Create an API key; the key is returned once',
  },
  listApiKeys: {
    method: 'GET',
    path: '/v3/api_keys',
    handler: 'api-keys/list',
    access: requires('api_keys.read'),
    summary: "List the account's API keys",
  },
  getApiKey: {
    method: 'GET',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/get',
    access: requires('api_keys.read'),
    summary: 'Retrieve an API key',
  },
  renameApiKey: {
    method: 'PATCH',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/rename',
    access: requires('api_keys.update'),
    summary: "Update an API key's name",
  },
  replaceApiKey: {
    method: 'PUT',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/replace',
    access: requires('api_keys.update'),
    summary: "Replace an API key's name and scopes",
  },
  deleteApiKey: {
    method: 'DELETE',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/delete',
    access: requires('api_keys.delete'),
    summary: 'Delete (revoke) an API key',
  },
  listScopes: {
    method: 'GET',
    path: '/v3/scopes',
    handler: 'scopes/list',
    access: requires(),
    summary: 'List the scopes of the calling key',
  },
  getOpenApi: {
    method: 'GET',
    path: '/openapi.json',
    handler: 'openapi/get',
    access: PUBLIC,
    summary: 'The OpenAPI 3.1 document of this API',
  },
} as const satisfies Record<string, RouteDefinition>;

export type RouteId = keyof typeof ROUTES;

export const ROUTE_LIST: readonly (RouteDefinition & { id: RouteId })[] = Object.entries(
  ROUTES,
).map(([id, route]) => ({ id: id as RouteId, ...route }));

import type { KeyType } from '../domain/scopes.js';
import { routeArn } from '../gateway/api-gateway.js';
import type { PolicyRoute } from '../gateway/policy.js';
import type { HttpMethod } from '../routes.js';

/**
 * Routes a deployment adds to the API beside the route table (the CDK construct's `addRoute`),
 * handed to the authorizer so its policies cover them. CDK writes them into this environment
 * variable of the authorizer function; the authorizer parses them once per container.
 */
export const EXTRA_ROUTES_ENV = 'KEYGATE_EXTRA_ROUTES';

/** One extra route as it travels in {@link EXTRA_ROUTES_ENV}. */
export interface ExtraRoute {
  method: HttpMethod;
  /** API Gateway resource path, `{param}` for path parameters. */
  path: string;
  /** Every one of these scopes is required. */
  scopes: readonly string[];
  /** Key types that may call the route at all. */
  keyTypes: readonly KeyType[];
}

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const KEY_TYPES: readonly KeyType[] = ['owner', 'general', 'billing'];

/** `/segment/{param}/…`: what API Gateway accepts as a resource path (no greedy `{x+}`). */
export const EXTRA_ROUTE_PATH = /^(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\}))+$/;

/** The environment value for a list of extra routes (what {@link parseExtraRoutes} reads). */
export function serializeExtraRoutes(routes: readonly ExtraRoute[]): string {
  return JSON.stringify(
    routes.map(({ method, path, scopes, keyTypes }) => ({ method, path, scopes, keyTypes })),
  );
}

/**
 * Parses {@link EXTRA_ROUTES_ENV} into policy routes. Unset or empty: none. Anything malformed
 * throws, so a broken deployment fails the authorizer's cold start (closed, a 5xx) instead of
 * silently dropping a route from every policy.
 *
 * Hand-written rather than zod: the authorizer is the hot path and carries no schema library.
 */
export function parseExtraRoutes(value: string | undefined): PolicyRoute[] {
  if (value === undefined || value.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new Error(`${EXTRA_ROUTES_ENV} is not JSON`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new Error(`${EXTRA_ROUTES_ENV} must be a JSON array`);
  const seen = new Set<string>();
  return parsed.map((entry: unknown, i) => {
    const route = extraRoute(entry, `${EXTRA_ROUTES_ENV}[${i}]`);
    const id = routeArn('', route.method, route.path);
    if (seen.has(id)) throw new Error(`${EXTRA_ROUTES_ENV}[${i}]: ${id} is listed twice`);
    seen.add(id);
    return {
      method: route.method,
      path: route.path,
      access: { kind: 'key', scopes: route.scopes, keyTypes: route.keyTypes },
    };
  });
}

function extraRoute(entry: unknown, at: string): ExtraRoute {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new Error(`${at} must be an object`);
  }
  const { method, path, scopes, keyTypes } = entry as Record<string, unknown>;
  if (typeof method !== 'string' || !METHODS.includes(method as HttpMethod)) {
    throw new Error(`${at}.method must be one of ${METHODS.join(', ')}`);
  }
  if (typeof path !== 'string' || !EXTRA_ROUTE_PATH.test(path)) {
    throw new Error(`${at}.path must be a resource path like /v3/reports/{id}`);
  }
  if (!isStringArray(scopes)) throw new Error(`${at}.scopes must be an array of strings`);
  if (
    !isStringArray(keyTypes) ||
    keyTypes.length === 0 ||
    !keyTypes.every((t) => KEY_TYPES.includes(t as KeyType))
  ) {
    throw new Error(`${at}.keyTypes must be a non-empty array of ${KEY_TYPES.join(', ')}`);
  }
  return { method: method as HttpMethod, path, scopes, keyTypes: keyTypes as KeyType[] };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

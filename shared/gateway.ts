/**
 * What API Gateway does around Keygate's handlers, described once: the authorizer's identity
 * sources and cache TTL, the method ARN format and its wildcard matching, and the gateway
 * responses in SendGrid's envelope. CDK configures the real gateway from these, and the local
 * emulator behaves by them.
 */

import { remember } from './domain/memo.js';

/**
 * Identity sources of the REQUEST authorizer, in API Gateway's syntax; together they form the
 * cache key. The source address is one so that a cached result (an allow, or a key's IP-allowlist
 * deny) never crosses addresses.
 */
export const IDENTITY_SOURCES = [
  'method.request.header.Authorization',
  'context.identity.sourceIp',
] as const;

/** Default authorizer result cache TTL (API Gateway's default; at most 3600). */
export const DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS = 300;

/** The gateway responses Keygate customises, with SendGrid's messages. */
export const GATEWAY_RESPONSES = {
  UNAUTHORIZED: { status: 401, message: 'authorization required' },
  ACCESS_DENIED: { status: 403, message: 'access forbidden' },
  /** API Gateway answers unknown routes with 403 "Missing Authentication Token"; we say 404. */
  MISSING_AUTHENTICATION_TOKEN: { status: 404, message: 'not found' },
  THROTTLED: { status: 429, message: 'too many requests' },
  REQUEST_TOO_LARGE: { status: 413, message: 'content too large' },
  /** The authorizer failed (storage down): fail closed, retryable, never a 401. */
  AUTHORIZER_FAILURE: {
    status: 503,
    message: 'service temporarily unavailable, retry later',
    headers: { 'retry-after': '1' },
  },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: 'internal server error' },
  DEFAULT_4XX: { status: 400, message: 'bad request' },
  DEFAULT_5XX: { status: 502, message: 'internal server error' },
} as const satisfies Record<
  string,
  { status: number; message: string; headers?: Readonly<Record<string, string>> }
>;

export type GatewayResponseType = keyof typeof GATEWAY_RESPONSES;

/** The body of a gateway response: SendGrid's envelope. */
export function gatewayResponseBody(type: GatewayResponseType): string {
  return JSON.stringify({ errors: [{ field: null, message: GATEWAY_RESPONSES[type].message }] });
}

/** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}` of a method ARN. */
export function stageArn(methodArn: string): string {
  const [api, stage] = methodArn.split('/', 2);
  return `${api}/${stage}`;
}

/**
 * The method ARN resource of a route: path parameters become `*`, as in IAM policies for
 * execute-api (`{stage}/{METHOD}/{path}`).
 */
export function routeArn(stage: string, method: string, path: string): string {
  return `${stage}/${method}${path.replace(/\{[^}]+\}/g, '*')}`;
}

/**
 * IAM's matching for execute-api resources: `*` matches any run of characters (slashes
 * included) and `?` any single character; everything else is literal.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    // A policy names each route once; the bound only guards against unbounded distinct patterns.
    compiled = remember(compiledPatterns, pattern, new RegExp(`^${source}$`), 4096);
  }
  return compiled.test(arn);
}

const compiledPatterns = new Map<string, RegExp>();

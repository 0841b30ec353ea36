/**
 * What API Gateway does around Keygate's handlers, described once: the authorizer's identity
 * sources and cache TTL, the method ARN format and its wildcard matching, and the gateway
 * responses in SendGrid's envelope. CDK configures the real gateway from these, and the local
 * emulator behaves by them.
 */

import { remember } from '../domain/memo.js';

/**
 * Identity sources of the REQUEST authorizer, in API Gateway's syntax; together they form the
 * cache key (for a REQUEST authorizer, "all identity sources combined"; an AWS support answer:
 * identity sources can build "a cache key based on the resource path as well as the value of the
 * x-api-key header", https://repost.aws/questions/QUKo2vV7wKS7S4Ft2TViy30Q).
 *
 * - The source address, so that a cached result (an allow, or a key's IP-allowlist deny) never
 *   crosses addresses.
 * - The method and the resource path (the route's template, `/v3/api_keys/{api_key_id}`), so a
 *   cached result is reused only for the route it was computed for. The policy can then be exact
 *   for every route table: an IAM `*` matches across `/` (`GET/v3/api_keys/*` also matches
 *   `GET/v3/api_keys/abc/usage`), so no policy listing "every route the key may call" can be
 *   exact for every table (a table with `/a/{x}`, `/a/{x}/c` and `/a/{x}/{y}/c` needs an allow
 *   that matches all of `/a/*` but not `/a/p/c`, which IAM wildcards cannot say). AWS's own
 *   guidance: a cached policy must be "applicable to all methods", or method-specific with the
 *   cache keyed per method (`configure-api-gateway-lambda-authorization-with-console`). The cost
 *   is one authorizer call per key, address and route per TTL instead of per key and address.
 */
export const IDENTITY_SOURCES = [
  'method.request.header.Authorization',
  'context.identity.sourceIp',
  'context.httpMethod',
  'context.resourcePath',
] as const;

/** Default authorizer result cache TTL (API Gateway's default; at most 3600). */
export const DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS = 300;

const UNAVAILABLE = {
  status: 503,
  message: 'service temporarily unavailable, retry later',
  headers: { 'retry-after': '1' },
} as const;

/**
 * The gateway responses Keygate customises, with SendGrid's messages. A response with a `status`
 * sets it; the two defaults set none on purpose. AWS: "Changing the status code of this fallback
 * gateway response changes the status codes of all other 4XX responses to the new value.
 * Resetting this status code to null reverts [them] to their original values" (and the same for
 * 5XX; https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 * A status there would turn a 415 into a 400, a 504 into a 502, a usage-plan 429 into a 400. The
 * defaults keep API Gateway's status and its message, in SendGrid's envelope.
 */
export const GATEWAY_RESPONSES = {
  UNAUTHORIZED: { status: 401, message: 'authorization required' },
  ACCESS_DENIED: { status: 403, message: 'access forbidden' },
  /** API Gateway answers unknown routes with 403 "Missing Authentication Token"; we say 404. */
  MISSING_AUTHENTICATION_TOKEN: { status: 404, message: 'not found' },
  THROTTLED: { status: 429, message: 'too many requests' },
  REQUEST_TOO_LARGE: { status: 413, message: 'content too large' },
  /** The authorizer could not be invoked or timed out: fail closed, retryable, never a 401. */
  AUTHORIZER_FAILURE: UNAVAILABLE,
  /**
   * The authorizer threw anything but `Unauthorized` (a storage outage: it fails closed by
   * throwing) or returned a malformed result. API Gateway then answers 500
   * `AuthorizerConfigurationException` with this response type, not `AUTHORIZER_FAILURE`, as its
   * users report: any failure message but `Unauthorized` "results in a 500 response"
   * (auth0-samples/jwt-rsa-aws-custom-authorizer#6; jghaines/lambda-auth0-authorizer#4), with
   * `x-amzn-errortype: AuthorizerConfigurationException` (serverless/examples#305). The outage
   * must still read as a retryable 503.
   */
  AUTHORIZER_CONFIGURATION_ERROR: UNAVAILABLE,
  DEFAULT_4XX: { message: 'bad request' },
  DEFAULT_5XX: { message: 'internal server error' },
} as const satisfies Record<string, GatewayResponseSpec>;

/** One gateway response: its status (none: API Gateway's own), message and extra headers. */
export interface GatewayResponseSpec {
  status?: number;
  message: string;
  headers?: Readonly<Record<string, string>>;
}

export type GatewayResponseType = keyof typeof GATEWAY_RESPONSES;

/** The response types that keep API Gateway's own status and message. */
export const PASS_THROUGH_RESPONSES: ReadonlySet<GatewayResponseType> = new Set([
  'DEFAULT_4XX',
  'DEFAULT_5XX',
]);

/**
 * The body of a gateway response: SendGrid's envelope. For the defaults, CDK's template carries
 * API Gateway's message (`$context.error.messageString`, already a quoted JSON string); `message`
 * is what the emulator substitutes for it.
 */
export function gatewayResponseBody(type: GatewayResponseType, message?: string): string {
  return JSON.stringify({
    errors: [{ field: null, message: message ?? GATEWAY_RESPONSES[type].message }],
  });
}

/** The deployed template of a gateway response (API Gateway fills in `$context` variables). */
export function gatewayResponseTemplate(type: GatewayResponseType): string {
  return PASS_THROUGH_RESPONSES.has(type)
    ? '{"errors":[{"field":null,"message":$context.error.messageString}]}'
    : gatewayResponseBody(type);
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
      // Any character, line terminators included (`.` would stop at U+2028 in a decoded path).
      .map((c) =>
        c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'),
      )
      .join('');
    // A policy names each route once; the bound only guards against unbounded distinct patterns.
    compiled = remember(compiledPatterns, pattern, new RegExp(`^${source}$`), 4096);
  }
  return compiled.test(arn);
}

const compiledPatterns = new Map<string, RegExp>();

import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { onLocalAuthorizerCacheFlush } from '../shared/adapters/local/authorizer-cache.js';
import { remember } from '../shared/domain/memo.js';
import {
  arnMatches,
  DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS,
  GATEWAY_RESPONSES,
  type GatewayResponseSpec,
  type GatewayResponseType,
  gatewayResponseBody,
  IDENTITY_SOURCES,
} from '../shared/gateway/api-gateway.js';
import { wrapTeamHandler } from '../shared/http/team-handler.js';
import { countMetric, METRIC_NAMES } from '../shared/observability/metrics.js';
import type { RouteDefinition, RouteId } from '../shared/routes.js';
import { activeDeployment, plansDeclared, teamHandlersDir } from '../shared/runtime/deployment.js';
import { teamPlanCheck } from '../shared/runtime/plan-limits.js';

/**
 * An in-process API Gateway REST API, built on the route table. It does what the real gateway
 * does around Keygate's Lambdas: routes the request, throttles, calls the REQUEST authorizer with
 * the event API Gateway builds, caches its result by identity source for the TTL (and flushes on
 * request), evaluates the returned IAM policy with IAM's wildcards, injects the authorizer
 * context, builds the proxy event, maps the handler's result and renders gateway responses in
 * SendGrid's envelope. Tests use it in-process; the local runtime serves it over HTTP.
 */

/**
 * A route the emulator serves: the route table's, or one a deployment adds (`id` then names it,
 * e.g. `GET /v1/reports`). `uncachedAuthorizer`: the method uses the authorizer with caching off
 * (the construct does that for routes whose handler Keygate cannot wrap).
 */
export type EmulatorRoute = RouteDefinition & {
  id: RouteId | (string & {});
  uncachedAuthorizer?: boolean;
  /** A team's route (its handler is relative to the config's directory). */
  team?: true;
};
type Route = EmulatorRoute;
type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;
type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
) => Promise<APIGatewayAuthorizerResult>;

export interface EmulatorRequest {
  method: string;
  /** Path without the query string, e.g. `/v3/api_keys/abc`. */
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  sourceIp?: string;
}

export interface EmulatorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** For request logs: the route matched and the key ID the authorizer vouched for. */
  routeId?: Route['id'];
  keyId?: string;
}

export interface EmulatorOptions {
  routes?: readonly Route[];
  loadHandler?: (route: Route) => Promise<ProxyHandler>;
  authorizer?: AuthorizerHandler;
  /** 0 disables caching (and makes identity sources optional), as on API Gateway. */
  cacheTtlSeconds?: number;
  /** Milliseconds since the epoch; injectable so TTL behaviour is testable without waiting. */
  now?: () => number;
  /** Stage throttling: steady requests per second and bucket size. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** API Gateway's payload limit is 10 MB. */
  maxBodyBytes?: number;
  stage?: string;
}

type AuthorizerEventBase = Omit<APIGatewayRequestAuthorizerEvent, 'type' | 'methodArn'>;

interface CachedResult {
  expiresAt: number;
  result: APIGatewayAuthorizerResult;
}

const REGION = 'local';
const ACCOUNT = '000000000000';
const API_ID = 'keygate';

/**
 * Loads a route's handler (tsx and vitest load TypeScript directly): Keygate's own from
 * `functions/<handler>.ts`; a team's from its module, relative to the config's directory,
 * wrapped as its Lambda bundle wraps it (`wrapTeamHandler`).
 */
export async function loadRouteHandler(
  route: RouteDefinition & { team?: true },
): Promise<ProxyHandler> {
  if (route.team) {
    const dir = teamHandlersDir();
    if (dir === undefined) throw new Error(`no config directory for ${route.method} ${route.path}`);
    const url = pathToFileURL(resolve(dir, route.handler)).href;
    const module = (await import(/* @vite-ignore */ url)) as { handler: ProxyHandler };
    return wrapTeamHandler(
      module.handler,
      route,
      plansDeclared() ? teamPlanCheck(route) : undefined,
    );
  }
  const url = new URL(`../functions/${route.handler}.ts`, import.meta.url).href;
  const module = (await import(/* @vite-ignore */ url)) as { handler: ProxyHandler };
  return module.handler;
}

async function loadAuthorizer(): Promise<AuthorizerHandler> {
  const url = new URL('../functions/authorizer/handler.ts', import.meta.url).href;
  const module = (await import(/* @vite-ignore */ url)) as { handler: AuthorizerHandler };
  return module.handler;
}

export class ApiGatewayEmulator {
  private readonly routes: readonly Route[];
  private readonly cache = new Map<string, CachedResult>();
  private readonly handlers = new Map<Route['id'], Promise<ProxyHandler>>();
  private authorizer: Promise<AuthorizerHandler> | undefined;
  private readonly unregister: () => void;
  private readonly stageBucket: TokenBucket | undefined;
  /** Counters for tests and the local runtime's logs. */
  readonly stats = { authorizerInvocations: 0, cacheHits: 0, cacheFlushes: 0 };

  constructor(private readonly options: EmulatorOptions = {}) {
    this.routes = options.routes ?? activeDeployment().routes;
    this.unregister = onLocalAuthorizerCacheFlush(() => this.flushAuthorizerCache());
    this.stageBucket = options.throttle
      ? new TokenBucket(options.throttle.rateLimit, options.throttle.burstLimit, this.now())
      : undefined;
  }

  /** Drops every cached authorizer result (`FlushStageAuthorizersCache`). */
  flushAuthorizerCache(): void {
    this.cache.clear();
    this.stats.cacheFlushes += 1;
  }

  /** Stops receiving flushes from handlers in this process. */
  close(): void {
    this.unregister();
  }

  async handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    if (this.stageBucket && !this.stageBucket.take(this.now())) return gatewayResponse('THROTTLED');
    const body = request.body ?? '';
    if (Buffer.byteLength(body) > (this.options.maxBodyBytes ?? 10 * 1024 * 1024)) {
      return gatewayResponse('REQUEST_TOO_LARGE');
    }
    const path = normalisePath(request.path);
    const match = path === undefined ? undefined : this.match(request.method, path);
    if (!match || path === undefined) return gatewayResponse('MISSING_AUTHENTICATION_TOKEN');
    const { route, pathParameters } = match;
    // The deployment's WAF rule: a limit per source address, before the gateway throttles. Counted
    // here as on AWS WAF counts it (its BlockedRequests): no function sees a refused request.
    if (route.sourceLimit && !this.sourceWindow(route).admit(request.sourceIp ?? '127.0.0.1')) {
      countMetric(METRIC_NAMES.sourceLimited, { Route: route.id });
      return { ...sourceLimitResponse(route.sourceLimit.windowSeconds), routeId: route.id };
    }
    if (route.throttle && !this.routeBucket(route).take(this.now())) {
      return { ...gatewayResponse('THROTTLED'), routeId: route.id };
    }
    const headers = singleValues(request.headers ?? {});
    const multiValueHeaders = multiValues(request.headers ?? {});
    const query = request.query ?? {};
    const requestContext = this.requestContext(route, request);
    const base = {
      resource: route.path,
      // As REST APIs pass it: the path as the client sent it, still percent-encoded.
      path: request.path,
      httpMethod: route.method,
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query).length > 0 ? singleValues(query) : null,
      multiValueQueryStringParameters: Object.keys(query).length > 0 ? multiValues(query) : null,
      pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
      stageVariables: null,
    };

    let authorizerContext: Record<string, string> | undefined;
    if (route.access.kind === 'key') {
      const decision = await this.authorize(
        route,
        () => ({ ...base, requestContext }) as unknown as AuthorizerEventBase,
        request,
        path,
      );
      if ('response' in decision) return { ...decision.response, routeId: route.id };
      authorizerContext = decision.context;
    }

    const event = {
      ...base,
      body: request.body === undefined || request.body === '' ? null : request.body,
      isBase64Encoded: false,
      requestContext: { ...requestContext, authorizer: authorizerContext ?? null },
    } as unknown as APIGatewayProxyEvent;
    const response = await this.invoke(route, event);
    return {
      ...response,
      routeId: route.id,
      ...(authorizerContext ? { keyId: authorizerContext.keyId } : {}),
    };
  }

  private readonly routeBuckets = new Map<Route['id'], TokenBucket>();
  private readonly sourceWindows = new Map<Route['id'], SourceWindow>();

  private sourceWindow(route: Route): SourceWindow {
    let window = this.sourceWindows.get(route.id);
    if (!window) {
      const limit = route.sourceLimit ?? { requests: 0, windowSeconds: 1 };
      window = new SourceWindow(limit.requests, limit.windowSeconds * 1000, () => this.now());
      this.sourceWindows.set(route.id, window);
    }
    return window;
  }

  private routeBucket(route: Route): TokenBucket {
    let bucket = this.routeBuckets.get(route.id);
    if (!bucket) {
      bucket = new TokenBucket(
        route.throttle?.rateLimit ?? 0,
        route.throttle?.burstLimit ?? 0,
        this.now(),
      );
      this.routeBuckets.set(route.id, bucket);
    }
    return bucket;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /**
   * API Gateway's routing: the most specific matching resource wins, a literal segment beating
   * a `{param}` at the first place they differ (`/v3/api_keys/events` before
   * `/v3/api_keys/{api_key_id}`); then the method must exist on that resource, or the answer is
   * the one for an unknown path. `path` is normalised ({@link normalisePath}). Methods are
   * case-sensitive, as in HTTP: `get` is no method of any resource.
   */
  private match(method: string, path: string) {
    const segments = path.split('/');
    let best:
      | { resource: string; rank: string; pathParameters: Record<string, string> }
      | undefined;
    for (const route of this.routes) {
      const template = route.path.split('/');
      if (template.length !== segments.length) continue;
      const pathParameters: Record<string, string> = {};
      let rank = '';
      const same = template.every((part, i) => {
        const actual = segments[i] ?? '';
        const param = /^\{(\w+)\}$/.exec(part)?.[1];
        if (param) {
          if (actual === '') return false;
          pathParameters[param] = actual;
          rank += '0';
          return true;
        }
        rank += '1';
        return part === actual;
      });
      if (same && (!best || rank > best.rank))
        best = { resource: route.path, rank, pathParameters };
    }
    if (!best) return undefined;
    const resource = best.resource;
    const route = this.routes.find((r) => r.path === resource && r.method === method);
    return route ? { route, pathParameters: best.pathParameters } : undefined;
  }

  private requestContext(route: Route, request: EmulatorRequest) {
    const stage = this.options.stage ?? 'local';
    return {
      accountId: ACCOUNT,
      apiId: API_ID,
      stage,
      requestId: randomUUID(),
      requestTimeEpoch: this.now(),
      httpMethod: route.method,
      resourcePath: route.path,
      path: `/${stage}${request.path}`,
      protocol: 'HTTP/1.1',
      identity: {
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: singleValues(request.headers ?? {})['User-Agent'] ?? null,
      },
    };
  }

  private methodArn(route: Route, path: string): string {
    const stage = this.options.stage ?? 'local';
    return `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${stage}/${route.method}${path}`;
  }

  /** Identity source values, or undefined when one is missing (API Gateway: 401, no call). */
  private identity(route: Route, request: EmulatorRequest): string | undefined {
    const values: string[] = [];
    for (const { header, source } of IDENTITY_LOOKUPS) {
      const value = header
        ? headerValue(request.headers ?? {}, header)
        : source === 'context.identity.sourceIp'
          ? (request.sourceIp ?? '127.0.0.1')
          : source === 'context.httpMethod'
            ? route.method
            : source === 'context.resourcePath'
              ? route.path
              : undefined;
      if (!value) return undefined;
      values.push(value);
    }
    return values.join('\u0000');
  }

  private async authorize(
    route: Route,
    /** The authorizer's event, assembled only when the authorizer runs (not on a cache hit). */
    authorizerEvent: () => AuthorizerEventBase,
    request: EmulatorRequest,
    path: string,
  ): Promise<{ context: Record<string, string> } | { response: EmulatorResponse }> {
    const ttl = route.uncachedAuthorizer
      ? 0
      : (this.options.cacheTtlSeconds ?? DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS) * 1000;
    const identity = this.identity(route, request);
    if (identity === undefined && ttl > 0) return { response: gatewayResponse('UNAUTHORIZED') };
    const methodArn = this.methodArn(route, path);

    let result: APIGatewayAuthorizerResult;
    const cached = identity === undefined ? undefined : this.cache.get(identity);
    if (cached && cached.expiresAt > this.now()) {
      this.stats.cacheHits += 1;
      result = cached.result;
    } else {
      this.stats.authorizerInvocations += 1;
      this.authorizer ??= this.options.authorizer
        ? Promise.resolve(this.options.authorizer)
        : loadAuthorizer();
      try {
        result = await (await this.authorizer)({
          ...authorizerEvent(),
          type: 'REQUEST',
          methodArn,
        });
      } catch (error) {
        // Only exactly `Unauthorized` is a 401; anything else thrown is, on API Gateway, an
        // `AuthorizerConfigurationException` (shared/gateway/api-gateway.ts cites the reports).
        const unauthorized = error instanceof Error && error.message === 'Unauthorized';
        return {
          response: gatewayResponse(
            unauthorized ? 'UNAUTHORIZED' : 'AUTHORIZER_CONFIGURATION_ERROR',
          ),
        };
      }
      if (!validAuthorizerResult(result)) {
        return { response: gatewayResponse('AUTHORIZER_CONFIGURATION_ERROR') };
      }
      if (ttl > 0 && identity !== undefined) {
        this.cache.set(identity, { expiresAt: this.now() + ttl, result });
      }
    }
    if (!policyAllows(result.policyDocument, methodArn)) {
      return { response: gatewayResponse('ACCESS_DENIED') };
    }
    const context: Record<string, string> = { principalId: result.principalId };
    for (const [k, v] of Object.entries(result.context ?? {})) context[k] = String(v);
    return { context };
  }

  private async invoke(route: Route, event: APIGatewayProxyEvent): Promise<EmulatorResponse> {
    let handler = this.handlers.get(route.id);
    if (!handler) {
      handler = (this.options.loadHandler ?? loadRouteHandler)(route);
      this.handlers.set(route.id, handler);
    }
    let result: APIGatewayProxyResult;
    try {
      result = await (await handler)(event, lambdaContext(route));
    } catch {
      // A Lambda error in a proxy integration: API Gateway's own 502.
      return gatewayResponse('DEFAULT_5XX', INTEGRATION_ERROR);
    }
    if (!result || typeof result.statusCode !== 'number') {
      return gatewayResponse('DEFAULT_5XX', INTEGRATION_ERROR);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) {
      headers[k.toLowerCase()] = v.map(String).join(', ');
    }
    const body = result.isBase64Encoded
      ? Buffer.from(result.body ?? '', 'base64').toString('utf8')
      : (result.body ?? '');
    return { status: result.statusCode, headers, body };
  }
}

/** API Gateway's throttling: a token bucket refilled at `rate` per second, holding at most `burst`. */
class TokenBucket {
  private tokens: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private last: number,
  ) {
    this.tokens = burst;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What API Gateway answers for a Lambda proxy integration that fails: 502, its own message. */
const INTEGRATION_ERROR = { status: 502, message: 'Internal server error' } as const;

/**
 * A gateway response in SendGrid's envelope. The two defaults keep the status and message API
 * Gateway has for the situation (`actual`), as deployed (they set no status of their own).
 */
export function gatewayResponse(
  type: GatewayResponseType,
  actual?: { status: number; message: string },
): EmulatorResponse {
  const spec: GatewayResponseSpec = GATEWAY_RESPONSES[type];
  const status = spec.status ?? actual?.status;
  if (status === undefined) throw new Error(`${type} needs the status API Gateway would use`);
  return {
    status,
    headers: { 'content-type': 'application/json', ...spec.headers },
    body: gatewayResponseBody(type, spec.status === undefined ? actual?.message : undefined),
  };
}

/**
 * What the deployment's WAF rule answers a source over its limit: its custom response, 429 in
 * SendGrid's envelope (AWS: "AWS WAF custom responses take precedence over custom gateway
 * responses", supported-gateway-response-types).
 */
export function sourceLimitResponse(windowSeconds: number): EmulatorResponse {
  return {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after': String(windowSeconds) },
    body: gatewayResponseBody('THROTTLED'),
  };
}

/**
 * A limit per source address: at most `requests` admitted in any window of `windowMs`, as a WAF
 * rate-based rule keyed on the IP limits one address without touching the others. Memory stays
 * bounded: addresses with nothing left in their window are forgotten.
 */
class SourceWindow {
  private readonly admitted = new Map<string, number[]>();
  constructor(
    private readonly requests: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  admit(source: string): boolean {
    const now = this.now();
    const since = now - this.windowMs;
    if (this.admitted.size > 10_000) {
      for (const [address, times] of this.admitted) {
        if ((times[times.length - 1] ?? 0) <= since) this.admitted.delete(address);
      }
    }
    const times = (this.admitted.get(source) ?? []).filter((t) => t > since);
    if (times.length >= this.requests) {
      this.admitted.set(source, times);
      return false;
    }
    times.push(now);
    this.admitted.set(source, times);
    return true;
  }
}

/** IAM evaluation for one action on one resource: an explicit Deny wins, else any Allow. */
export function policyAllows(
  policy: APIGatewayAuthorizerResult['policyDocument'],
  methodArn: string,
): boolean {
  // A cached authorizer result is the same policy object on every hit: decide each method once.
  let decisions = policyDecisions.get(policy);
  if (!decisions) {
    decisions = new Map();
    policyDecisions.set(policy, decisions);
  }
  let allowed = decisions.get(methodArn);
  if (allowed === undefined) {
    // Method ARNs carry path parameters (key IDs): bounded, so a long-running npm start stays flat.
    allowed = remember(decisions, methodArn, evaluatePolicy(policy, methodArn), 256);
  }
  return allowed;
}

const policyDecisions = new WeakMap<object, Map<string, boolean>>();

function evaluatePolicy(
  policy: APIGatewayAuthorizerResult['policyDocument'],
  methodArn: string,
): boolean {
  let allowed = false;
  for (const statement of policy.Statement) {
    const s = statement as {
      Effect: string;
      Action?: string | string[];
      Resource?: string | string[];
    };
    const actions = ([] as string[]).concat(s.Action ?? []);
    if (!actions.some((a) => a === '*' || arnMatches(a, 'execute-api:Invoke'))) continue;
    const resources = ([] as string[]).concat(s.Resource ?? []);
    if (!resources.some((r) => arnMatches(r, methodArn))) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function validAuthorizerResult(result: unknown): result is APIGatewayAuthorizerResult {
  if (!result || typeof result !== 'object') return false;
  const r = result as APIGatewayAuthorizerResult;
  if (typeof r.principalId !== 'string' || !r.policyDocument?.Statement) return false;
  return Object.values(r.context ?? {}).every((v) =>
    ['string', 'number', 'boolean'].includes(typeof v),
  );
}

function lambdaContext(route: Route): Context {
  return {
    functionName: `keygate-${route.id}`,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;
}

/**
 * The path API Gateway routes by, or undefined when it cannot be decoded (no route matches).
 * - Percent-encoding is decoded once before routing, `%2F` included (then a separator): REST APIs
 *   route `/%65vents` as `/events`, and an encoded slash in a path parameter splits it
 *   (ustayready/fireprox#44: API Gateway "converting %2f to /"). The event's `path` keeps the
 *   encoding (REST APIs pass it "still percent-encoded", middleapi/standard-server#93).
 * - A trailing slash routes like none: "both API Gateway REST and HTTP route both /hello and
 *   /hello/ to the Lambda" (aws-powertools/powertools-lambda-python#1552).
 * Routing, the authorizer's method ARN and the policy check all use this one path, so a path
 * written another way can never be checked against one route and served by another.
 */
export function normalisePath(raw: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The identity sources, parsed once: a header's name, or the context value's source. */
const IDENTITY_LOOKUPS = IDENTITY_SOURCES.map((source) => ({
  source,
  header: /^method\.request\.header\.(.+)$/.exec(source)?.[1],
}));

function singleValues(
  values: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? (v[v.length - 1] ?? '') : v;
  }
  return out;
}

function multiValues(
  values: Record<string, string | string[] | undefined>,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  return out;
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name.toLowerCase() && v !== undefined) {
      return Array.isArray(v) ? v[v.length - 1] : v;
    }
  }
  return undefined;
}

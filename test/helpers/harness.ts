import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect } from 'vitest';
import type * as z from 'zod';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import type { Caller } from '../../shared/domain/api-keys.js';
import { verifyApiKey } from '../../shared/domain/verify-key.js';
import { ROUTES, type RouteId } from '../../shared/routes.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { ErrorEnvelope } from '../../shared/schemas/api-keys.js';
import { expectContract, inContract } from './contract.js';
import { type Answered, bodyAs, checked } from './typed-body.js';

/**
 * Integration harness: real handlers, real DynamoDB Local. Until the authorizer exists, callers
 * are established the way it will: by verifying a real key against storage.
 */

export interface TestAccount {
  accountId: string;
  ownerKey: string;
  owner: Caller;
}

/** A fresh account per test, so tests never share data. */
export async function newAccount(
  options: { keyLimit?: number; maxKeyLifetimeSeconds?: number; subuserLimit?: number } = {},
): Promise<TestAccount> {
  const name = `test-${randomBytes(6).toString('hex')}`;
  // Suites make a subuser per request they send: room for them, unless a test sets a limit.
  const result = await bootstrapAccount(defaultDeps(), { name, subuserLimit: 1000, ...options });
  if (!result.ok) throw result.error;
  return {
    accountId: result.value.accountId,
    ownerKey: result.value.apiKey,
    owner: await callerFor(result.value.apiKey),
  };
}

/** The authorizer's view of a key: throws if the key does not verify. */
export async function callerFor(apiKey: string): Promise<Caller> {
  const verified = await verifyApiKey(defaultDeps(), apiKey);
  if (!verified.ok) throw new Error(`key does not verify: ${verified.reason}`);
  const { accountId, keyId, type, scopes } = verified.key;
  return { accountId, keyId, type, scopes };
}

export interface InvokeOptions {
  caller?: Caller;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A value to send as JSON. */
  body?: unknown;
  /** Exact body text (for malformed JSON and size tests). */
  rawBody?: string;
}

export interface InvokeResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  raw: APIGatewayProxyResult;
}

export function apiGatewayEvent(
  routeId: RouteId,
  options: InvokeOptions = {},
): APIGatewayProxyEvent {
  const route = ROUTES[routeId];
  const params = options.pathParameters ?? {};
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');
  const body =
    options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body));
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers: {
      ...(body === null ? {} : { 'Content-Type': 'application/json' }),
      ...options.headers,
    },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: Object.keys(params).length > 0 ? params : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: randomBytes(8).toString('hex'),
      identity: { sourceIp: '203.0.113.7' },
      authorizer: options.caller
        ? {
            principalId: options.caller.keyId,
            accountId: options.caller.accountId,
            keyId: options.caller.keyId,
            type: options.caller.type,
            scopes: options.caller.scopes.join(' '),
          }
        : null,
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/**
 * A Lambda context of its own for each invocation, as Lambda gives: the middlewares keep the
 * request's caller and input on it, so concurrent invocations must never share one.
 */
function lambdaContext(): Context {
  return {
    functionName: 'test',
    awsRequestId: randomBytes(8).toString('hex'),
  } as unknown as Context;
}

/**
 * Invokes a route's handler exactly as API Gateway would after the authorizer, and checks the
 * response against SendGrid's contract for the routes it covers. With `answer`, the zod schema of
 * the response the test expects, the body is checked against it and typed by it.
 */
export async function invoke<S extends z.ZodType = z.ZodUnknown>(
  routeId: RouteId,
  options: InvokeOptions = {},
  answer?: S,
): Promise<Answered<InvokeResult, S>> {
  const route = ROUTES[routeId];
  const entry = new URL(`../../functions/${route.handler}.ts`, import.meta.url).href;
  const module = (await import(/* @vite-ignore */ entry)) as {
    handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  };
  const raw = await module.handler(apiGatewayEvent(routeId, options), lambdaContext());
  const headers = Object.fromEntries(
    Object.entries(raw.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  const body = raw.body === '' ? undefined : (JSON.parse(raw.body) as unknown);
  // A body is JSON; an empty body (204, mail send's 202) carries no Content-Type.
  expect(headers['content-type']).toBe(raw.body === '' ? undefined : 'application/json');
  if (inContract(route.method, route.path)) {
    expectContract(route.method, route.path, raw.statusCode, body);
  }
  const where = `${routeId} → ${raw.statusCode}`;
  return {
    status: raw.statusCode,
    headers,
    body: checked(answer, body, where),
    raw,
  };
}

/** The SendGrid envelope of an error response. */
export function errorsOf(result: InvokeResult): { field: string | null; message: string }[] {
  return bodyAs(ErrorEnvelope, result.body, `error → ${result.status}`).errors;
}

import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ApiGatewayEmulator, type EmulatorOptions } from '../../local/emulator.js';
import { METRIC_NAMES, metricCount } from '../../shared/observability/metrics.js';

/**
 * The emulator's gateway behaviour with stand-in Lambdas (no storage, no network): what it sends
 * the authorizer and the handler, and how it answers when they fail.
 */

const ALLOW_ALL = {
  principalId: 'key-1',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: ['arn:aws:execute-api:local:000000000000:keygate/local/*'],
      },
    ],
  },
  context: { accountId: 'acc-1', keyId: 'key-1', type: 'general', scopes: 'a b', n: 7, flag: true },
};

function emulator(options: Partial<EmulatorOptions> & { handlerResult?: unknown } = {}) {
  const seen: { authorizer: APIGatewayRequestAuthorizerEvent[]; handler: APIGatewayProxyEvent[] } =
    {
      authorizer: [],
      handler: [],
    };
  const gateway = new ApiGatewayEmulator({
    authorizer: async (event) => {
      seen.authorizer.push(event);
      return ALLOW_ALL as never;
    },
    loadHandler: async () => async (event) => {
      seen.handler.push(event);
      return (options.handlerResult ?? { statusCode: 200, body: '{"ok":true}' }) as never;
    },
    ...options,
  });
  return { gateway, seen };
}

const withKey = { Authorization: 'Bearer k' };

describe('ApiGatewayEmulator', () => {
  it('builds the REQUEST authorizer event and the proxy event as API Gateway does', async () => {
    // Arrange
    const { gateway, seen } = emulator();

    // Act
    const res = await gateway.handle({
      method: 'GET',
      path: '/v3/api_keys/abc%20def',
      headers: { ...withKey, 'X-Multi': ['1', '2'] },
      query: { limit: '5' },
    });

    // Assert
    expect(res.status).toBe(200);
    const auth = seen.authorizer[0];
    expect(auth).toMatchObject({
      type: 'REQUEST',
      // Decoded once, as API Gateway routes it (and as the policy is checked).
      methodArn: 'arn:aws:execute-api:local:000000000000:keygate/local/GET/v3/api_keys/abc def',
      resource: '/v3/api_keys/{api_key_id}',
      httpMethod: 'GET',
      pathParameters: { api_key_id: 'abc def' },
      queryStringParameters: { limit: '5' },
    });
    const proxy = seen.handler[0];
    expect(proxy).toMatchObject({
      resource: '/v3/api_keys/{api_key_id}',
      path: '/v3/api_keys/abc%20def',
      headers: { 'X-Multi': '2' },
      multiValueHeaders: { 'X-Multi': ['1', '2'] },
      requestContext: {
        stage: 'local',
        resourcePath: '/v3/api_keys/{api_key_id}',
        // API Gateway stringifies every context value.
        authorizer: { principalId: 'key-1', accountId: 'acc-1', n: '7', flag: 'true' },
      },
    });
  });

  it('answers 401 without calling the authorizer when the identity source is missing', async () => {
    const { gateway, seen } = emulator();

    const res = await gateway.handle({ method: 'GET', path: '/v3/scopes' });

    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({
      errors: [{ field: null, message: 'authorization required' }],
    });
    expect(seen.authorizer).toHaveLength(0);
  });

  it('caches by identity source until the TTL passes, and flushes on request', async () => {
    // Arrange
    let now = 0;
    const { gateway, seen } = emulator({ cacheTtlSeconds: 10, now: () => now });

    // Act
    await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });
    now += 9_999;
    await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });
    const beforeExpiry = seen.authorizer.length;
    now += 2;
    await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });
    const afterExpiry = seen.authorizer.length;
    gateway.flushAuthorizerCache();
    await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });

    // Assert
    expect(beforeExpiry).toBe(1);
    expect(afterExpiry).toBe(2);
    expect(seen.authorizer).toHaveLength(3);
  });

  it('caches per route: one key on another route, or another method, is another identity', async () => {
    const { gateway, seen } = emulator({ cacheTtlSeconds: 300 });

    await gateway.handle({ method: 'GET', path: '/v3/api_keys/a', headers: withKey });
    await gateway.handle({ method: 'GET', path: '/v3/api_keys/b', headers: withKey });
    await gateway.handle({ method: 'DELETE', path: '/v3/api_keys/a', headers: withKey });
    await gateway.handle({ method: 'GET', path: '/v3/api_keys/events', headers: withKey });

    // Two paths of one route share a result; the other method and the literal route do not.
    expect(seen.authorizer.map((e) => `${e.httpMethod} ${e.resource}`)).toEqual([
      'GET /v3/api_keys/{api_key_id}',
      'DELETE /v3/api_keys/{api_key_id}',
      'GET /v3/api_keys/events',
    ]);
  });

  it('never caches for a route whose method uses the authorizer with caching off', async () => {
    const { gateway, seen } = emulator({
      cacheTtlSeconds: 300,
      routes: [
        {
          id: 'GET /v1/reports',
          method: 'GET',
          path: '/v1/reports',
          handler: 'reports',
          summary: 'added',
          access: { kind: 'key', scopes: [], keyTypes: ['general'] },
          uncachedAuthorizer: true,
        },
      ],
    });

    await gateway.handle({ method: 'GET', path: '/v1/reports', headers: withKey });
    await gateway.handle({ method: 'GET', path: '/v1/reports', headers: withKey });

    expect(seen.authorizer).toHaveLength(2);
  });

  it('calls the authorizer every time with caching off, even without the header', async () => {
    const { gateway, seen } = emulator({ cacheTtlSeconds: 0 });

    await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });
    await gateway.handle({ method: 'GET', path: '/v3/scopes' });

    expect(seen.authorizer).toHaveLength(2);
  });

  it.each([
    [
      'the authorizer throws Unauthorized',
      {
        authorizer: async () => {
          throw new Error('Unauthorized');
        },
      },
      401,
    ],
    [
      'the authorizer fails',
      {
        authorizer: async () => {
          throw new Error('DynamoDB down');
        },
      },
      503,
    ],
    [
      'the authorizer returns no policy',
      { authorizer: async () => ({ principalId: 'x' }) as never },
      503,
    ],
    [
      'the policy does not allow the method',
      {
        authorizer: async () =>
          ({
            ...ALLOW_ALL,
            policyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Action: 'execute-api:Invoke',
                  Effect: 'Allow',
                  Resource: [
                    'arn:aws:execute-api:local:000000000000:keygate/local/GET/v3/api_keys',
                  ],
                },
              ],
            },
          }) as never,
      },
      403,
    ],
    [
      'the handler crashes',
      {
        loadHandler: async () => async () => {
          throw new Error('boom');
        },
      },
      502,
    ],
    ['the handler returns garbage', { handlerResult: { body: 'no status' } }, 502],
  ] as [string, Partial<EmulatorOptions> & { handlerResult?: unknown }, number][])(
    'renders a gateway response in the envelope when %s',
    async (_case, options, status) => {
      const { gateway } = emulator(options);

      const res = await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });

      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body).errors[0]).toMatchObject({
        field: null,
        message: expect.any(String),
      });
    },
  );

  it.each([
    ['GET', '/nowhere'],
    ['PATCH', '/v3/scopes'],
    ['GET', '/v3/api_keys//'],
    ['GET', '/v3/api_keys/x/y'],
  ])('answers %s %s with 404 (API Gateway: missing authentication token)', async (method, path) => {
    const { gateway } = emulator();

    const res = await gateway.handle({ method, path, headers: withKey });

    expect(res.status).toBe(404);
  });

  it('throttles beyond the burst with 429 and refills at the rate', async () => {
    // Arrange
    let now = 0;
    const { gateway } = emulator({ throttle: { rateLimit: 1, burstLimit: 2 }, now: () => now });
    const call = () => gateway.handle({ method: 'GET', path: '/health' });

    // Act
    const burst = [(await call()).status, (await call()).status, (await call()).status];
    now += 1000;
    const refilled = (await call()).status;

    // Assert
    expect(burst).toEqual([200, 200, 429]);
    expect(refilled).toBe(200);
  });

  it('refuses bodies over the payload limit with 413', async () => {
    const { gateway } = emulator({ maxBodyBytes: 10 });

    const res = await gateway.handle({
      method: 'POST',
      path: '/v3/api_keys',
      headers: withKey,
      body: '{"name":"too long"}',
    });

    expect(res.status).toBe(413);
  });

  it('serves public routes without the authorizer', async () => {
    const { gateway, seen } = emulator();

    const res = await gateway.handle({ method: 'GET', path: '/health' });

    expect(res.status).toBe(200);
    expect(seen.authorizer).toHaveLength(0);
    expect(res.routeId).toBe('getHealth');
  });

  it('answers a thrown authorizer as API Gateway does: a configuration error, 503 + Retry-After', async () => {
    const { gateway } = emulator({
      authorizer: async () => {
        throw new Error('DynamoDB down');
      },
    });

    const res = await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });

    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it("keeps API Gateway's own status and message for a failed integration (the default 5XX)", async () => {
    const { gateway } = emulator({
      loadHandler: async () => async () => {
        throw new Error('boom');
      },
    });

    const res = await gateway.handle({ method: 'GET', path: '/v3/scopes', headers: withKey });

    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({
      errors: [{ field: null, message: 'Internal server error' }],
    });
  });

  it.each([
    ['a trailing slash', '/v3/scopes/', 'GET /v3/scopes'],
    ['an encoded letter', '/v3/api_keys/%65vents', 'GET /v3/api_keys/events'],
    ['an encoded literal route', '/v3/%73copes', 'GET /v3/scopes'],
  ])(
    'routes %s as API Gateway does, and checks the policy on that same path',
    async (_case, path, route) => {
      const { gateway, seen } = emulator();

      const res = await gateway.handle({ method: 'GET', path, headers: withKey });

      expect(res.status).toBe(200);
      expect(`${seen.authorizer[0]?.httpMethod} ${seen.authorizer[0]?.resource}`).toBe(route);
      expect(seen.authorizer[0]?.methodArn.endsWith(route.split(' ')[1] ?? '')).toBe(true);
    },
  );

  it('splits an encoded slash in a path parameter, as API Gateway decodes before routing', async () => {
    const { gateway } = emulator();

    const res = await gateway.handle({
      method: 'GET',
      path: '/v3/api_keys/a%2Fb',
      headers: withKey,
    });

    expect(res.status).toBe(404);
  });

  it.each(['get', 'Get', 'delete'])(
    'treats the method %s as no method of any route (methods are case-sensitive)',
    async (method) => {
      const { gateway, seen } = emulator();

      const res = await gateway.handle({ method, path: '/v3/scopes', headers: withKey });

      expect(res.status).toBe(404);
      expect(JSON.parse(res.body).errors[0].message).toBe('not found');
      expect(seen.authorizer).toHaveLength(0);
    },
  );

  it('limits each source address on a route with a per-source limit, not the others', async () => {
    // Arrange
    let now = 0;
    const { gateway } = emulator({ now: () => now });
    const report = (sourceIp: string) =>
      gateway.handle({
        method: 'POST',
        path: '/v3/api_keys/revoke-leaked',
        body: '{"keys":["x"]}',
        sourceIp,
      });

    const limited = { Route: 'revokeLeakedApiKeys' };
    const before = metricCount(METRIC_NAMES.sourceLimited, limited);

    // Act: one address uses up its 10 a minute
    const flood: number[] = [];
    for (let i = 0; i < 12; i++) flood.push((await report('198.51.100.1')).status);
    const other = await report('198.51.100.2');
    now += 60_001;
    const later = await report('198.51.100.1');

    // Assert
    expect(flood.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(flood.slice(10)).toEqual([429, 429]);
    expect(other.status).toBe(200);
    expect(later.status).toBe(200);
    expect(metricCount(METRIC_NAMES.sourceLimited, limited)).toBe(before + 2);
  });
});

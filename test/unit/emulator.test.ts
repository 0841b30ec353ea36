import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ApiGatewayEmulator, type EmulatorOptions } from '../../local/emulator.js';
import type { RouteId } from '../../shared/routes.js';

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
      methodArn: 'arn:aws:execute-api:local:000000000000:keygate/local/GET/v3/api_keys/abc%20def',
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
    await gateway.handle({ method: 'GET', path: '/v3/api_keys', headers: withKey });
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
      500,
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
    expect(res.routeId satisfies RouteId | undefined).toBe('getHealth');
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../shared/http/middlewares.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { ApiKeyList, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { apiGatewayEvent, errorsOf, invoke, newAccount } from '../helpers/harness.js';

async function keyCount(owner: Awaited<ReturnType<typeof newAccount>>['owner']) {
  const list = await invoke('listApiKeys', { caller: owner }, ApiKeyList);
  return list.body.result.length;
}

describe('request bodies', () => {
  it.each([
    ['invalid JSON', '{"name": "x",', 400, 'request body must be valid JSON'],
    ['a JSON array', '[{"name":"x"}]', 400, 'request body must be a JSON object'],
    ['a JSON string', '"name"', 400, 'request body must be a JSON object'],
    ['JSON null', 'null', 400, 'request body must be a JSON object'],
    [
      'deep nesting',
      `{"name":"x","scopes":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      400,
      'scopes must be an array of strings',
    ],
  ])('answers %s with a clear 4xx and writes nothing', async (_case, rawBody, status, message) => {
    // Arrange
    const { owner } = await newAccount();

    // Act
    const res = await invoke('createApiKey', { caller: owner, rawBody });

    // Assert
    expect(res.status).toBe(status);
    expect(errorsOf(res).map((e) => e.message)).toContain(message);
    expect(await keyCount(owner)).toBe(1);
  });

  it(`refuses bodies over ${MAX_BODY_BYTES} bytes with 413`, async () => {
    const { owner } = await newAccount();

    const res = await invoke('createApiKey', {
      caller: owner,
      body: { name: 'big', padding: 'x'.repeat(MAX_BODY_BYTES) },
    });

    expect(res.status).toBe(413);
    expect(errorsOf(res)).toEqual([
      { field: null, message: `request body must be at most ${MAX_BODY_BYTES} bytes` },
    ]);
    expect(await keyCount(owner)).toBe(1);
  });

  it('refuses a non-JSON content type with 415', async () => {
    const { owner } = await newAccount();

    const res = await invoke('createApiKey', {
      caller: owner,
      rawBody: 'name=x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });

    expect(res.status).toBe(415);
  });

  it('accepts JSON with a charset and base64-encoded bodies', async () => {
    const { owner } = await newAccount();

    const charset = await invoke(
      'createApiKey',
      {
        caller: owner,
        body: { name: 'utf8 ✓' },
        headers: { 'content-type': 'application/json; charset=utf-8' },
      },
      CreatedApiKey,
    );
    const event = apiGatewayEvent('createApiKey', { caller: owner });
    const { handler } = await import('../../functions/api-keys/create.js');
    const base64 = await handler(
      {
        ...event,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ name: 'b64' })).toString('base64'),
        isBase64Encoded: true,
      },
      {} as never,
    );

    expect(charset.status).toBe(201);
    expect(charset.body.name).toBe('utf8 ✓');
    expect(base64.statusCode).toBe(201);
  });

  it('refuses the on-behalf-of header where a route does not take it, rather than ignore it', async () => {
    const { owner } = await newAccount();

    const res = await invoke('getBillingProfile', {
      caller: owner,
      headers: { 'On-Behalf-Of': 'sub' },
    });

    expect(res.status).toBe(400);
    expect(errorsOf(res)).toEqual([
      { field: 'on-behalf-of', message: 'the on-behalf-of header is not supported on this route' },
    ]);
  });

  it('refuses an on-behalf-of name that is not a subuser of the caller, before acting', async () => {
    const { owner } = await newAccount();

    const res = await invoke('listApiKeys', { caller: owner, headers: { 'On-Behalf-Of': 'sub' } });

    expect(res.status).toBe(403);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'access forbidden' }]);
  });
});

describe('caller context (defence in depth behind the authorizer)', () => {
  const keyRoutes = ROUTE_LIST.filter((r) => r.access.kind === 'key');

  it.each(keyRoutes.map((r) => [r.id, r] as const))(
    '%s answers 401 without an authorizer context',
    async (id) => {
      const res = await invoke(id, { pathParameters: { api_key_id: 'AAAAAAAAAAAAAAAAAAAAAA' } });

      expect(res.status).toBe(401);
      expect(errorsOf(res)).toEqual([{ field: null, message: 'authorization required' }]);
    },
  );

  it.each(
    keyRoutes
      .filter((r) => r.access.kind === 'key' && r.access.scopes.length > 0)
      .map((r) => [r.id, r] as const),
  )('%s answers 403 when the context lacks its scope', async (id) => {
    const { owner } = await newAccount();
    // A real scope that no route of the table requires.
    const caller = { ...owner, scopes: ['alerts.read'] };

    const res = await invoke(id, {
      caller,
      pathParameters: { api_key_id: owner.keyId },
      body: { name: 'x', scopes: ['mail.send'] },
    });

    expect(res.status).toBe(403);
    expect(errorsOf(res)).toEqual([{ field: null, message: 'access forbidden' }]);
  });
});

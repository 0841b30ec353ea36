import type { APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/authorizer/handler.js';
import { generateApiKey } from '../../shared/domain/key-format.js';
import { ALL_SCOPES } from '../../shared/domain/scopes.js';
import { METRIC_NAMES, metricCount } from '../../shared/observability/metrics.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { countDynamoCommands } from '../helpers/gateway.js';
import { invoke, newAccount } from '../helpers/harness.js';
import { runtimeLogsOn } from '../helpers/log-level.js';

const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v3/scopes';

function event(
  authorization: string | undefined,
  route: { method: string; resource: string } = { method: 'GET', resource: '/v3/scopes' },
): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: route.resource,
    path: '/v3/scopes',
    httpMethod: route.method,
    headers: authorization === undefined ? {} : { authorization },
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** Captures what the process writes to stdout (the Powertools logger's destination). */
function captureStdout() {
  const chunks: string[] = [];
  const logsOff = runtimeLogsOn();
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return {
    text: () => chunks.join(''),
    restore: () => {
      spy.mockRestore();
      logsOff();
    },
  };
}

describe('authorizer', () => {
  afterEach(() => vi.restoreAllMocks());

  it('allows a valid key with one strongly consistent read, its policy and its context', async () => {
    // Arrange
    const { ownerKey, owner } = await newAccount();
    const reads = countDynamoCommands();

    // Act
    const result = await handler(event(`Bearer ${ownerKey}`));

    // Assert: one read; the first use of the minute also records the last use (one write).
    const gets = reads.inputs.filter((i) => !('UpdateExpression' in i));
    expect(gets).toEqual([
      { TableName: expect.any(String), Key: { keyId: owner.keyId }, ConsistentRead: true },
    ]);
    expect(reads.count - gets.length).toBeLessThanOrEqual(1);
    expect(result.principalId).toBe(owner.keyId);
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        // The requested route only: the gateway caches the result per route.
        Resource: [METHOD_ARN],
      },
    ]);
    expect(result.context).toEqual({
      accountId: owner.accountId,
      keyId: owner.keyId,
      type: 'owner',
      scopes: ALL_SCOPES.join(' '),
      expiresAt: '',
      secret: 'current',
      allowedIps: '',
      limits: '',
    });
  });

  it('denies a method its route list does not know, even to the owner key (fail closed)', async () => {
    const { ownerKey } = await newAccount();

    const result = await handler(
      event(`Bearer ${ownerKey}`, { method: 'GET', resource: '/v3/unknown/{id}' }),
    );

    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Deny',
        Resource: ['arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*'],
      },
    ]);
  });

  it.each([
    ['no header', undefined, 0],
    ['a malformed key', 'Bearer SG.nope', 0],
    ['another scheme', 'Token abc', 0],
    ['a forged key with a bad checksum', `Bearer SG.${'a'.repeat(22)}.${'b'.repeat(43)}`, 0],
  ])('throws Unauthorized for %s, reading nothing', async (_case, authorization, expectedReads) => {
    const reads = countDynamoCommands();

    await expect(handler(event(authorization))).rejects.toThrow(/^Unauthorized$/);

    expect(reads.count).toBe(expectedReads);
  });

  it('throws Unauthorized for a deleted key after one read', async () => {
    // Arrange
    const { owner } = await newAccount();
    const created = await invoke(
      'createApiKey',
      { caller: owner, body: { name: 'gone' } },
      CreatedApiKey,
    );
    const { api_key, api_key_id } = created.body;
    await invoke('deleteApiKey', { caller: owner, pathParameters: { api_key_id } });
    const reads = countDynamoCommands();

    // Act + Assert
    await expect(handler(event(`Bearer ${api_key}`))).rejects.toThrow(/^Unauthorized$/);
    expect(reads.count).toBe(1);
  });

  it('logs the decision and the key ID, never the key or the header', async () => {
    // Arrange
    const { ownerKey, owner } = await newAccount();
    const out = captureStdout();

    // Act
    await handler(event(`Bearer ${ownerKey}`));
    await handler(event(`Bearer ${ownerKey.slice(0, -1)}x`)).catch(() => undefined);
    out.restore();

    // Assert
    const text = out.text();
    expect(text).toContain('"decision":"allow"');
    expect(text).toContain('"decision":"unauthorized"');
    expect(text).toContain(owner.keyId);
    expect(text).not.toContain(ownerKey.split('.')[2]?.slice(0, 30));
  });

  it('counts each decision by outcome and reason (AuthorizerDecision)', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const decisions = {
      allow: { Outcome: 'allow', Reason: 'none' },
      deny: { Outcome: 'deny', Reason: 'route_not_allowed' },
      missing: { Outcome: 'unauthorized', Reason: 'missing' },
      malformed: { Outcome: 'unauthorized', Reason: 'malformed' },
      unknown: { Outcome: 'unauthorized', Reason: 'unknown' },
    };
    const count = () =>
      Object.fromEntries(
        Object.entries(decisions).map(([k, d]) => [
          k,
          metricCount(METRIC_NAMES.authorizerDecision, d),
        ]),
      );
    const before = count();
    // Well formed, checksum and all, but never issued.
    const unknownKey = `Bearer ${generateApiKey(ownerKey.split('.')[0] ?? 'SG').apiKey}`;

    // Act
    await handler(event(`Bearer ${ownerKey}`));
    await handler(event(`Bearer ${ownerKey}`, { method: 'GET', resource: '/v3/unknown/{id}' }));
    for (const authorization of [undefined, 'Bearer SG.nope', unknownKey]) {
      await handler(event(authorization)).catch(() => undefined);
    }

    // Assert
    const after = count();
    for (const k of Object.keys(decisions)) expect(after[k], k).toBe((before[k] ?? 0) + 1);
  });

  it('logs with the invocation’s Lambda context: request ID and cold start on every line', async () => {
    // Arrange
    const { ownerKey } = await newAccount();
    const out = captureStdout();
    const context = {
      functionName: 'keygate-authorizer',
      awsRequestId: 'req-7f3a',
      memoryLimitInMB: '1024',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:keygate-authorizer',
      getRemainingTimeInMillis: () => 10_000,
    } as unknown as Context;

    // Act
    await handler(event(`Bearer ${ownerKey}`), context);
    out.restore();

    // Assert
    const decision = out
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.message === 'authorizer decision');
    expect(decision).toMatchObject({
      function_request_id: 'req-7f3a',
      function_name: 'keygate-authorizer',
      cold_start: expect.any(Boolean),
    });
  });
});

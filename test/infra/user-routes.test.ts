import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { Keygate } from '../../infra/constructs/keygate.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { policyAllows } from '../../local/emulator.js';
import { findRoute, policyFor } from '../../shared/gateway/policy.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { EXTRA_ROUTES_ENV, parseExtraRoutes } from '../../shared/runtime/extra-routes.js';
import { methodsOf, newApp, referencedId, resourceOf, resourcesOf } from './support.js';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';

function downstream(scope: Stack, id: string) {
  return new LambdaFunction(scope, id, {
    runtime: Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: Code.fromInline('export const handler = async () => ({ statusCode: 200, body: "{}" });'),
  });
}

// The routes are added after the construct exists, as a user would: the authorizer's
// environment is filled lazily, at synth.
const stack = new KeygateStack(newApp(), 'Keygate');
const reports = downstream(stack, 'Reports');
stack.keygate.addRoute({
  method: 'GET',
  path: '/v3/reports/{report_id}',
  scopes: ['stats.read'],
  handler: reports,
});
stack.keygate.addRoute({
  method: 'POST',
  path: '/v3/billing/invoices',
  scopes: ['billing.read'],
  keyTypes: ['owner', 'billing'],
  handler: downstream(stack, 'Invoices'),
});
const template = Template.fromStack(stack);
const authorizers = resourcesOf(template, 'AWS::ApiGateway::Authorizer');
const authorizerIdWithTtl = (ttl: number) =>
  Object.entries(authorizers).find(
    ([, a]) => a.Properties.AuthorizerResultTtlInSeconds === ttl,
  )?.[0];
const authorizerEnv = (
  resourceOf(
    template,
    stack.getLogicalId(
      stack.keygate.authorizerFunction.node.defaultChild as Parameters<Stack['getLogicalId']>[0],
    ),
  ).Properties.Environment as { Variables: Record<string, string> }
).Variables;

describe('a route added with addRoute', () => {
  it('exists beside every route of the table, and nothing else was added', () => {
    const actual = methodsOf(template).map((m) => `${m.httpMethod} ${m.path}`);

    expect(actual.sort()).toEqual(
      [
        ...ROUTE_LIST.map((r) => `${r.method} ${r.path}`),
        'GET /v3/reports/{report_id}',
        'POST /v3/billing/invoices',
      ].sort(),
    );
  });

  it('gets the REQUEST authorizer function with its cache off (Keygate cannot wrap the handler), and invokes its handler', () => {
    const method = methodsOf(template).find((m) => m.path === '/v3/reports/{report_id}');
    const builtIn = methodsOf(template).find((m) => m.path === '/v3/scopes');
    const uncached = Object.entries(authorizers).find(
      ([id]) => id === referencedId(method?.properties.AuthorizerId),
    )?.[1];

    expect(method?.properties.AuthorizationType).toBe('CUSTOM');
    // Every request is verified, so an expired, revoked or retired secret never rides a
    // cached allow for the TTL; the built-in routes keep the cached authorizer.
    expect(uncached?.Properties).toMatchObject({
      Type: 'REQUEST',
      AuthorizerResultTtlInSeconds: 0,
      AuthorizerUri: authorizers[authorizerIdWithTtl(300) ?? '']?.Properties.AuthorizerUri,
    });
    expect(referencedId(builtIn?.properties.AuthorizerId)).toBe(authorizerIdWithTtl(300));
    expect(Object.keys(authorizers)).toHaveLength(2);
    expect(method?.properties.RequestParameters).toEqual({
      'method.request.path.report_id': true,
    });
    expect(JSON.stringify(method?.properties.Integration)).toContain(
      stack.getLogicalId(reports.node.defaultChild as Parameters<Stack['getLogicalId']>[0]),
    );
  });

  it(`appears in the authorizer's ${EXTRA_ROUTES_ENV}, so its policies cover it`, () => {
    const routes = parseExtraRoutes(authorizerEnv[EXTRA_ROUTES_ENV]);

    expect(routes).toEqual([
      {
        method: 'GET',
        path: '/v3/reports/{report_id}',
        access: { kind: 'key', scopes: ['stats.read'], keyTypes: ['owner', 'general'] },
      },
      {
        method: 'POST',
        path: '/v3/billing/invoices',
        access: { kind: 'key', scopes: ['billing.read'], keyTypes: ['owner', 'billing'] },
      },
    ]);
    const all = [...ROUTE_LIST, ...routes];
    const report = `${STAGE}/GET/v3/reports/qfTQ6KG0QBiwWdJ0-pCLCA`;
    const reportRoute = findRoute(all, 'GET', '/v3/reports/{report_id}');
    const invoices = findRoute(all, 'POST', '/v3/billing/invoices');
    const general = (scopes: string[]) => ({ type: 'general' as const, scopes });
    expect(policyAllows(policyFor(STAGE, general(['stats.read']), reportRoute), report)).toBe(true);
    expect(policyAllows(policyFor(STAGE, general(['mail.send']), reportRoute), report)).toBe(false);
    expect(
      policyAllows(
        policyFor(STAGE, { type: 'billing', scopes: ['billing.read'] }, invoices),
        `${STAGE}/POST/v3/billing/invoices`,
      ),
    ).toBe(true);
  });

  it('leaves the authorizer with an empty list when no route was added', () => {
    const plain = new KeygateStack(newApp(), 'Plain');
    const plainTemplate = Template.fromStack(plain);

    plainTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [EXTRA_ROUTES_ENV]: '[]' } },
    });
  });
});

describe('addRoute refuses at synth', () => {
  const keygate = () => {
    const s = new Stack(newApp(), 'Refuse');
    return { keygate: new Keygate(s, 'Keygate'), handler: downstream(s, 'Fn') };
  };

  it.each([
    ['a route of the table', { method: 'GET', path: '/v3/api_keys' }, /already has/],
    [
      'the same route under another parameter name',
      { method: 'GET', path: '/v3/api_keys/{id}' },
      /already has/,
    ],
    [
      'a second path variable beside an existing one',
      // (`/usage` is Keygate's own: a path of its own tests the parameter name alone.)
      { method: 'GET', path: '/v3/api_keys/{id}/stats' },
      /same parameter name/,
    ],
    ['a malformed path', { method: 'GET', path: 'v3/reports' }, /path/],
    ['a greedy path variable', { method: 'GET', path: '/v3/{proxy+}' }, /path/],
    ['a method API Gateway proxies as ANY', { method: 'ANY', path: '/v3/reports' }, /method/],
    ['no scope', { method: 'GET', path: '/v3/reports', scopes: [] }, /at least one scope/],
    [
      'a scope no key can hold',
      { method: 'GET', path: '/v3/reports', scopes: ['reports.read'] },
      /catalogue/,
    ],
    ['no key type', { method: 'GET', path: '/v3/reports', keyTypes: [] }, /keyTypes/],
  ] as const)('%s', (_case, route, message) => {
    const { keygate: k, handler } = keygate();
    expect(() =>
      k.addRoute({
        scopes: ['stats.read'],
        ...route,
        method: route.method as 'GET',
        handler,
      }),
    ).toThrow(message);
  });
});

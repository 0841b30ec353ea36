import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { invoicesStack } from '../../examples/invoices/attach-stack.js';
import type { Keygate } from '../../infra/constructs/keygate.js';
import type { KeygateFunction } from '../../infra/constructs/keygate-function.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { deploymentOf } from '../../shared/deployment/deployment.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { INVOICES_DIR, loadInvoicesExample } from '../helpers/examples.js';
import {
  methodsOf,
  newApp,
  referencedId,
  render,
  resourcesOf,
  type TemplateMethod,
} from './support.js';

/**
 * The invoices example on AWS, synthesized (bundling off, as every assertion test): (b) attached
 * to a REST API the team already has (`examples/invoices/attach-stack.ts`), and the repository's
 * own stack given the example's config.
 */

const loaded = await loadInvoicesExample();
const TEAM_ROUTES = deploymentOf(loaded.spec).teamRoutes;
const key = (method: string, path: string) => `${method} ${path}`;

function synthesized(stack: Stack) {
  const template = Template.fromStack(stack);
  const methods = methodsOf(template);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
  const method = (m: string, path: string) => {
    const found = methods.find((x) => x.httpMethod === m && x.path === path);
    if (!found) throw new Error(`No method ${m} ${path}`);
    return found;
  };
  return { template, methods, logicalId, method };
}

/** What every synthesized Keygate must show for the example, whichever API it is on. */
function expectKeygateOn(stack: Stack, keygate: Keygate) {
  const { template, logicalId, method } = synthesized(stack);
  const authorizers = Object.keys(resourcesOf(template, 'AWS::ApiGateway::Authorizer'));
  expect(authorizers).toEqual([logicalId(keygate.authorizer)]);

  // Keygate's own routes and the team's: the authorizer on each one a key opens, none elsewhere.
  for (const route of [...ROUTE_LIST, ...TEAM_ROUTES]) {
    const found = method(route.method, route.path);
    if (route.access.kind === 'key') {
      expect(found.properties.AuthorizationType, key(route.method, route.path)).toBe('CUSTOM');
      expect(referencedId(found.properties.AuthorizerId)).toBe(authorizers[0]);
    } else {
      expect(found.properties.AuthorizationType, key(route.method, route.path)).toBe('NONE');
    }
  }

  // One function per team route, invoked by its method, bundled from the generated wrapper.
  expect([...keygate.teamFunctions.keys()]).toEqual(TEAM_ROUTES.map((r) => r.id));
  const functionIds = new Set<string>();
  for (const route of TEAM_ROUTES) {
    const fn = keygate.teamFunctions.get(route.id);
    if (!fn) throw new Error(`No function for ${route.id}`);
    const fnId = logicalId(fn);
    functionIds.add(fnId);
    const uri = render(
      (method(route.method, route.path).properties.Integration as { Uri: unknown }).Uri,
    );
    expect(uri, route.id).toContain(`\${${fnId}.Arn}`);
    const entry = (fn.node.scope as KeygateFunction).entry;
    expect(entry).toMatch(/node_modules\/\.cache\/keygate\/team-routes\/[^/]+\.ts$/);
    const wrapper = readFileSync(entry, 'utf8');
    expect(wrapper).toContain(
      `import { handler as teamHandler } from ${JSON.stringify(join(INVOICES_DIR, route.handler))};`,
    );
    expect(wrapper).toContain(
      `export const handler = wrapTeamHandler(teamHandler, ${JSON.stringify({ access: route.access })});`,
    );
  }
  expect(functionIds.size).toBe(TEAM_ROUTES.length);
  return template;
}

describe('the example attached to the team’s own REST API (attach-stack.ts)', () => {
  let stack: Stack;
  let api: RestApi;
  let keygate: Keygate;
  let template: Template;
  let methods: TemplateMethod[];

  beforeAll(async () => {
    ({ stack, api, keygate } = await invoicesStack(newApp()));
    ({ template, methods } = synthesized(stack));
  });

  it('puts Keygate on the team’s API: no second REST API, no second stage', () => {
    const apis = Object.keys(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    const stages = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'));

    expect(keygate.api).toBe(api);
    expect(apis).toEqual([stack.getLogicalId(api.node.defaultChild as never)]);
    expect(stages.map((s) => s.Properties.StageName)).toEqual(['prod']);
    expect(keygate.stageName).toBe('prod');
  });

  it('serves Keygate’s routes, the team’s config’s routes and what the API had, nothing else', () => {
    expect(methods.map((m) => key(m.httpMethod, m.path)).sort()).toEqual(
      [
        ...ROUTE_LIST.map((r) => key(r.method, r.path)),
        ...TEAM_ROUTES.map((r) => key(r.method, r.path)),
        'GET /status',
      ].sort(),
    );
  });

  it('gives every method a key opens Keygate’s authorizer, and each team route its wrapped function', () => {
    expectKeygateOn(stack, keygate);
  });

  it('leaves the team’s own route as the team made it', () => {
    const status = methods.find((m) => key(m.httpMethod, m.path) === 'GET /status');

    expect(status?.properties.AuthorizationType).toBe('NONE');
    expect(status?.properties.Integration).toMatchObject({ Type: 'MOCK' });
  });

  it('answers in SendGrid’s envelope on the team’s API too (gateway responses)', () => {
    const responses = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse'));

    expect(responses.map((r) => referencedId(r.Properties.RestApiId))).toEqual(
      responses.map(() => stack.getLogicalId(api.node.defaultChild as never)),
    );
    expect(responses.map((r) => r.Properties.ResponseType)).toContain('ACCESS_DENIED');
  });
});

describe('the repository’s stack given the example’s config', () => {
  const stack = new KeygateStack(newApp(), 'Keygate', {
    deployment: { spec: loaded.spec, configDir: INVOICES_DIR },
  });

  it('adds the team’s routes to Keygate’s own API, each behind the authorizer', () => {
    const template = expectKeygateOn(stack, stack.keygate);

    expect(Object.keys(resourcesOf(template, 'AWS::ApiGateway::RestApi'))).toHaveLength(1);
    expect(methodsOf(template)).toHaveLength(ROUTE_LIST.length + TEAM_ROUTES.length);
  });
});

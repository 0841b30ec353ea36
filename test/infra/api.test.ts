import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Keygate } from '../../infra/constructs/keygate.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import {
  GATEWAY_RESPONSES,
  type GatewayResponseSpec,
  type GatewayResponseType,
  gatewayResponseTemplate,
  IDENTITY_SOURCES,
} from '../../shared/gateway/api-gateway.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import {
  keygateFunctionsOf,
  methodsOf,
  newApp,
  referencedId,
  render,
  resourceOf,
  resourcesOf,
  type TemplateMethod,
} from './support.js';

// One synth per file, shared by every assertion.
const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const methods = methodsOf(template);
const stage = onlyResource('AWS::ApiGateway::Stage');
// Stage logs need the account's CloudWatch role, so they are opt-in (`stageLogs: true`).
const loggedStack = new KeygateStack(newApp(), 'Logged', { stageLogs: true });
const loggedTemplate = Template.fromStack(loggedStack);
const loggedStage = Object.values(
  resourcesOf(loggedTemplate, 'AWS::ApiGateway::Stage'),
)[0] as typeof stage;
const authorizerId = Object.keys(resourcesOf(template, 'AWS::ApiGateway::Authorizer'))[0];

function onlyResource(type: string) {
  const [first, ...others] = Object.values(resourcesOf(template, type));
  if (!first || others.length > 0) throw new Error(`Expected exactly one ${type}`);
  return first;
}

const routeKey = (method: string, path: string) => `${method} ${path}`;
const logicalIdOf = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

function methodFor(method: string, path: string): TemplateMethod {
  const found = methods.find((m) => m.httpMethod === method && m.path === path);
  if (!found) throw new Error(`No method ${method} ${path}`);
  return found;
}

describe('the REST API', () => {
  it('is one regional REST API with one stage, prod', () => {
    const apis = Object.values(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    expect(apis).toHaveLength(1);
    expect(apis[0]?.Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    expect(Object.keys(resourcesOf(template, 'AWS::ApiGateway::Stage'))).toHaveLength(1);
    expect(stage.Properties.StageName).toBe('prod');
  });

  it('has exactly the methods of the route table: nothing missing, nothing else', () => {
    const actual = methods.map((m) => routeKey(m.httpMethod, m.path)).sort();
    const expected = ROUTE_LIST.map((r) => routeKey(r.method, r.path)).sort();

    expect(actual).toEqual(expected);
    expect(actual.some((m) => m.startsWith('OPTIONS') || m.startsWith('ANY'))).toBe(false);
  });

  it.each(
    ROUTE_LIST.filter((r) => r.access.kind === 'key').map((r) => [routeKey(r.method, r.path), r]),
  )('%s uses the REQUEST authorizer', (_key, route) => {
    const method = methodFor(route.method, route.path);

    expect(method.properties.AuthorizationType).toBe('CUSTOM');
    expect(referencedId(method.properties.AuthorizerId)).toBe(authorizerId);
  });

  it.each(
    ROUTE_LIST.filter((r) => r.access.kind === 'public').map((r) => [
      routeKey(r.method, r.path),
      r,
    ]),
  )('%s is public, as the route table says', (_key, route) => {
    const method = methodFor(route.method, route.path);

    expect(method.properties.AuthorizationType).toBe('NONE');
    expect(method.properties.AuthorizerId).toBeUndefined();
  });

  it.each(ROUTE_LIST.map((r) => [routeKey(r.method, r.path), r]))(
    '%s is a Lambda proxy integration of its own function',
    (_key, route) => {
      const method = methodFor(route.method, route.path);
      const integration = method.properties.Integration as { Type: string; Uri: unknown };
      const fn = stack.keygate.routeFunctions.get(route.id);
      if (!fn) throw new Error(`No function for ${route.id}`);

      expect(integration.Type).toBe('AWS_PROXY');
      expect(render(integration.Uri)).toContain(`\${${logicalIdOf(fn)}.Arn}`);
    },
  );

  it('declares path parameters as required, and attaches no body model', () => {
    for (const method of methods) {
      const parameters = [...method.path.matchAll(/\{([^}]+)\}/g)].map(
        (m) => `method.request.path.${m[1]}`,
      );
      expect(method.properties.RequestParameters ?? {}).toEqual(
        Object.fromEntries(parameters.map((p) => [p, true])),
      );
      expect(method.properties.RequestModels).toBeUndefined();
      expect(method.properties.RequestValidatorId).toBeDefined();
    }
    expect(resourcesOf(template, 'AWS::ApiGateway::Model')).toEqual({});
  });

  it('runs one REQUEST authorizer with the shared identity sources (the route among them) and a 300 s cache', () => {
    const authorizers = Object.values(resourcesOf(template, 'AWS::ApiGateway::Authorizer'));

    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]?.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: IDENTITY_SOURCES.join(','),
      AuthorizerResultTtlInSeconds: 300,
    });
    expect(JSON.stringify(authorizers[0]?.Properties.AuthorizerUri)).toContain(
      JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(stack.keygate.authorizerFunction), 'Arn'] }),
    );
  });
});

describe('gateway responses', () => {
  const responses = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse'));

  it('customise exactly the types of GATEWAY_RESPONSES', () => {
    expect(responses.map((r) => r.Properties.ResponseType).sort()).toEqual(
      Object.keys(GATEWAY_RESPONSES).sort(),
    );
  });

  it.each(Object.keys(GATEWAY_RESPONSES) as GatewayResponseType[])(
    '%s answers its status in SendGrid envelope, with its headers',
    (type) => {
      const response = responses.find((r) => r.Properties.ResponseType === type);
      const spec: GatewayResponseSpec = GATEWAY_RESPONSES[type];

      expect(response?.Properties.StatusCode).toBe(
        spec.status === undefined ? undefined : String(spec.status),
      );
      expect(response?.Properties.ResponseTemplates).toEqual({
        'application/json': gatewayResponseTemplate(type),
      });
      expect(response?.Properties.ResponseParameters).toEqual(
        spec.headers
          ? Object.fromEntries(
              Object.entries(spec.headers).map(([k, v]) => [
                `gatewayresponse.header.${k}`,
                `'${v}'`,
              ]),
            )
          : undefined,
      );
    },
  );

  it("keeps API Gateway's own status on the defaults (a status there would override 415, 429, 504…)", () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      const response = responses.find((r) => r.Properties.ResponseType === type);
      expect(response?.Properties.StatusCode).toBeUndefined();
      expect(JSON.stringify(response?.Properties.ResponseTemplates)).toContain(
        '$context.error.messageString',
      );
    }
  });

  it('answers a throwing authorizer (a storage outage) with 503 and Retry-After, as a failed one', () => {
    for (const type of ['AUTHORIZER_CONFIGURATION_ERROR', 'AUTHORIZER_FAILURE']) {
      const response = responses.find((r) => r.Properties.ResponseType === type);
      expect(response?.Properties.StatusCode).toBe('503');
      expect(response?.Properties.ResponseParameters).toEqual({
        'gatewayresponse.header.retry-after': "'1'",
      });
    }
  });

  it('answers unknown routes with 404, not API Gateway\'s 403 "Missing Authentication Token"', () => {
    const notFound = responses.find(
      (r) => r.Properties.ResponseType === 'MISSING_AUTHENTICATION_TOKEN',
    );
    expect(notFound?.Properties.StatusCode).toBe('404');
  });
});

describe('the stage', () => {
  const settings = (loggedStage.Properties.MethodSettings as Record<string, unknown>[])[0];
  const format = (loggedStage.Properties.AccessLogSetting as { Format: string }).Format;
  const fields = JSON.parse(format) as Record<string, string>;

  it('throttles the routes the table limits more tightly (the public leaked-key report)', () => {
    const limited = ROUTE_LIST.filter((r) => r.throttle);
    expect(limited.length).toBeGreaterThan(0);
    expect((loggedStage.Properties.MethodSettings as Record<string, unknown>[]).slice(1)).toEqual(
      limited.map((r) => ({
        HttpMethod: r.method,
        ResourcePath: `/${r.path.replaceAll('/', '~1')}`,
        ThrottlingRateLimit: r.throttle?.rateLimit,
        ThrottlingBurstLimit: r.throttle?.burstLimit,
        DataTraceEnabled: false,
      })),
    );
  });

  it('throttles every method (100 rps, burst 200) and logs only errors, never data', () => {
    expect(settings).toEqual({
      HttpMethod: '*',
      ResourcePath: '/*',
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
      LoggingLevel: 'ERROR',
      DataTraceEnabled: false,
    });
  });

  it('writes JSON access logs with the request, the outcome and the authorizer result', () => {
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      method: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      keyId: '$context.authorizer.keyId',
      accountId: '$context.authorizer.accountId',
      authorizerError: '$context.authorizer.error',
    });
  });

  it('never logs a header (the Authorization header above all), a body or a key', () => {
    for (const value of Object.values(fields)) {
      expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
      expect(value.toLowerCase()).not.toMatch(/header|authorization|userAgent|apikey|body|input/i);
    }
  });

  it('logs the route template, never the request path (a key sent in a path would be kept)', () => {
    expect(Object.values(fields)).not.toContain('$context.path');
    expect(Object.values(fields)).toContain('$context.resourcePath');
  });

  it('sends access logs to a log group with retention, and execution logs to a managed one', () => {
    const destination = (loggedStage.Properties.AccessLogSetting as { DestinationArn: unknown })
      .DestinationArn;
    const accessLogsId = /:log-group:\$\{(\w+)\}$/.exec(render(destination))?.[1];
    const accessLogs = resourceOf(loggedTemplate, accessLogsId ?? '');
    expect(accessLogs.Type).toBe('AWS::Logs::LogGroup');
    expect(accessLogs.Properties.RetentionInDays).toBe(30);

    const executionLogs = Object.values(resourcesOf(loggedTemplate, 'AWS::Logs::LogGroup')).filter(
      (g) => g.Properties.LogGroupName !== undefined,
    );
    expect(executionLogs.map((g) => render(g.Properties.LogGroupName))).toEqual([
      `API-Gateway-Execution-Logs_\${${loggedStack.getLogicalId(loggedStack.keygate.api.node.defaultChild as Parameters<typeof loggedStack.getLogicalId>[0])}}/prod`,
    ]);
    expect(executionLogs[0]?.Properties.RetentionInDays).toBe(30);
  });

  it("leaves API Gateway's account-wide CloudWatch role alone by default (it is one per account and region)", () => {
    expect(resourcesOf(template, 'AWS::ApiGateway::Account')).toEqual({});
    expect(
      Object.values(resourcesOf(template, 'AWS::IAM::Role')).filter((role) =>
        JSON.stringify(role.Properties).includes('AmazonAPIGatewayPushToCloudWatchLogs'),
      ),
    ).toEqual([]);
  });
});

describe('stage logs and the account CloudWatch role', () => {
  it('sets the account role only when asked (cloudWatchRole: true), kept when the stack goes', () => {
    const optedIn = Template.fromStack(
      new KeygateStack(newApp(), 'WithRole', { cloudWatchRole: true }),
    );
    const accounts = Object.values(resourcesOf(optedIn, 'AWS::ApiGateway::Account'));

    expect(accounts).toHaveLength(1);
    expect(accounts[0]?.DeletionPolicy).toBe('Retain');
    expect(render(accounts[0]?.Properties.CloudWatchRoleArn)).toMatch(
      /^\$\{\w+CloudWatchRole\w+\.Arn\}$/,
    );
  });

  it('by default writes neither access nor execution logs, so a plain deploy needs no account role', () => {
    const quietStage = stage;

    expect(quietStage?.Properties.AccessLogSetting).toBeUndefined();
    expect(
      (quietStage?.Properties.MethodSettings as Record<string, unknown>[] | undefined)?.[0],
    ).toEqual({
      HttpMethod: '*',
      ResourcePath: '/*',
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
      LoggingLevel: 'OFF',
      DataTraceEnabled: false,
    });
    const apiLogGroups = Object.keys(resourcesOf(template, 'AWS::Logs::LogGroup')).filter((id) =>
      /^Keygate(?:AccessLogs|ExecutionLogs)/.test(id),
    );
    expect(apiLogGroups).toEqual([]);
    expect(resourcesOf(template, 'AWS::ApiGateway::Account')).toEqual({});
    expect(template.findOutputs('ApiUrl')).not.toEqual({});
  });
});

describe('outputs', () => {
  it('are exactly the ones operators and the CLI read, none of them secret', () => {
    const outputs = template.findOutputs('*');

    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AccountsTableName',
        'ApiUrl',
        'AuditTableName',
        'ConsoleUrl',
        'DefaultKeyLimit',
        'KeyPrefix',
        'KeysTableName',
        'RestApiId',
        'StageName',
      ].sort(),
    );
    expect(outputs.RestApiId?.Value).toEqual({ Ref: logicalIdOf(stack.keygate.api) });
    expect(outputs.StageName?.Value).toBe('prod');
    expect(outputs.KeyPrefix?.Value).toBe('SG');
    expect(outputs.DefaultKeyLimit?.Value).toBe('100');
    expect(render(outputs.ApiUrl?.Value)).toMatch(
      /^https:\/\/\$\{KeygateApi\w+\}\.execute-api\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}\/\$\{KeygateApiDeploymentStageprod\w+\}\/$/,
    );
    expect(render(outputs.ConsoleUrl?.Value)).toMatch(
      /^https:\/\/\$\{KeygateConsoleDistribution\w+\.DomainName\}\/$/,
    );
  });
});

describe('no secrets in the template', () => {
  const json = JSON.stringify(template.toJSON());

  it('holds nothing shaped like a Keygate key, with any prefix', () => {
    expect(json).not.toMatch(/[A-Za-z][A-Za-z0-9_]{0,15}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/);
  });

  it('holds no AWS credentials, private keys or password-like settings', () => {
    expect(json).not.toMatch(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/);
    expect(json).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    expect(json).not.toMatch(/secret_?access|password|aws_session_token/i);
  });

  it('gives functions only known, non-secret settings (never the local outbox, nor an endpoint but the empty one SAM overrides)', () => {
    const allowed = new Set([
      'NODE_OPTIONS',
      'KEYGATE_DYNAMODB_ENDPOINT',
      'KEYGATE_KEYS_TABLE',
      'KEYGATE_ACCOUNTS_TABLE',
      'KEYGATE_AUDIT_TABLE',
      'KEYGATE_KEY_PREFIX',
      'KEYGATE_REST_API_ID',
      'KEYGATE_STAGE',
      'KEYGATE_FLUSH_TABLE',
      'KEYGATE_USAGE_TABLE',
      'KEYGATE_SES_IDENTITY',
      'KEYGATE_EXTRA_ROUTES',
      'KEYGATE_EVENT_BUS_NAME',
    ]);
    for (const fn of Object.values(keygateFunctionsOf(stack, template))) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
      for (const name of Object.keys(variables)) expect(allowed).toContain(name);
      expect(variables.KEYGATE_DYNAMODB_ENDPOINT).toBe('');
    }
  });
});

describe('props', () => {
  const custom = new KeygateStack(newApp(), 'Custom', {
    stageName: 'v3',
    authorizerCacheTtl: Duration.seconds(60),
    throttling: { rateLimit: 20, burstLimit: 40 },
    keyPrefix: 'KG',
    defaultKeyLimit: 25,
    cloudWatchRole: false,
  });
  const customTemplate = Template.fromStack(custom);

  it('set the stage, cache TTL, throttling, key prefix and key limit', () => {
    const customStage = Object.values(resourcesOf(customTemplate, 'AWS::ApiGateway::Stage'))[0];
    expect(customStage?.Properties).toMatchObject({
      StageName: 'v3',
      MethodSettings: expect.arrayContaining([
        expect.objectContaining({
          HttpMethod: '*',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        }),
      ]),
    });
    customTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      AuthorizerResultTtlInSeconds: 60,
    });
    for (const fn of Object.values(keygateFunctionsOf(custom, customTemplate))) {
      expect(fn.Properties.Environment).toEqual({
        Variables: expect.objectContaining({ KEYGATE_KEY_PREFIX: 'KG' }),
      });
    }
    expect(customTemplate.findOutputs('*')).toMatchObject({
      StageName: { Value: 'v3' },
      KeyPrefix: { Value: 'KG' },
      DefaultKeyLimit: { Value: '25' },
    });
  });

  it('leave the account CloudWatch role alone when told so explicitly', () => {
    expect(resourcesOf(customTemplate, 'AWS::ApiGateway::Account')).toEqual({});
  });

  it.each([
    [
      'a cache TTL over an hour',
      { authorizerCacheTtl: Duration.seconds(3601) },
      /authorizerCacheTtl/,
    ],
    ['a malformed key prefix', { keyPrefix: 'not-a-prefix' }, /prefix/i],
    ['a negative key limit', { defaultKeyLimit: -1 }, /defaultKeyLimit/],
    ['a zero rate limit', { throttling: { rateLimit: 0, burstLimit: 1 } }, /rateLimit/],
    ['an SES identity that is neither address nor domain', { sesIdentity: 'nope' }, /sesIdentity/],
    ['a stage name API Gateway refuses', { stageName: 'my stage' }, /stageName/],
  ])('refuse %s at synth', (_case, props, message) => {
    expect(() => new Keygate(new Stack(newApp(), 'Bad'), 'Keygate', props)).toThrow(message);
  });
});

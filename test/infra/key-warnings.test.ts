import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { WARNING_WRITE_ATTRIBUTES } from '../../shared/adapters/dynamodb/key-warnings.js';
import { DEFAULT_SPEC } from '../../shared/deployment/deployment.js';
import { newApp, referencedId, render, resourceOf, resourcesOf } from './support.js';

/**
 * The key-warnings scan on AWS (issue 17): an hourly EventBridge schedule invokes it, it is not
 * retried when it fails (the next hour catches up) and an alarm says so, and its role reads the
 * keys table, writes only the warnings' attributes of a key and appends to the audit log; the
 * stage's flush only where the config disables unused keys. No warning configured: no scan.
 */

function stackWith(warnings?: (typeof DEFAULT_SPEC)['warnings']) {
  const stack = new KeygateStack(newApp(), 'Keygate', {
    ...(warnings === undefined ? {} : { deployment: { spec: { ...DEFAULT_SPEC, warnings } } }),
  });
  const template = Template.fromStack(stack);
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);
  return { stack, template, idOf };
}

function statementsOf(template: Template, functionId: string) {
  const fn = resourceOf(template, functionId);
  const role = resourceOf(template, referencedId(fn.Properties.Role) ?? '');
  return (
    role.Properties.Policies as {
      PolicyDocument: {
        Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
      };
    }[]
  )
    .flatMap((p) => p.PolicyDocument.Statement)
    .filter((s) => ![s.Action].flat().every((a) => a.startsWith('logs:')));
}

describe('the key-warnings scan (default: expiry warnings on)', () => {
  const { stack, template, idOf } = stackWith();
  const scan = stack.keygate.keyWarnings;
  if (!scan) throw new Error('expected the scan by default');
  const fnId = idOf(scan.function);
  const keysId = idOf(stack.tables.keysTable);
  const auditId = idOf(stack.tables.auditTable);

  it('runs hourly on an EventBridge schedule that targets it', () => {
    const rule = resourceOf(template, idOf(scan.schedule));

    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } }),
    ]);
    // Only this rule may invoke it.
    const invokers = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'events.amazonaws.com',
    );
    expect(invokers).toHaveLength(1);
    expect(invokers[0]?.Properties.SourceArn).toEqual({
      'Fn::GetAtt': [idOf(scan.schedule), 'Arn'],
    });
  });

  it('has a timeout of its own, is not retried when it fails, and alarms on a failure', () => {
    const fn = resourceOf(template, fnId);
    const invokeConfigs = Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig'));
    const alarm = resourceOf(template, idOf(scan.alarm));

    expect(fn.Properties.Timeout).toBe(300);
    expect(invokeConfigs.map((c) => c.Properties)).toEqual([
      expect.objectContaining({ FunctionName: { Ref: fnId }, MaximumRetryAttempts: 0 }),
    ]);
    expect(alarm.Properties).toMatchObject({ Threshold: 1, Period: 3600, MetricName: 'Errors' });
    expect(String(alarm.Properties.AlarmDescription)).toMatch(/Runbook: \S/);
  });

  it('may scan the keys table, write only the warnings’ attributes of a key, append to the audit log', () => {
    const statements = statementsOf(template, fnId).map((s) => ({
      actions: [s.Action].flat().sort(),
      resource: render(s.Resource),
      condition: s.Condition,
    }));

    expect(statements).toEqual([
      { actions: ['dynamodb:Scan'], resource: `\${${keysId}.Arn}`, condition: undefined },
      {
        actions: ['dynamodb:UpdateItem'],
        resource: `\${${keysId}.Arn}`,
        condition: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...WARNING_WRITE_ATTRIBUTES] },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
        },
      },
      { actions: ['dynamodb:PutItem'], resource: `\${${auditId}.Arn}`, condition: undefined },
    ]);
    for (const attribute of ['scopeCodes', 'keyHash', 'name', 'previousKeyHash']) {
      expect(WARNING_WRITE_ATTRIBUTES).not.toContain(attribute);
    }
  });

  it('is given no flush when it disables nothing', () => {
    const variables = (
      resourceOf(template, fnId).Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;

    expect(variables.KEYGATE_FLUSH_TABLE).toBeUndefined();
    expect(JSON.stringify(statementsOf(template, fnId))).not.toContain('apigateway');
  });
});

describe('the key-warnings scan, configured', () => {
  it('flushes the stage through the lease where it disables unused keys', () => {
    const { stack, template, idOf } = stackWith({ unusedDays: 90, disableUnused: true });
    const fnId = idOf(stack.keygate.keyWarnings?.function as never);
    const actions = statementsOf(template, fnId).flatMap((s) => [s.Action].flat());
    const variables = (
      resourceOf(template, fnId).Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;

    expect(actions).toContain('apigateway:DELETE');
    expect(variables.KEYGATE_FLUSH_TABLE).toBeDefined();
    expect(variables.KEYGATE_REST_API_ID).toBeDefined();
  });

  it('is not made when the config turns every warning off', () => {
    const { stack, template } = stackWith({ expiryDays: [] });

    expect(stack.keygate.keyWarnings).toBeUndefined();
    template.resourceCountIs('AWS::Events::Rule', 0);
  });
});

import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { newApp, referencedId, render, resourceOf, resourcesOf } from './support.js';

const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);

describe('lifecycle events', () => {
  const publisherId = idOf(stack.keygate.auditEventsFunction);
  const auditTableId = idOf(stack.tables.auditTable);
  const busId = idOf(stack.keygate.eventBus);

  it('streams the audit table’s new images', () => {
    expect(resourceOf(template, auditTableId).Properties.StreamSpecification).toEqual({
      StreamViewType: 'NEW_IMAGE',
    });
  });

  it('has an event bus of its own, exposed as keygate.eventBus', () => {
    const buses = resourcesOf(template, 'AWS::Events::EventBus');

    expect(Object.keys(buses)).toEqual([busId]);
  });

  it('feeds the publisher the audit stream’s inserts, from the start of the stream', () => {
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).filter(
      (m) => referencedId(m.Properties.FunctionName) === publisherId,
    );

    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [auditTableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: false,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
    });
    // Retried until the records expire: no retry cap, no record age cap.
    expect(mappings[0]?.Properties.MaximumRetryAttempts).toBeUndefined();
  });

  it('lets the publisher read the audit stream and put on this bus, nothing else', () => {
    const fn = resourceOf(template, publisherId);
    const role = resourceOf(template, referencedId(fn.Properties.Role) ?? '');
    const statements = (
      role.Properties.Policies as {
        PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
      }[]
    ).flatMap((p) =>
      p.PolicyDocument.Statement.flatMap((s) =>
        [s.Action].flat().map((action) => `${action} ${render(s.Resource)}`),
      ),
    );

    expect(statements.filter((s) => !s.startsWith('logs:')).sort()).toEqual([
      `dynamodb:DescribeStream \${${auditTableId}.StreamArn}`,
      `dynamodb:GetRecords \${${auditTableId}.StreamArn}`,
      `dynamodb:GetShardIterator \${${auditTableId}.StreamArn}`,
      `dynamodb:ListStreams \${${auditTableId}.StreamArn}`,
      `events:PutEvents \${${busId}.Arn}`,
    ]);
    // Its own log group only, as every function.
    expect(statements.filter((s) => s.startsWith('logs:')).map((s) => s.split(' ')[0])).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(fn.Properties.Environment).toMatchObject({
      Variables: { KEYGATE_EVENT_BUS_NAME: { Ref: busId } },
    });
  });

  it('gives no other function the bus or the audit stream', () => {
    for (const [id, role] of Object.entries(resourcesOf(template, 'AWS::IAM::Role'))) {
      const text = JSON.stringify(role.Properties.Policies ?? []);
      const publisherRole = referencedId(resourceOf(template, publisherId).Properties.Role);
      if (id === publisherRole) continue;
      expect(text, id).not.toContain('events:PutEvents');
      expect(text, id).not.toContain(`"${auditTableId}","StreamArn"`);
    }
  });
});

import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { FLUSH_MARK } from '../../shared/adapters/dynamodb/flush-lease.js';
import { FLUSH_METRICS } from '../../shared/domain/flush-coalescing.js';
import { newApp, referencedId, resourceOf, resourcesOf } from './support.js';

const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);

describe('coalesced authorizer-cache flushes', () => {
  const flusherId = logicalId(stack.keygate.cacheFlusher.function);
  const leaseTableId = logicalId(stack.tables.flushTable);

  it('streams the lease table’s new images', () => {
    const table = resourceOf(template, leaseTableId);

    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('wakes the trailing flusher for marks only, from the start of the stream, one shard batch at a time', () => {
    // The flusher's only (the lifecycle-events publisher has its own: lifecycle-events.test.ts).
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).filter(
      (m) => referencedId(m.Properties.FunctionName) === flusherId,
    );

    expect(mappings).toHaveLength(1);
    const [mapping] = mappings;
    expect(referencedId(mapping?.Properties.FunctionName)).toBe(flusherId);
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [leaseTableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: false,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              dynamodb: { NewImage: { lastWrite: { S: [FLUSH_MARK] } } },
            }),
          },
        ],
      },
    });
    // Retried until the records expire (no retry cap, no record age cap): the lease keeps the
    // marks, so a retry resumes the work rather than repeating it.
    expect(mapping?.Properties.MaximumRetryAttempts).toBeUndefined();
    expect(mapping?.Properties.ParallelizationFactor).toBeUndefined();
  });

  it('gives the flusher the stage’s flush, the lease item and the lease’s stream, nothing else', () => {
    const fn = resourceOf(template, flusherId);
    const role = resourceOf(template, referencedId(fn.Properties.Role) ?? '');
    const statements = (
      role.Properties.Policies as { PolicyDocument: { Statement: { Action: unknown }[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => s.Action));

    expect(statements.sort()).toEqual(
      [
        'apigateway:DELETE',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    expect(fn.Properties.Environment).toMatchObject({
      Variables: {
        KEYGATE_FLUSH_TABLE: { Ref: leaseTableId },
        KEYGATE_STAGE: 'prod',
      },
    });
  });

  it('alarms when a revocation waited past its bound, and when the flusher fails', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
    const bound = alarms.find((a) => a.Properties.MetricName === FLUSH_METRICS.boundMissed);
    const failing = alarms.find(
      (a) =>
        a.Properties.MetricName === 'Errors' &&
        JSON.stringify(a.Properties.Dimensions).includes(flusherId),
    );

    expect(bound?.Properties).toMatchObject({
      Namespace: 'Keygate',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(String(bound?.Properties.AlarmDescription)).toContain('Runbook');
    expect(failing?.Properties).toMatchObject({ Threshold: 1, Period: 60, Statistic: 'Sum' });
    expect(String(failing?.Properties.AlarmDescription)).toContain('Runbook');
  });
});

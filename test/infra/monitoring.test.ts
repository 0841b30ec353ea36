import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MONITORING_ALARMS } from '../../infra/constructs/keygate-monitoring.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { FLUSH_METRICS } from '../../shared/domain/flush-coalescing.js';
import { TABLES } from '../../shared/tables.js';
import { type CfnResource, newApp, resourcesOf } from './support.js';

const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const quiet = new KeygateStack(newApp(), 'Quiet', { monitoring: false });
const quietTemplate = Template.fromStack(quiet);

const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);
const AUTHORIZER = idOf(stack.keygate.authorizerFunction);

const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
/** The alarm whose description is this spec's (the runbook text is the alarm's identity). */
function alarmOf(description: string): CfnResource[] {
  return Object.values(alarms).filter((a) => a.Properties.AlarmDescription === description);
}

describe('monitoring (default: on)', () => {
  it('makes one dashboard with the widgets an operator needs', () => {
    const dashboards = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));

    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const title of [
      'Requests',
      '4xx and 5xx',
      'Latency (ms)',
      'Authorizer duration (ms)',
      'Authorizer errors and throttles',
      'Function errors',
      'Authorizer-cache flushes',
      'DynamoDB consumed capacity',
      'DynamoDB throttled events',
      'Lifecycle events publisher',
      'Authorizer decisions',
      'Unavailable (503) by dependency',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    for (const metric of [
      '"AWS/ApiGateway\\",\\"Count',
      '4XXError',
      '5XXError',
      'IntegrationLatency',
      FLUSH_METRICS.failed,
      FLUSH_METRICS.deferred,
      FLUSH_METRICS.delay,
      FLUSH_METRICS.boundMissed,
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
      'IteratorAge',
      'SEARCH(',
      'AuthorizerDecision',
      'ServiceUnavailable',
    ]) {
      expect(body).toContain(metric);
    }
  });

  it('alarms on authorizer errors', () => {
    const spec = MONITORING_ALARMS.authorizerErrors;
    const [alarm] = alarmOf(spec.description);

    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: AUTHORIZER } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on the authorizer’s p99 duration', () => {
    const [alarm] = alarmOf(MONITORING_ALARMS.authorizerP99Duration.description);

    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: AUTHORIZER } }],
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: 1000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on the stage’s 5xx rate (Average of 5XXError, by ApiName and Stage)', () => {
    const [alarm] = alarmOf(MONITORING_ALARMS.api5xxRate.description);

    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Average',
      Period: 300,
      Threshold: 0.05,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const dimensions = alarm?.Properties.Dimensions as { Name: string; Value: unknown }[];
    expect(dimensions.map((d) => d.Name).sort()).toEqual(['ApiName', 'Stage']);
    // A Stage's Ref is its name.
    expect(dimensions.find((d) => d.Name === 'Stage')?.Value).toEqual({
      Ref: idOf(stack.keygate.api.deploymentStage),
    });
    expect(dimensions.find((d) => d.Name === 'ApiName')?.Value).toBe(stack.keygate.api.restApiName);
  });

  it('alarms on failed authorizer-cache flushes (Keygate/AuthorizerCacheFlushFailed, service keygate)', () => {
    const [alarm] = alarmOf(MONITORING_ALARMS.flushFailures.description);

    expect(alarm?.Properties).toMatchObject({
      Namespace: 'Keygate',
      MetricName: 'AuthorizerCacheFlushFailed',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    // Powertools' service dimension, as the functions write it (metric-dimensions.test.ts).
    expect(alarm?.Properties.Dimensions).toEqual([{ Name: 'service', Value: 'keygate' }]);
  });

  it('alarms when the lifecycle-events publisher keeps failing', () => {
    const [alarm] = alarmOf(MONITORING_ALARMS.auditEventsFailing.description);

    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: idOf(stack.keygate.auditEventsFunction) } },
      ],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on DynamoDB throttles per table, its indexes included', () => {
    const throttles = alarmOf(MONITORING_ALARMS.tableThrottles.description);

    expect(throttles).toHaveLength(TABLES.length);
    for (const definition of TABLES) {
      const table = stack.tables.tables.get(definition);
      if (!table) throw new Error(definition.suffix);
      const tableId = idOf(table);
      const alarm = throttles.find((a) => JSON.stringify(a.Properties.Metrics).includes(tableId));
      expect(alarm?.Properties).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      const metrics = alarm?.Properties.Metrics as {
        Id: string;
        Expression?: string;
        ReturnData?: boolean;
        MetricStat?: {
          Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string }[] };
          Period: number;
          Stat: string;
        };
      }[];
      const expression = metrics.find((m) => m.Expression);
      expect(expression?.Expression).toMatch(/^SUM\(\[/);
      const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
      // Read and write events of the table and of each index.
      expect(stats).toHaveLength(2 * (1 + definition.indexes.length));
      for (const stat of stats) {
        expect(stat).toMatchObject({ Period: 60, Stat: 'Sum' });
        expect(stat.Metric.Namespace).toBe('AWS/DynamoDB');
        expect(['ReadThrottleEvents', 'WriteThrottleEvents']).toContain(stat.Metric.MetricName);
      }
      const indexNames = stats
        .map((s) => JSON.stringify(s.Metric.Dimensions))
        .filter((d) => d.includes('GlobalSecondaryIndexName'));
      expect(indexNames).toHaveLength(2 * definition.indexes.length);
    }
  });

  it('gives every alarm a runbook line', () => {
    for (const alarm of Object.values(alarms)) {
      expect(String(alarm.Properties.AlarmDescription)).toMatch(/Runbook: \S/);
    }
    // The new alarms (one per table for throttles), the trailing flusher's two and the
    // key-warnings scan's.
    expect(Object.keys(alarms)).toHaveLength(
      Object.keys(MONITORING_ALARMS).length - 1 + TABLES.length + 3,
    );
  });

  it('documents each alarm, its threshold and its runbook in docs/operations.md', () => {
    const doc = readFileSync('docs/operations.md', 'utf8');
    for (const spec of Object.values(MONITORING_ALARMS)) {
      expect(doc).toContain(spec.id);
      const runbook = spec.description.slice(spec.description.indexOf('Runbook: ') + 9);
      expect(doc).toContain(runbook);
    }
    expect(doc).toContain('RevocationBoundMissedAlarm');
    expect(doc).toContain('CacheFlusherFailingAlarm');
    expect(doc).toContain('KeyWarningsFailingAlarm');
  });
});

describe('monitoring: false', () => {
  it('makes no dashboard and none of the new alarms; the revocation and key-warnings alarms stay', () => {
    quietTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const left = Object.values(resourcesOf(quietTemplate, 'AWS::CloudWatch::Alarm'));

    expect(left).toHaveLength(3);
    expect(quiet.keygate.monitoring).toBeUndefined();
    for (const spec of Object.values(MONITORING_ALARMS)) {
      expect(left.some((a) => a.Properties.AlarmDescription === spec.description)).toBe(false);
    }
  });
});

import { Duration } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FLUSH_METRICS } from '../../shared/domain/flush-coalescing.js';
import {
  DEFAULT_METRIC_DIMENSIONS,
  METRIC_NAMES,
  METRICS_NAMESPACE,
} from '../../shared/observability/metrics.js';
import { TABLES, type TableDefinition } from '../../shared/tables.js';
import { pascalCase } from './names.js';

/**
 * The operator's alarms, one entry each: what they watch, how they trip, and the runbook line
 * that goes into the alarm's description (and, word for word, into docs/operations.md; a test
 * holds the two together). Thresholds assume a production stage with steady traffic; every alarm
 * treats missing data (no traffic) as not breaching.
 */
export interface MonitoringAlarmSpec {
  /** Construct ID of the alarm (and its name in docs/operations.md). */
  readonly id: string;
  readonly threshold: number;
  readonly period: Duration;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly comparisonOperator: ComparisonOperator;
  /** What it means, then `Runbook:` what to do. */
  readonly description: string;
}

const gte = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const gt = ComparisonOperator.GREATER_THAN_THRESHOLD;

export const MONITORING_ALARMS = {
  authorizerErrors: {
    id: 'AuthorizerErrorsAlarm',
    threshold: 5,
    period: Duration.minutes(5),
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparisonOperator: gte,
    description:
      'The authorizer function failed 5 or more times in 5 minutes: API Gateway answers those requests 500 (AuthorizerConfigurationException) and legitimate keys are refused. Runbook: read the Authorizer log group for the error (DynamoDB throttling or timeouts, a bad deployment); check the keys table throttle alarm; roll back the last deployment if it started with it.',
  },
  authorizerP99Duration: {
    id: 'AuthorizerP99DurationAlarm',
    threshold: 1_000,
    period: Duration.minutes(5),
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    comparisonOperator: gt,
    description:
      "The authorizer's p99 duration stayed above 1,000 ms for 15 minutes (it is normally one or two DynamoDB round trips): every uncached request waits for it. Runbook: compare with the keys table's latency and throttles; look for cold starts (Init Duration in the Authorizer logs) after a deployment; check the function is not starved of memory.",
  },
  api5xxRate: {
    id: 'Api5xxRateAlarm',
    threshold: 0.05,
    period: Duration.minutes(5),
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    comparisonOperator: gt,
    description:
      "More than 5 % of the stage's requests answered 5xx in 2 of the last 3 five-minute periods (5XXError, Average = rate). Runbook: find the failing routes in the functions' Errors on the dashboard and their log groups; authorizer errors also count here; a 504 means a function ran past API Gateway's 29 s; roll back a bad deployment.",
  },
  flushFailures: {
    id: 'AuthorizerCacheFlushFailuresAlarm',
    threshold: 5,
    period: Duration.minutes(5),
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparisonOperator: gte,
    description:
      "5 or more authorizer-cache flushes failed in 5 minutes (Keygate AuthorizerCacheFlushFailed): the trailing flusher retries them, but revoked keys may stay usable from the cache meanwhile (at most the cache TTL). Runbook: read the CacheFlusher and route functions' logs; TooManyRequestsException means another client uses API Gateway's control-plane quota (CloudFormation deployments, scripts); see docs/revocation.md.",
  },
  auditEventsFailing: {
    id: 'AuditEventsFailingAlarm',
    threshold: 1,
    period: Duration.minutes(5),
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    comparisonOperator: gte,
    description:
      "The lifecycle-events publisher failed in each of the last 3 five-minute periods: key and account changes wait in the audit table's stream instead of reaching the event bus, and are lost once 24 hours old. Runbook: read the AuditEvents log group (the batch's event IDs, EventBridge's error codes); check the bus still exists and the function's role may put on it; its IteratorAge on the dashboard says how far behind it is.",
  },
  tableThrottles: {
    id: 'ThrottlesAlarm',
    threshold: 1,
    period: Duration.minutes(1),
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    comparisonOperator: gte,
    description:
      "DynamoDB throttled reads or writes on this table (or its indexes) in 3 of the last 5 minutes: requests fail with 5xx or retry slowly. The tables are on-demand, so this is a hot partition or a table's throughput ceiling. Runbook: see which table and index in the dashboard's DynamoDB throttled events, and which operation in the table's ThrottledRequests (by Operation, in the DynamoDB console's Monitor tab); look for one account or key hammering the API (access logs); raise the table's on-demand maximum throughput if one is set.",
  },
} as const satisfies Record<string, MonitoringAlarmSpec>;

export interface KeygateMonitoringProps {
  /** The stage whose requests are watched (metrics by ApiName and Stage). */
  readonly stage: Stage;
  readonly authorizer: IFunction;
  /** The trailing flusher (its own alarm lives with it). */
  readonly cacheFlusher: IFunction;
  /** The lifecycle-events publisher on the audit table's stream. */
  readonly auditEvents: IFunction;
  /** Every function of the deployment, for the dashboard's errors and durations. */
  readonly functions: ReadonlyMap<string, IFunction>;
  readonly tables: ReadonlyMap<TableDefinition, TableV2>;
}

/**
 * A CloudWatch dashboard and the operator's alarms ({@link MONITORING_ALARMS}); docs/operations.md
 * is their runbook. Metric names and dimensions are AWS's:
 * - API Gateway (`AWS/ApiGateway`, dimensions ApiName and Stage): Count, 4XXError, 5XXError
 *   ("The Average statistic represents the 5XXError error rate"), Latency, IntegrationLatency
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
 * - Lambda (`AWS/Lambda`, dimension FunctionName): Errors, Duration, Throttles, IteratorAge
 *   (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
 * - DynamoDB (`AWS/DynamoDB`): ReadThrottleEvents and WriteThrottleEvents by TableName (the
 *   table only; an index's by TableName and GlobalSecondaryIndexName), ThrottledRequests by
 *   TableName and Operation, ConsumedRead/WriteCapacityUnits by TableName
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html,
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingThrottling-cloudwatch.html).
 * - Keygate's own (`Keygate`, written as EMF by Powertools Metrics, all with its `service`
 *   dimension, `keygate`): the flush metrics of `FLUSH_METRICS` (no other dimension), and
 *   `METRIC_NAMES` (AuthorizerDecision by Outcome and Reason, ServiceUnavailable by Dependency).
 */
export class KeygateMonitoring extends Construct {
  readonly dashboard: Dashboard;
  /** Every alarm made here, by construct ID. */
  readonly alarms: ReadonlyMap<string, Alarm>;

  constructor(scope: Construct, id: string, props: KeygateMonitoringProps) {
    super(scope, id);
    const { stage, authorizer } = props;
    const alarms = new Map<string, Alarm>();
    const alarm = (spec: MonitoringAlarmSpec, metric: IMetric, idPrefix = ''): Alarm => {
      const made = new Alarm(this, `${idPrefix}${spec.id}`, {
        alarmDescription: spec.description,
        metric,
        threshold: spec.threshold,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        comparisonOperator: spec.comparisonOperator,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarms.set(`${idPrefix}${spec.id}`, made);
      return made;
    };

    const A = MONITORING_ALARMS;
    alarm(
      A.authorizerErrors,
      authorizer.metricErrors({ statistic: Stats.SUM, period: A.authorizerErrors.period }),
    );
    alarm(
      A.authorizerP99Duration,
      authorizer.metricDuration({ statistic: Stats.p(99), period: A.authorizerP99Duration.period }),
    );
    alarm(
      A.api5xxRate,
      stage.metricServerError({ statistic: Stats.AVERAGE, period: A.api5xxRate.period }),
    );
    alarm(A.flushFailures, keygateMetric(FLUSH_METRICS.failed, Stats.SUM, A.flushFailures.period));
    alarm(
      A.auditEventsFailing,
      props.auditEvents.metricErrors({
        statistic: Stats.SUM,
        period: A.auditEventsFailing.period,
      }),
    );
    for (const definition of TABLES) {
      const table = props.tables.get(definition);
      if (!table) throw new Error(`No ${definition.suffix} table to watch`);
      alarm(
        A.tableThrottles,
        throttleEvents(table, definition, A.tableThrottles.period),
        `${pascalCase(definition.suffix)}Table`,
      );
    }
    this.alarms = alarms;

    const period = Duration.minutes(1);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        titleRow(),
        apiRow(props.stage, period),
        authorizerRow(props, period),
        flushRow(props, period),
        decisionsRow(period),
        eventsRow(props, period),
        tablesRow(props, period),
      ],
    });
  }
}

function tableOf(props: KeygateMonitoringProps, definition: TableDefinition): TableV2 {
  const table = props.tables.get(definition);
  if (!table) throw new Error(`No ${definition.suffix} table to watch`);
  return table;
}

/**
 * One of Keygate's own metrics, with the dimensions every one of them is written with (Powertools'
 * `service`: DEFAULT_METRIC_DIMENSIONS). Without them it would name a metric nothing writes.
 */
export function keygateMetric(name: string, statistic: string, period: Duration): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { ...DEFAULT_METRIC_DIMENSIONS },
    statistic,
    period,
  });
}

/**
 * Every dimension set a Keygate metric is written with under `dimensions` (beyond `service`), one
 * line each: a CloudWatch search, since the sets are known only from what was written.
 */
function keygateSearch(name: string, dimensions: readonly string[], period: Duration) {
  const schema = [METRICS_NAMESPACE, ...dimensions, ...Object.keys(DEFAULT_METRIC_DIMENSIONS)];
  return new MathExpression({
    expression: `SEARCH('{${schema.join(',')}} MetricName="${name}"', 'Sum', ${period.toSeconds()})`,
    usingMetrics: {},
    period,
  });
}

/**
 * A table's throttled read and write events, its indexes' included: ReadThrottleEvents and
 * WriteThrottleEvents by TableName count the table only, an index's need
 * GlobalSecondaryIndexName too (AWS's metrics-dimensions page, above). An alarm's metric math
 * may use at most 10 metrics: the keys table, the widest, has 6.
 */
function throttleEvents(
  table: TableV2,
  definition: TableDefinition,
  period: Duration,
  label = 'throttled events',
): MathExpression {
  // IDs unique across tables: one graph shows every table's expression.
  const usingMetrics: Record<string, IMetric> = {};
  const scopes: Record<string, string>[] = [
    {},
    ...definition.indexes.map((i) => ({ GlobalSecondaryIndexName: i.indexName })),
  ];
  scopes.forEach((dimensions, i) => {
    for (const [key, name] of [
      ['r', 'ReadThrottleEvents'],
      ['w', 'WriteThrottleEvents'],
    ] as const) {
      usingMetrics[`${definition.suffix}${key}${i}`] = table.metric(name, {
        statistic: Stats.SUM,
        period,
        dimensionsMap: { TableName: table.tableName, ...dimensions },
      });
    }
  });
  // SUM of an array adds the series at each time stamp; `a + b` would be empty wherever one of
  // them has no data point, and these metrics have none until something is throttled.
  return new MathExpression({
    expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
    usingMetrics,
    period,
    label,
  });
}

/** The dashboard's heading: where the runbook is. */
function titleRow(): IWidget[] {
  return [
    new TextWidget({
      markdown:
        '# Keygate\nAlarms and what to do about each: docs/operations.md. Flush metrics: docs/revocation.md.',
      width: 24,
      height: 2,
    }),
  ];
}

/** API Gateway: requests, errors, latency. */
function apiRow(stage: Stage, period: Duration): IWidget[] {
  const apiMetric = (m: Metric, label: string) => m.with({ label, period });
  return [
    new GraphWidget({
      title: 'Requests',
      left: [apiMetric(stage.metricCount({ statistic: Stats.SUM }), 'Count')],
      width: 8,
    }),
    new GraphWidget({
      title: '4xx and 5xx',
      left: [
        apiMetric(stage.metricClientError({ statistic: Stats.SUM }), '4XXError'),
        apiMetric(stage.metricServerError({ statistic: Stats.SUM }), '5XXError'),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Latency (ms)',
      left: [
        apiMetric(stage.metricLatency({ statistic: Stats.p(50) }), 'Latency p50'),
        apiMetric(stage.metricLatency({ statistic: Stats.p(99) }), 'Latency p99'),
        apiMetric(
          stage.metricIntegrationLatency({ statistic: Stats.p(99) }),
          'IntegrationLatency p99',
        ),
      ],
      width: 8,
    }),
  ];
}

/** The authorizer, and every function's errors. */
function authorizerRow(props: KeygateMonitoringProps, period: Duration): IWidget[] {
  const { authorizer } = props;
  return [
    new GraphWidget({
      title: 'Authorizer duration (ms)',
      left: [
        authorizer.metricDuration({ statistic: Stats.p(50), period, label: 'p50' }),
        authorizer.metricDuration({ statistic: Stats.p(99), period, label: 'p99' }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Authorizer errors and throttles',
      left: [
        authorizer.metricErrors({ statistic: Stats.SUM, period, label: 'Errors' }),
        authorizer.metricThrottles({ statistic: Stats.SUM, period, label: 'Throttles' }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Function errors',
      left: [...props.functions].map(([name, fn]) =>
        fn.metricErrors({ statistic: Stats.SUM, period, label: name }),
      ),
      width: 8,
    }),
  ];
}

/** Authorizer-cache flushes and the trailing flusher. */
function flushRow(props: KeygateMonitoringProps, period: Duration): IWidget[] {
  return [
    new GraphWidget({
      title: 'Authorizer-cache flushes',
      left: [
        keygateMetric(FLUSH_METRICS.failed, Stats.SUM, period),
        keygateMetric(FLUSH_METRICS.deferred, Stats.SUM, period),
        keygateMetric(FLUSH_METRICS.boundMissed, Stats.SUM, period),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Deferred revocation delay (ms)',
      left: [
        keygateMetric(FLUSH_METRICS.delay, Stats.p(50), period),
        keygateMetric(FLUSH_METRICS.delay, Stats.MAXIMUM, period),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Trailing flusher',
      left: [
        props.cacheFlusher.metricErrors({ statistic: Stats.SUM, period, label: 'Errors' }),
        props.cacheFlusher.metricInvocations({
          statistic: Stats.SUM,
          period,
          label: 'Invocations',
        }),
      ],
      width: 8,
    }),
  ];
}

/** Keygate's own counts: decisions and unavailable answers. */
function decisionsRow(period: Duration): IWidget[] {
  return [
    new GraphWidget({
      title: 'Authorizer decisions',
      left: [keygateSearch(METRIC_NAMES.authorizerDecision, ['Outcome', 'Reason'], period)],
      width: 12,
    }),
    new GraphWidget({
      title: 'Unavailable (503) by dependency',
      left: [keygateSearch(METRIC_NAMES.serviceUnavailable, ['Dependency'], period)],
      width: 12,
    }),
  ];
}

/** The lifecycle-events publisher, and how far behind the audit log it is. */
function eventsRow(props: KeygateMonitoringProps, period: Duration): IWidget[] {
  return [
    new GraphWidget({
      title: 'Lifecycle events publisher',
      left: [
        props.auditEvents.metricErrors({ statistic: Stats.SUM, period, label: 'Errors' }),
        props.auditEvents.metricInvocations({
          statistic: Stats.SUM,
          period,
          label: 'Invocations',
        }),
      ],
      // How old the last record it read was: how far behind the bus is the audit log.
      right: [
        props.auditEvents.metric('IteratorAge', {
          statistic: Stats.MAXIMUM,
          period,
          label: 'IteratorAge (ms)',
        }),
      ],
      width: 24,
    }),
  ];
}

/** DynamoDB capacity and throttles, per table. */
function tablesRow(props: KeygateMonitoringProps, period: Duration): IWidget[] {
  return [
    new GraphWidget({
      title: 'DynamoDB consumed capacity',
      left: TABLES.map((d) =>
        tableOf(props, d).metricConsumedReadCapacityUnits({
          period,
          label: `${d.suffix} read`,
        }),
      ),
      right: TABLES.map((d) =>
        tableOf(props, d).metricConsumedWriteCapacityUnits({
          period,
          label: `${d.suffix} write`,
        }),
      ),
      width: 12,
    }),
    new GraphWidget({
      title: 'DynamoDB throttled events',
      left: TABLES.map((d) => throttleEvents(tableOf(props, d), d, period, d.suffix)),
      width: 12,
    }),
  ];
}

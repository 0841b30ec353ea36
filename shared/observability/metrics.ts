import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.js';

/**
 * Keygate's CloudWatch metrics, through Powertools for AWS Lambda's Metrics: Embedded Metric
 * Format lines on stdout, which CloudWatch turns into metrics with no agent and no API call
 * (https://docs.aws.amazon.com/powertools/typescript/latest/features/metrics/). Dimensions stay
 * low-cardinality: never a key ID, an account or an address. The in-process tally lets tests and
 * the local runtime read the same counts.
 */
export const METRICS_NAMESPACE = 'Keygate';

/**
 * Powertools puts a `service` dimension on every metric it writes: `serviceName`, else
 * POWERTOOLS_SERVICE_NAME, else `service_undefined` (the `serviceName` option of
 * https://docs.aws.amazon.com/powertools/typescript/2.30.2/api/types/_aws-lambda-powertools_metrics.types.MetricsOptions.html;
 * 2.36.0's `setOptions` adds it to the default dimensions with no way to leave it out). CloudWatch
 * tells metrics apart by their whole dimension set, so an alarm on a Keygate metric names exactly
 * these (set here, not from the environment), or it watches a metric nothing writes.
 */
export const METRICS_SERVICE = 'keygate';
export const DEFAULT_METRIC_DIMENSIONS: Readonly<Record<'service', string>> = {
  service: METRICS_SERVICE,
};

/** Keygate's metrics beyond the flush metrics (`FLUSH_METRICS` of shared/domain/flush-coalescing.ts). */
export const METRIC_NAMES = {
  /** The authorizer's answer, by `Outcome` and `Reason` (`decisionDimensions`, shared/gateway/authorize.ts). */
  authorizerDecision: 'AuthorizerDecision',
  /** A route answered 503 because a dependency failed, by `Dependency` (`storage`, `mail`). */
  serviceUnavailable: 'ServiceUnavailable',
  /** A request refused by its route's per-source limit, by `Route` (the local emulator only; WAF's on AWS). */
  sourceLimited: 'SourceLimited',
} as const;

/**
 * Powertools' own warnings, in Keygate's logs. It warns on every publish with no metric, which is
 * most requests: its maintainers' answer is a custom logger
 * (https://github.com/aws-powertools/powertools-lambda-typescript/issues/2036), and that warning
 * alone goes to DEBUG.
 */
const powertoolsWarnings = {
  debug: (message: unknown) => logger.debug(String(message)),
  info: (message: unknown) => logger.info(String(message)),
  warn: (message: unknown) =>
    String(message).startsWith('No application metrics')
      ? logger.debug(String(message))
      : logger.warn(String(message)),
  error: (message: unknown) => logger.error(String(message)),
};

function newMetrics(dimensions?: Record<string, string>): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: METRICS_SERVICE,
    logger: powertoolsWarnings,
    ...(dimensions ? { singleMetric: true, defaultDimensions: dimensions } : {}),
  });
}

let buffered: Metrics | undefined;

/**
 * The buffered metrics (those with no dimension beyond `service`): written when the invocation
 * ends, by Powertools' `logMetrics` middleware on the middy handlers and by {@link publishMetrics}
 * in the others. Made on first use, not on import: Powertools reads its settings from the
 * environment when an instance is made (test/helpers/metrics-on.ts sets them after shared code is
 * already imported).
 */
export function bufferedMetrics(): Metrics {
  buffered ??= newMetrics();
  return buffered;
}

/**
 * A metric with its own dimensions is written at once, as a single metric: in the shared buffer
 * its dimensions would be every buffered metric's. One instance per dimension set, made once
 * (a `singleMetric()` per count would make a Metrics, and its Console, per request).
 */
const singles = new Map<string, Metrics>();

function singleFor(dimensions: Record<string, string>): Metrics {
  const key = JSON.stringify(dimensions);
  let single = singles.get(key);
  if (!single) {
    single = newMetrics(dimensions);
    singles.set(key, single);
  }
  return single;
}

const tally = new Map<string, number>();

function record(name: string, dimensions: Record<string, string>): void {
  for (const key of [name, `${name} ${JSON.stringify(dimensions)}`]) {
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
}

export function countMetric(name: string, dimensions: Record<string, string> = {}): void {
  record(name, dimensions);
  if (Object.keys(dimensions).length === 0) bufferedMetrics().addMetric(name, MetricUnit.Count, 1);
  else singleFor(dimensions).addMetric(name, MetricUnit.Count, 1);
}

/** One measurement (a duration in milliseconds), as a metric CloudWatch keeps percentiles of. */
export function millisecondsMetric(name: string, value: number): void {
  record(name, {});
  bufferedMetrics().addMetric(name, MetricUnit.Milliseconds, value);
}

/** Writes the buffered metrics: at the end of every invocation of a handler without middy. */
export function publishMetrics(): void {
  bufferedMetrics().publishStoredMetrics();
}

/**
 * How many times `name` was counted (or measured) in this process; with `dimensions`, under
 * exactly those.
 */
export function metricCount(name: string, dimensions?: Record<string, string>): number {
  return tally.get(dimensions ? `${name} ${JSON.stringify(dimensions)}` : name) ?? 0;
}

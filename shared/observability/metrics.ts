/**
 * Counters in CloudWatch's Embedded Metric Format: one JSON line per count, which CloudWatch turns
 * into a metric with no agent and no SDK call. Dimensions stay low-cardinality (never a key ID).
 * The in-process tally lets tests and the local runtime read the same counts.
 */
export const METRICS_NAMESPACE = 'Keygate';
const NAMESPACE = METRICS_NAMESPACE;
const tally = new Map<string, number>();

export function countMetric(
  name: string,
  dimensions: Record<string, string> = {},
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): void {
  tally.set(name, (tally.get(name) ?? 0) + 1);
  write(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: NAMESPACE,
            Dimensions: [Object.keys(dimensions)],
            Metrics: [{ Name: name, Unit: 'Count' }],
          },
        ],
      },
      ...dimensions,
      [name]: 1,
    }),
  );
}

/** One measurement (a duration in milliseconds), as a metric CloudWatch keeps percentiles of. */
export function millisecondsMetric(
  name: string,
  value: number,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): void {
  tally.set(name, (tally.get(name) ?? 0) + 1);
  write(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: NAMESPACE,
            Dimensions: [[]],
            Metrics: [{ Name: name, Unit: 'Milliseconds' }],
          },
        ],
      },
      [name]: value,
    }),
  );
}

/** How many times `name` was counted (or measured) in this process. */
export function metricCount(name: string): number {
  return tally.get(name) ?? 0;
}

/**
 * Counters in CloudWatch's Embedded Metric Format: one JSON line per count, which CloudWatch turns
 * into a metric with no agent and no SDK call. Dimensions stay low-cardinality (never a key ID).
 * The in-process tally lets tests and the local runtime read the same counts.
 */
const NAMESPACE = 'Keygate';
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

/** How many times `name` was counted in this process. */
export function metricCount(name: string): number {
  return tally.get(name) ?? 0;
}

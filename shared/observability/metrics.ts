/**
 * Counters in CloudWatch's Embedded Metric Format: one JSON line per count, which CloudWatch turns
 * into a metric with no agent and no SDK call. Dimensions stay low-cardinality (never a key ID).
 * The in-process tally lets tests and the local runtime read the same counts.
 */
export const METRICS_NAMESPACE = 'Keygate';
const NAMESPACE = METRICS_NAMESPACE;
const tally = new Map<string, number>();

type Write = (line: string) => void;
const stdout: Write = (line) => process.stdout.write(`${line}\n`);

/** One EMF line: `value` of metric `name`, in `unit`, under these dimensions. */
function emit(
  name: string,
  value: number,
  unit: 'Count' | 'Milliseconds',
  dimensions: Record<string, string>,
  write: Write,
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
            Metrics: [{ Name: name, Unit: unit }],
          },
        ],
      },
      ...dimensions,
      [name]: value,
    }),
  );
}

export function countMetric(
  name: string,
  dimensions: Record<string, string> = {},
  write: Write = stdout,
): void {
  emit(name, 1, 'Count', dimensions, write);
}

/** One measurement (a duration in milliseconds), as a metric CloudWatch keeps percentiles of. */
export function millisecondsMetric(name: string, value: number, write: Write = stdout): void {
  emit(name, value, 'Milliseconds', {}, write);
}

/** How many times `name` was counted (or measured) in this process. */
export function metricCount(name: string): number {
  return tally.get(name) ?? 0;
}
